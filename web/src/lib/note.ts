// The note editor's model: the edit request from what the clinician changed, evidence
// links (segment ids today; segment + character span + quote when the API gives them).
import { SOAP_SECTIONS, type NoteContent, type SoapSection } from "../api/types";

export interface DraftSentence {
  id?: string;
  text: string;
  evidence: unknown[];
}
export type DraftContent = Record<SoapSection, DraftSentence[]>;

export function draftFrom(c: NoteContent): DraftContent {
  const d = {} as DraftContent;
  for (const s of SOAP_SECTIONS) d[s] = (c[s] ?? []).map((x) => ({ id: x.id, text: x.text, evidence: [...((x.evidence ?? []) as unknown[])] }));
  return d;
}

/**
 * The content of PUT /v1/notes/{id} (and amend): kept sentences carry their id (their
 * evidence stays), new ones none, removed ones are left out; blank sentences are dropped.
 */
export function editContent(d: DraftContent): Record<SoapSection, { id?: string; text: string }[]> {
  const out = {} as Record<SoapSection, { id?: string; text: string }[]>;
  for (const s of SOAP_SECTIONS) {
    out[s] = d[s].filter((x) => x.text.trim() !== "").map((x) => (x.id ? { id: x.id, text: x.text.trim() } : { text: x.text.trim() }));
  }
  return out;
}

export function changed(a: DraftContent, b: DraftContent): boolean {
  return JSON.stringify(editContent(a)) !== JSON.stringify(editContent(b));
}

/** An evidence link, whatever its form: a segment id, or a span of a segment. */
export interface EvidenceRef {
  segmentId: string;
  start?: number;
  end?: number;
  quote?: string;
}

export function evidenceRef(e: unknown): EvidenceRef | null {
  if (typeof e === "string") return { segmentId: e };
  if (e && typeof e === "object") {
    const o = e as Record<string, unknown>;
    const seg = o.segmentId ?? o.segment ?? o.id;
    if (typeof seg !== "string") return null;
    const num = (v: unknown) => (typeof v === "number" ? v : undefined);
    return {
      segmentId: seg,
      start: num(o.start) ?? num(o.startChar) ?? num(o.charStart),
      end: num(o.end) ?? num(o.endChar) ?? num(o.charEnd),
      quote: typeof o.quote === "string" ? o.quote : undefined,
    };
  }
  return null;
}

/** The evidence a sentence points at: its spans when the API gives them, else its segments whole. */
export function sentenceEvidence(x: { evidence?: unknown[] | null; spans?: unknown[] | null }): EvidenceRef[] {
  const spans = (x.spans ?? []).map(evidenceRef).filter((r): r is EvidenceRef => r !== null);
  const withSpans = new Set(spans.map((r) => r.segmentId));
  const whole = (x.evidence ?? []).map(evidenceRef).filter((r): r is EvidenceRef => r !== null && !withSpans.has(r.segmentId));
  return [...spans, ...whole];
}

/**
 * Splits a segment's text into plain and highlighted parts for the given spans, whose
 * start and end count Unicode code points (as the API's spans do); a span without
 * bounds highlights the whole segment.
 */
export function highlightParts(text: string, spans: { start?: number; end?: number }[]): { text: string; mark: boolean }[] {
  if (spans.length === 0) return [{ text, mark: false }];
  if (spans.some((s) => s.start === undefined || s.end === undefined)) return [{ text, mark: true }];
  const cps = Array.from(text);
  const marks = new Array<boolean>(cps.length).fill(false);
  for (const s of spans) for (let i = Math.max(0, s.start!); i < Math.min(cps.length, s.end!); i++) marks[i] = true;
  const parts: { text: string; mark: boolean }[] = [];
  cps.forEach((c, i) => {
    const last = parts.at(-1);
    if (last && last.mark === marks[i]) last.text += c;
    else parts.push({ text: c, mark: marks[i] });
  });
  return parts;
}

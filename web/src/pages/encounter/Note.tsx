// The note: the SOAP draft with every sentence's evidence highlighted in the transcript,
// editing, submit, approve (a signature: the API may ask for the password again), reject,
// amend, versions, and the FHIR and PDF downloads.
import { useEffect, useMemo, useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError, get, post, request } from "../../api/client";
import { keys } from "../../api/queries";
import { SOAP_SECTIONS, type Note, type NoteVersion, type Schemas, type SoapSection } from "../../api/types";
import { useMe } from "../../auth/session";
import { formatDateTime } from "../../lib/format";
import { changed, draftFrom, editContent, highlightParts, sentenceEvidence, type DraftContent, type EvidenceRef } from "../../lib/note";
import { buildPdf, type PdfLine } from "../../lib/pdf";
import { humanize } from "../../lib/triage";
import { Dialog } from "../../ui/dialog";
import { TextArea } from "../../ui/controls";
import { ErrorNotice, Loading, Notice } from "../../ui/feedback";

const SECTION_LABEL: Record<SoapSection, string> = { subjective: "Subjective", objective: "Objective", assessment: "Assessment", plan: "Plan" };
const STATUS_TEXT: Record<Note["status"], string> = {
  draft: "Draft",
  pending_review: "Pending review",
  approved: "Approved",
  amended: "Amended (not yet approved)",
};

type Segment = Schemas["TranscriptSegment"];
type Transcript = Schemas["ScribeTranscript"];
type Sentence = Schemas["NoteSentence"];

/** The session's transcript (GET /v1/scribe/sessions/{id}/transcript, doctors only), or why not. */
function useTranscript(sessionId: string | undefined, role: string) {
  return useQuery({
    queryKey: ["transcript", sessionId],
    enabled: !!sessionId && role === "doctor",
    retry: false,
    staleTime: Infinity,
    queryFn: async (): Promise<Transcript | null> => {
      try {
        return await get<Transcript>(`/v1/scribe/sessions/${encodeURIComponent(sessionId!)}/transcript`);
      } catch (e) {
        // Not transcribed yet, or deleted by the retention policy.
        if (e instanceof ApiError && e.status === 404) return null;
        throw e;
      }
    },
  });
}

export function NoteView({ noteId }: { noteId: string }) {
  const me = useMe();
  const qc = useQueryClient();
  const note = useQuery({
    queryKey: keys.note(noteId),
    queryFn: async () => (await request<Note>("GET", `/v1/notes/${encodeURIComponent(noteId)}`)).data,
  });
  const transcript = useTranscript(note.data?.sessionId, me.role);
  const [focus, setFocus] = useState<string | null>(null);
  const [editing, setEditing] = useState<DraftContent | null>(null);
  const [rejecting, setRejecting] = useState(false);
  const [showVersions, setShowVersions] = useState(false);
  const refresh = (n: Note) => qc.setQueryData(keys.note(noteId), n);
  const save = useMutation({
    mutationFn: (amend: boolean) =>
      request<Note>(amend ? "POST" : "PUT", `/v1/notes/${encodeURIComponent(noteId)}${amend ? "/amend" : ""}`, {
        body: { baseVersion: note.data!.currentVersion, content: editContent(editing!) },
      }),
    onSuccess: (r) => {
      refresh(r.data);
      setEditing(null);
    },
  });
  const action = useMutation({
    mutationFn: (what: "submit" | "approve") => post<Note>(`/v1/notes/${encodeURIComponent(noteId)}/${what}`, { baseVersion: note.data!.currentVersion }),
    onSuccess: refresh,
  });
  if (note.isLoading) return <Loading label="Opening the note" />;
  if (note.error) return <ErrorNotice error={note.error} onRetry={() => void note.refetch()} />;
  const n = note.data!;
  const sentence = focus ? SOAP_SECTIONS.flatMap((s) => n.content[s]).find((x) => x.id === focus) : undefined;
  const focusRefs = sentence ? sentenceEvidence(sentence) : [];
  const flagged = SOAP_SECTIONS.flatMap((sec) => n.content[sec]).filter((x) => (x.flags ?? []).length > 0).length;
  const canEdit = n.status === "draft" || n.status === "amended";
  const isDoctor = me.role === "doctor";
  return (
    <section className="space-y-3" aria-labelledby="note-title" data-testid="note">
      <div className="flex flex-wrap items-center gap-2">
        <h3 id="note-title" className="text-lg font-semibold">
          Note · {STATUS_TEXT[n.status]} · version {n.currentVersion}
        </h3>
        <span className="muted text-sm">
          drafted by {n.engine}
          {(n as Note & { fallbackReason?: string }).fallbackReason
            ? ` (the model's draft was not used: ${humanize((n as Note & { fallbackReason?: string }).fallbackReason!)})`
            : ""}
        </span>
      </div>
      {n.status === "approved" && n.approval && (
        <Notice tone="success">
          Approved {formatDateTime(n.approval.signedAt)} (version {n.approvedVersion}, SHA-256 {n.approval.sha256.slice(0, 12)}…).
        </Notice>
      )}
      {n.rejectionReason && n.status === "draft" && <Notice tone="warning">Sent back: {n.rejectionReason}</Notice>}
      {flagged > 0 && n.status !== "approved" && (
        <Notice tone="warning">
          {flagged} sentence{flagged > 1 ? "s" : ""} to check before signing: the scribe marked claims its sources do not support, or values it
          estimated.
        </Notice>
      )}
      {editing ? (
        <NoteEditor draft={editing} onChange={setEditing} />
      ) : (
        <div className="grid gap-4 lg:grid-cols-2">
          <div className="space-y-3">
            {SOAP_SECTIONS.map((s) => (
              <div key={s}>
                <h4 className="font-semibold">{SECTION_LABEL[s]}</h4>
                {n.content[s].length === 0 ? (
                  <p className="muted text-sm">Nothing recorded.</p>
                ) : (
                  <ul className="space-y-1">
                    {n.content[s].map((x, i) => (
                      <SentenceItem
                        key={x.id}
                        x={x}
                        heading={x.heading && x.heading !== n.content[s][i - 1]?.heading ? x.heading : undefined}
                        focused={focus === x.id}
                        onFocus={() => setFocus(focus === x.id ? null : x.id)}
                      />
                    ))}
                  </ul>
                )}
              </div>
            ))}
          </div>
          <TranscriptPanel
            transcript={transcript.data}
            loading={transcript.isLoading}
            error={transcript.error}
            focus={focusRefs}
            forRole={me.role}
          />
        </div>
      )}
      {(save.error || action.error) && <ErrorNotice error={save.error ?? action.error} />}
      <div className="flex flex-wrap gap-2">
        {editing ? (
          <>
            <button
              type="button"
              className="btn btn-primary"
              disabled={save.isPending || !changed(draftFrom(n.content), editing)}
              onClick={() => save.mutate(n.status === "approved")}
            >
              {n.status === "approved" ? "Save amendment" : "Save changes"}
            </button>
            <button type="button" className="btn btn-secondary" onClick={() => setEditing(null)}>
              Discard changes
            </button>
          </>
        ) : (
          <>
            {canEdit && (
              <button type="button" className="btn btn-secondary" onClick={() => setEditing(draftFrom(n.content))}>
                Edit
              </button>
            )}
            {canEdit && (
              <button type="button" className="btn btn-primary" disabled={action.isPending} onClick={() => action.mutate("submit")}>
                Submit for review
              </button>
            )}
            {n.status === "pending_review" && isDoctor && (
              <>
                <button type="button" className="btn btn-primary" disabled={action.isPending} onClick={() => action.mutate("approve")}>
                  Approve and sign
                </button>
                <button type="button" className="btn btn-secondary" onClick={() => setRejecting(true)}>
                  Send back
                </button>
              </>
            )}
            {n.status === "approved" && isDoctor && (
              <button type="button" className="btn btn-secondary" onClick={() => setEditing(draftFrom(n.content))}>
                Amend
              </button>
            )}
            <button type="button" className="btn btn-secondary" onClick={() => setShowVersions((v) => !v)} aria-expanded={showVersions}>
              Versions
            </button>
            <Downloads note={n} />
          </>
        )}
      </div>
      {showVersions && <Versions noteId={noteId} state={`${n.currentVersion}:${n.status}`} />}
      <RejectDialog open={rejecting} noteId={noteId} onClose={() => setRejecting(false)} onDone={refresh} />
    </section>
  );
}

function TranscriptPanel({
  transcript,
  loading,
  error,
  focus,
  forRole,
}: {
  transcript: Transcript | null | undefined;
  loading: boolean;
  error: unknown;
  focus: EvidenceRef[];
  forRole: string;
}) {
  const segments: Segment[] | null = transcript ? transcript.segments : null;
  const bySeg = useMemo(() => {
    const m = new Map<string, EvidenceRef[]>();
    for (const f of focus) m.set(f.segmentId, [...(m.get(f.segmentId) ?? []), f]);
    return m;
  }, [focus]);
  useEffect(() => {
    const first = focus[0];
    if (first) document.getElementById(`seg-${first.segmentId}`)?.scrollIntoView({ block: "nearest" });
  }, [focus]);
  return (
    <aside className="card max-h-[32rem] overflow-auto text-sm" aria-label="Transcript" data-testid="transcript">
      <h4 className="mb-1 font-semibold">Transcript</h4>
      {loading ? (
        <Loading />
      ) : error ? (
        <ErrorNotice error={error} />
      ) : !segments ? (
        <div>
          <p className="muted">
            {forRole !== "doctor"
              ? "Transcripts are read back by doctors only"
              : "The transcript is not available (not transcribed yet, or deleted after the retention period)"}
            {focus.length ? "; the sentence cites:" : "."}
          </p>
          {focus.length > 0 && (
            <ul className="list-disc pl-5">
              {focus.map((f, i) => (
                <li key={i}>
                  segment {f.segmentId}
                  {f.quote ? `: “${f.quote}”` : ""}
                </li>
              ))}
            </ul>
          )}
        </div>
      ) : (
        <>
          <p className="muted mb-2">Choose a sentence of the note to highlight what it is based on.</p>
          {transcript?.rolesInferred && <p className="mb-2 text-xs">Some speakers' roles were inferred from their words.</p>}
          <ol className="space-y-1">
            {segments.map((s) => {
              const spans = bySeg.get(s.id) ?? [];
              return (
                <li key={s.id} id={`seg-${s.id}`} className={spans.length ? "rounded bg-amber-50 p-1 dark:bg-amber-950" : "p-1"}>
                  <span className="font-semibold">
                    {s.speaker || humanize(s.role)}
                    {s.roleInferred ? "*" : ""}:
                  </span>{" "}
                  {highlightParts(s.text, spans).map((p, i) =>
                    p.mark ? (
                      <mark key={i} className="rounded bg-amber-300 px-0.5 text-slate-950">
                        {p.text}
                      </mark>
                    ) : (
                      <span key={i}>{p.text}</span>
                    ),
                  )}
                </li>
              );
            })}
          </ol>
        </>
      )}
    </aside>
  );
}

function SentenceItem({ x, heading, focused, onFocus }: { x: Sentence; heading?: string; focused: boolean; onFocus(): void }) {
  const flags = x.flags ?? [];
  const sources = x.evidence?.length ?? 0;
  return (
    <li>
      {heading && <p className="mt-2 text-xs font-semibold uppercase tracking-wide">{heading}</p>}
      <button
        type="button"
        aria-pressed={focused}
        onClick={onFocus}
        className={`w-full rounded px-2 py-1 text-left text-sm ${focused ? "bg-amber-100 dark:bg-amber-900" : "hover:bg-slate-100 dark:hover:bg-slate-800"}`}
      >
        {x.text}
        <span className="muted ml-1 text-xs">
          {sources ? `(${sources} source${sources > 1 ? "s" : ""})` : "(no source: added by a clinician)"}
          {x.edited ? " · edited" : ""}
        </span>
      </button>
      {flags.length > 0 && (
        <ul className="ml-2 text-xs font-semibold text-amber-900 dark:text-amber-200">
          {flags.map((f, i) => (
            <li key={i}>
              Check: {f.kind === "unsupported" ? `${f.claim} not supported by the transcript` : `${f.claim} estimated`} — {f.detail}
            </li>
          ))}
        </ul>
      )}
    </li>
  );
}

function NoteEditor({ draft, onChange }: { draft: DraftContent; onChange(d: DraftContent): void }) {
  const set = (s: SoapSection, i: number, text: string) => onChange({ ...draft, [s]: draft[s].map((x, j) => (j === i ? { ...x, text } : x)) });
  const remove = (s: SoapSection, i: number) => onChange({ ...draft, [s]: draft[s].filter((_, j) => j !== i) });
  const add = (s: SoapSection) => onChange({ ...draft, [s]: [...draft[s], { text: "", evidence: [] }] });
  return (
    <div className="space-y-4" aria-label="Edit the note">
      <p className="text-sm">Kept sentences keep their evidence; a sentence you add is yours and cites nothing.</p>
      {SOAP_SECTIONS.map((s) => (
        <fieldset key={s} className="space-y-2">
          <legend className="font-semibold">{SECTION_LABEL[s]}</legend>
          {draft[s].map((x, i) => (
            <div key={x.id ?? `new-${i}`} className="flex items-start gap-2">
              <TextArea
                className="flex-1"
                label={`${SECTION_LABEL[s]} sentence ${i + 1}${x.id ? "" : " (new)"}`}
                rows={2}
                maxLength={2000}
                value={x.text}
                onChange={(e) => set(s, i, e.target.value)}
              />
              <button type="button" className="btn btn-secondary mt-6" onClick={() => remove(s, i)} aria-label={`Remove ${SECTION_LABEL[s]} sentence ${i + 1}`}>
                Remove
              </button>
            </div>
          ))}
          <button type="button" className="btn btn-secondary" onClick={() => add(s)}>
            Add a sentence to {SECTION_LABEL[s]}
          </button>
        </fieldset>
      ))}
    </div>
  );
}

function RejectDialog({ open, noteId, onClose, onDone }: { open: boolean; noteId: string; onClose(): void; onDone(n: Note): void }) {
  const [reason, setReason] = useState("");
  const m = useMutation({
    mutationFn: () => post<Note>(`/v1/notes/${encodeURIComponent(noteId)}/reject`, { reason: reason.trim() }),
    onSuccess: (n) => {
      onDone(n);
      setReason("");
      onClose();
    },
  });
  return (
    <Dialog open={open} title="Send the note back to draft" onClose={onClose}>
      <form
        className="space-y-3"
        onSubmit={(e) => {
          e.preventDefault();
          m.mutate();
        }}
      >
        <TextArea label="What needs changing (required)" required rows={3} value={reason} onChange={(e) => setReason(e.target.value)} />
        {m.error && <ErrorNotice error={m.error} />}
        <div className="flex gap-2">
          <button type="submit" className="btn btn-primary" disabled={m.isPending}>
            Send back
          </button>
          <button type="button" className="btn btn-secondary" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** The note's history; read again whenever the note changed (state: its version and status). */
function Versions({ noteId, state }: { noteId: string; state: string }) {
  const q = useQuery({
    queryKey: ["versions", noteId, state],
    queryFn: () => get<{ items: NoteVersion[] }>(`/v1/notes/${encodeURIComponent(noteId)}/versions`),
  });
  if (q.isLoading) return <Loading />;
  if (q.error) return <ErrorNotice error={q.error} />;
  return (
    <table className="table" aria-label="Note versions">
      <thead>
        <tr>
          <th scope="col">Version</th>
          <th scope="col">Kind</th>
          <th scope="col">Author</th>
          <th scope="col">When</th>
          <th scope="col">Signed</th>
        </tr>
      </thead>
      <tbody>
        {(q.data?.items ?? []).map((v) => (
          <tr key={v.number}>
            <td>{v.number}</td>
            <td>{humanize(v.kind)}</td>
            <td>{v.authorRole}</td>
            <td>{formatDateTime(v.createdAt)}</td>
            <td>{v.approval ? formatDateTime(v.approval.signedAt) : "—"}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function download(name: string, type: string, data: BlobPart) {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function notePdfLines(n: Note): PdfLine[] {
  const lines: PdfLine[] = [
    { text: "Consultation note", bold: true, size: 16 },
    { text: `Status: ${STATUS_TEXT[n.status]} · version ${n.currentVersion} · ${formatDateTime(n.updatedAt)}`, gap: 4 },
  ];
  if (n.approval) lines.push({ text: `Approved ${formatDateTime(n.approval.signedAt)} by ${n.approval.signerUid}; SHA-256 ${n.approval.sha256}` });
  for (const s of SOAP_SECTIONS) {
    lines.push({ text: SECTION_LABEL[s], bold: true, size: 12, gap: 10 });
    if (n.content[s].length === 0) lines.push({ text: "Nothing recorded." });
    for (const x of n.content[s]) lines.push({ text: x.text, gap: 2 });
  }
  return lines;
}

function Downloads({ note }: { note: Note }) {
  const [error, setError] = useState<unknown>(null);
  const fhir = async () => {
    setError(null);
    try {
      // The Bundle comes as application/fhir+json, without the API's envelope.
      const bundle = await get<unknown>(`/v1/notes/${encodeURIComponent(note.id)}/fhir`, { accept: "application/fhir+json" });
      download(`note-${note.id}-v${note.currentVersion}.fhir.json`, "application/fhir+json", JSON.stringify(bundle, null, 2));
    } catch (e) {
      setError(e);
    }
  };
  const pdf = () => download(`note-${note.id}-v${note.currentVersion}.pdf`, "application/pdf", buildPdf(notePdfLines(note), "Consultation note") as BlobPart);
  return (
    <>
      <button type="button" className="btn btn-secondary" onClick={() => void fhir()}>
        Download FHIR
      </button>
      <button type="button" className="btn btn-secondary" onClick={pdf}>
        Download PDF
      </button>
      {error ? <ErrorNotice error={error} /> : null}
    </>
  );
}

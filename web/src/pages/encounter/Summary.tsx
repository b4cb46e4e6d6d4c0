// The cited history summary: every statement lists its sources; choosing one shows the
// source record (the patient record, a visit, a triage assessment, a note version).
import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { ApiError, get, request } from "../../api/client";
import { keys } from "../../api/queries";
import type { Encounter, HistorySummary, NoteVersion, Patient, TriageHistory } from "../../api/types";
import { SOAP_SECTIONS } from "../../api/types";
import { formatDateTime, patientLine, STATUS_LABEL } from "../../lib/format";
import { humanize } from "../../lib/triage";
import { ErrorNotice, LevelBadge, Loading, Notice } from "../../ui/feedback";

interface Item {
  text: string;
  sources: string[];
}

export function Summary({ patientId }: { patientId: string }) {
  const [source, setSource] = useState<string | null>(null);
  const q = useQuery({
    queryKey: keys.summary(patientId),
    queryFn: async () => (await request<HistorySummary>("GET", `/v1/summaries/${encodeURIComponent(patientId)}`)).data,
    // 202 pending, or a stale summary being rebuilt: ask again shortly.
    refetchInterval: (query) => (query.state.data && (query.state.data.status === "pending" || query.state.data.regenerating) ? 2000 : false),
  });
  if (q.isLoading) return <Loading label="Loading the history summary" />;
  if (q.error) return <ErrorNotice error={q.error} onRetry={() => void q.refetch()} />;
  const s = q.data!;
  if (!s.summary) return <Notice>The summary is being prepared; it appears here in a moment.</Notice>;
  const sm = s.summary;
  const index = new Map((s.citations ?? []).map((c, i) => [c.id, i + 1]));
  const Cites = ({ sources }: { sources: string[] }) => (
    <span className="ml-1 inline-flex flex-wrap gap-1 align-baseline">
      {sources.map((id) => (
        <button
          key={id}
          type="button"
          className="rounded border border-blue-700 px-1 text-xs font-semibold text-blue-800 hover:bg-blue-50 dark:border-sky-300 dark:text-sky-200 dark:hover:bg-slate-800"
          aria-label={`Source ${index.get(id) ?? ""}: ${humanize(id.split("/")[0])}`}
          aria-pressed={source === id}
          onClick={() => setSource(source === id ? null : id)}
        >
          [{index.get(id) ?? "?"}]
        </button>
      ))}
    </span>
  );
  const list = (title: string, items: Item[]) =>
    items.length > 0 && (
      <div>
        <h3 className="font-semibold">{title}</h3>
        <ul className="list-disc pl-5 text-sm">
          {items.map((it, i) => (
            <li key={i}>
              {it.text}
              <Cites sources={it.sources} />
            </li>
          ))}
        </ul>
      </div>
    );
  return (
    <div className="grid gap-4 lg:grid-cols-[minmax(0,3fr)_minmax(0,2fr)]">
      <div className="space-y-3" data-testid="summary">
        {s.stale && <Notice tone="warning">This is the previous summary; a new one is being built.</Notice>}
        <p>
          {sm.synopsis.text}
          <Cites sources={sm.synopsis.sources} />
        </p>
        {list("Allergies", sm.allergies)}
        {list("Problems", sm.problems)}
        {list("Medications", sm.medications)}
        {list("Open items", sm.openItems)}
        {list(
          "Visits",
          sm.encounters.map((e) => ({ text: e.text, sources: e.sources })),
        )}
        {list(
          "Vital sign trends",
          sm.vitals.map((v) => ({ text: v.text, sources: v.sources })),
        )}
        {list("Narrative", sm.narrative)}
        <p className="muted text-xs">
          Built {formatDateTime(s.builtAt)} by the {s.engine} engine{s.model ? ` (${s.model})` : ""}
          {s.fallbackReason ? `; fallback: ${humanize(s.fallbackReason)}` : ""}. A reading aid: the records are the truth.
        </p>
      </div>
      <aside aria-live="polite" aria-label="Source record">
        {source ? <SourceRecord id={source} /> : <p className="muted text-sm">Choose a [number] to see the record a statement comes from.</p>}
      </aside>
    </div>
  );
}

/** One cited record, read through the API like any other read (and audited as such). */
export function SourceRecord({ id }: { id: string }) {
  const [kind, a, b] = id.split("/");
  const q = useQuery({
    queryKey: ["source", id],
    staleTime: 5 * 60_000,
    queryFn: async (): Promise<{ kind: string; value: unknown }> => {
      switch (kind) {
        case "patient":
          return { kind, value: await get<Patient>(`/v1/patients/${encodeURIComponent(a)}`) };
        case "encounter":
          return { kind, value: await get<Encounter>(`/v1/encounters/${encodeURIComponent(a)}`) };
        case "assessment":
          return { kind, value: { history: await get<TriageHistory>(`/v1/triage/${encodeURIComponent(a)}`), id: b } };
        case "note":
          return { kind, value: await get<NoteVersion>(`/v1/notes/${encodeURIComponent(a)}/versions/${encodeURIComponent((b ?? "").replace(/^v/, ""))}`) };
        default:
          throw new ApiError({ status: 0, code: "unknown_source", message: `Unknown source ${id}.` });
      }
    },
  });
  return (
    <section className="card text-sm" data-testid="source-record">
      <h3 className="mb-1 font-semibold">Source: {humanize(kind)}</h3>
      {q.isLoading ? <Loading /> : q.error ? <ErrorNotice error={q.error} /> : <SourceBody kind={q.data!.kind} value={q.data!.value} />}
    </section>
  );
}

function SourceBody({ kind, value }: { kind: string; value: unknown }) {
  switch (kind) {
    case "patient": {
      const p = value as Patient;
      return (
        <div className="space-y-1">
          <p>{patientLine(p)}</p>
          <p>Allergies: {p.allergies.map((x) => `${x.substance}${x.reaction ? ` (${x.reaction})` : ""}`).join(", ") || "none recorded"}</p>
          <p>Medications: {p.medications.map((x) => [x.name, x.dose, x.frequency].filter(Boolean).join(" ")).join("; ") || "none recorded"}</p>
          <p>Problems: {p.problems.map((x) => x.description).join("; ") || "none recorded"}</p>
          <p className="muted">Record version {p.version}, updated {formatDateTime(p.updatedAt)}</p>
        </div>
      );
    }
    case "encounter": {
      const e = value as Encounter;
      return (
        <div className="space-y-1">
          <p>
            Visit of {formatDateTime(e.arrivedAt)}: “{e.chiefComplaint}”
          </p>
          <p>
            {STATUS_LABEL[e.status] ?? e.status} {e.triage && <LevelBadge level={e.triage.level} />}
          </p>
        </div>
      );
    }
    case "assessment": {
      const { history, id } = value as { history: TriageHistory; id: string };
      const a = history.assessments.find((x) => x.id === id);
      if (!a) return <p>That assessment is no longer on record.</p>;
      return (
        <div className="space-y-1">
          <p>
            Triage of {formatDateTime(a.assessedAt)}: <LevelBadge level={a.result.level} />
          </p>
          <ul className="list-disc pl-5">
            {a.result.reasons.map((r, i) => (
              <li key={i}>{r}</li>
            ))}
          </ul>
        </div>
      );
    }
    case "note": {
      const v = value as NoteVersion;
      return (
        <div className="space-y-1">
          <p>
            Note version {v.number} ({v.kind}), {formatDateTime(v.createdAt)}
            {v.approval ? ", approved" : ""}
          </p>
          {SOAP_SECTIONS.map((s) => (
            <p key={s}>
              <strong>{humanize(s)}:</strong> {v.content[s].map((x) => x.text).join(" ")}
            </p>
          ))}
        </div>
      );
    }
  }
  return null;
}

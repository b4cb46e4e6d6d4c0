// The doctor's workspace for one visit: the cited history summary, the triage, the AI
// scribe and the note, and the visit's moves (take, back to the queue, complete).
import { useCallback, useState } from "react";
import * as Tabs from "@radix-ui/react-tabs";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { transition } from "../api/board";
import { get, post } from "../api/client";
import { keys, useEncounter, usePatient } from "../api/queries";
import type { Note, TriageHistory } from "../api/types";
import { useMe } from "../auth/session";
import { Link, navigate } from "../lib/router";
import { formatDateTime, fullName, patientLine, STATUS_LABEL } from "../lib/format";
import { Dialog } from "../ui/dialog";
import { TextArea } from "../ui/controls";
import { ErrorNotice, LevelBadge, Loading, Notice, PageTitle } from "../ui/feedback";
import { Proposal } from "./Triage";
import { Summary } from "./encounter/Summary";
import { ScribeUpload } from "./encounter/Scribe";
import { NoteView } from "./encounter/Note";

const TAB = "rounded-t px-4 py-2 text-sm font-semibold border-b-2 border-transparent data-[state=active]:border-blue-700 data-[state=active]:text-blue-800 dark:data-[state=active]:border-sky-300 dark:data-[state=active]:text-sky-200";

export default function Encounter({ encounterId }: { encounterId: string }) {
  const me = useMe();
  const qc = useQueryClient();
  const enc = useEncounter(encounterId, { refetchInterval: 30_000 });
  const patient = usePatient(enc.data?.value.patientId);
  const [back, setBack] = useState(false);
  const move = useMutation({
    mutationFn: (to: "in_consultation" | "completed") => transition(encounterId, to, { ifMatch: enc.data?.version }),
    onSuccess: (r, to) => {
      qc.setQueryData(keys.encounter(encounterId), { value: r.encounter, version: r.encounter.version });
      if (to === "completed") navigate("/board");
    },
  });
  if (enc.error) return <ErrorNotice error={enc.error} onRetry={() => void enc.refetch()} />;
  if (patient.error) return <ErrorNotice error={patient.error} onRetry={() => void patient.refetch()} />;
  if (!enc.data || !patient.data) return <Loading label="Opening the visit" />;
  const e = enc.data.value;
  const p = patient.data.value;
  const mine = e.doctorUid === me.uid;
  return (
    <div>
      <PageTitle
        actions={
          <div className="flex flex-wrap gap-2">
            {me.role === "doctor" && e.status === "triaged" && (
              <button type="button" className="btn btn-primary" disabled={move.isPending} onClick={() => move.mutate("in_consultation")}>
                Take patient
              </button>
            )}
            {e.status === "in_consultation" && (
              <button type="button" className="btn btn-secondary" onClick={() => setBack(true)}>
                Back to the queue (awaiting results)
              </button>
            )}
            {me.role === "doctor" && e.status === "in_consultation" && (
              <button type="button" className="btn btn-primary" disabled={move.isPending} onClick={() => move.mutate("completed")}>
                Complete the visit
              </button>
            )}
          </div>
        }
      >
        {fullName(p)}
      </PageTitle>
      <p className="text-sm">{patientLine(p)}</p>
      <p className="mb-3 flex flex-wrap items-center gap-2 text-sm">
        <LevelBadge level={e.triage?.level} /> {STATUS_LABEL[e.status]}
        {e.status === "in_consultation" && (mine ? " (with you)" : " (with another doctor)")} · arrived {formatDateTime(e.arrivedAt)} · “
        {e.chiefComplaint}”
      </p>
      {p.allergies.length > 0 && (
        <Notice tone="warning">
          Allergies: {p.allergies.map((a) => `${a.substance}${a.reaction ? ` (${a.reaction}${a.severity ? `, ${a.severity}` : ""})` : ""}`).join("; ")}
        </Notice>
      )}
      {move.error && <ErrorNotice error={move.error} />}
      <Tabs.Root defaultValue="summary" className="mt-4">
        <Tabs.List aria-label="Visit" className="flex flex-wrap gap-1 border-b border-slate-300 dark:border-slate-700">
          <Tabs.Trigger value="summary" className={TAB}>
            History summary
          </Tabs.Trigger>
          <Tabs.Trigger value="triage" className={TAB}>
            Triage
          </Tabs.Trigger>
          <Tabs.Trigger value="note" className={TAB}>
            Scribe and note
          </Tabs.Trigger>
        </Tabs.List>
        <Tabs.Content value="summary" className="pt-4">
          <Summary patientId={p.id} />
        </Tabs.Content>
        <Tabs.Content value="triage" className="pt-4">
          <TriagePanel encounterId={encounterId} />
        </Tabs.Content>
        <Tabs.Content value="note" className="pt-4">
          <Notes encounterId={encounterId} canUpload={e.status === "in_consultation" || e.status === "triaged" || e.status === "completed"} />
        </Tabs.Content>
      </Tabs.Root>
      <BackToQueue open={back} encounterId={encounterId} onClose={() => setBack(false)} />
    </div>
  );
}

function TriagePanel({ encounterId }: { encounterId: string }) {
  const q = useQuery({ queryKey: keys.triage(encounterId), queryFn: () => get<TriageHistory>(`/v1/triage/${encodeURIComponent(encounterId)}`) });
  if (q.isLoading) return <Loading />;
  if (q.error) return <ErrorNotice error={q.error} />;
  const cur = q.data!.current;
  if (!cur) return <p>Not triaged yet.</p>;
  return (
    <div className="card">
      <p className="mb-2 text-sm">
        Assessed {formatDateTime(cur.assessedAt)} by a {cur.assessedByRole}; {cur.confirmations.length ? "confirmed" : "not confirmed yet"}.{" "}
        <Link to={`/triage/${encounterId}`} className="underline">
          Open triage
        </Link>
      </p>
      <Proposal r={cur.result} />
    </div>
  );
}

function Notes({ encounterId, canUpload }: { encounterId: string; canUpload: boolean }) {
  const notes = useQuery({
    queryKey: keys.notesOf(encounterId),
    queryFn: () => post<{ items: Note[] }>("/v1/notes/search", { encounterId }),
  });
  const [chosen, setChosen] = useState<string | null>(null);
  const onDrafted = useCallback((id: string) => setChosen(id), []);
  const list = notes.data?.items ?? [];
  const current = chosen ?? list[0]?.id ?? null;
  return (
    <div className="space-y-4">
      {canUpload && <ScribeUpload encounterId={encounterId} onDrafted={onDrafted} />}
      {notes.error && <ErrorNotice error={notes.error} />}
      {list.length > 1 && (
        <label className="flex items-center gap-2 text-sm">
          Note
          <select className="input w-auto" value={current ?? ""} onChange={(e) => setChosen(e.target.value)}>
            {list.map((n) => (
              <option key={n.id} value={n.id}>
                {formatDateTime(n.createdAt)} · {n.status}
              </option>
            ))}
          </select>
        </label>
      )}
      {current ? <NoteView key={current} noteId={current} /> : !notes.isLoading && <p className="muted">No note for this visit yet.</p>}
    </div>
  );
}

function BackToQueue({ open, encounterId, onClose }: { open: boolean; encounterId: string; onClose(): void }) {
  const qc = useQueryClient();
  const [reason, setReason] = useState("");
  const m = useMutation({
    mutationFn: () => transition(encounterId, "triaged", { reason: reason.trim() }),
    onSuccess: (r) => {
      qc.setQueryData(keys.encounter(encounterId), { value: r.encounter, version: r.encounter.version });
      onClose();
    },
  });
  return (
    <Dialog open={open} title="Back to the queue" onClose={onClose}>
      <form
        className="space-y-3"
        onSubmit={(e) => {
          e.preventDefault();
          m.mutate();
        }}
      >
        <TextArea label="Reason (required)" hint="E.g. awaiting blood results." required rows={2} maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} />
        {m.error && <ErrorNotice error={m.error} />}
        <div className="flex gap-2">
          <button type="submit" className="btn btn-primary" disabled={m.isPending}>
            Send back to the queue
          </button>
          <button type="button" className="btn btn-secondary" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}

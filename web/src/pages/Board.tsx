// The live board: every open visit of the clinic in queue order, with level, time
// waited against the level's target (breaches highlighted), and the typical (P50) and
// pessimistic (P90) wait. Actions depend on the role: reception records who left, a
// nurse triages, a doctor takes the next patient.
import { useEffect, useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useBoardStream, transition } from "../api/board";
import { usePatientSummaries } from "../api/queries";
import { get } from "../api/client";
import type { EncounterPage, PatientSummary, QueueEntry } from "../api/types";
import type { StreamState } from "../api/sse";
import { useMe } from "../auth/session";
import { Link, navigate } from "../lib/router";
import { formatTime, fullName, minutes, STATUS_LABEL, ageYears } from "../lib/format";
import { onReminders, reminderDue } from "../lib/triage";
import { Dialog } from "../ui/dialog";
import { TextArea } from "../ui/controls";
import { apiFieldErrors, ErrorNotice, LevelBadge, Loading, PageTitle } from "../ui/feedback";

export default function Board() {
  const me = useMe();
  const { board, stream } = useBoardStream();
  const [filter, setFilter] = useState<"all" | "next">(me.role === "doctor" ? "next" : "all");
  const entries = (board?.entries ?? []).filter((e) => filter === "all" || e.status === "triaged");
  // The names of everyone on the board (shown or filtered out), in one request rather
  // than one per row: the request the stream started when the board arrived.
  const names = usePatientSummaries((board?.entries ?? []).map((e) => e.patientId));
  return (
    <div>
      <PageTitle actions={<StreamBadge s={stream} />}>Live board</PageTitle>
      {me.role === "doctor" && <MyConsultations uid={me.uid} />}
      <div className="mb-3 flex flex-wrap items-center gap-4 text-sm">
        {board && (
          <p>
            <strong>{board.entries.length}</strong> waiting · <strong>{board.inConsultation}</strong> with a doctor ·{" "}
            <strong>{board.doctorsOnDuty}</strong> doctors on duty · updated {formatTime(board.builtAt)}
          </p>
        )}
        {(me.role === "doctor" || me.role === "nurse") && (
          <fieldset className="flex gap-3">
            <legend className="sr-only">Show</legend>
            <label className="flex items-center gap-1">
              <input type="radio" name="filter" checked={filter === "next"} onChange={() => setFilter("next")} /> Ready for a doctor
            </label>
            <label className="flex items-center gap-1">
              <input type="radio" name="filter" checked={filter === "all"} onChange={() => setFilter("all")} /> Everyone waiting
            </label>
          </fieldset>
        )}
      </div>
      {stream.kind === "stopped" && <ErrorNotice error={stream.error} />}
      {!board ? (
        stream.kind === "retrying" ? <ErrorNotice error={stream.error} /> : <Loading label="Connecting to the live board" />
      ) : entries.length === 0 ? (
        <p className="card">Nobody is waiting{filter === "next" ? " for a doctor" : ""}.</p>
      ) : (
        <ol className="space-y-2" aria-label="Queue, in the order patients are seen">
          {entries.map((e) => (
            <BoardRow key={e.encounterId} entry={e} patient={names.byId.get(e.patientId)} unreadable={!!names.error || names.notFound.has(e.patientId)} />
          ))}
        </ol>
      )}
    </div>
  );
}

function StreamBadge({ s }: { s: StreamState }) {
  const text =
    s.kind === "live"
      ? "Live"
      : s.kind === "connecting"
        ? "Connecting…"
        : s.kind === "retrying"
          ? `Reconnecting in ${Math.ceil(s.inMs / 1000)} s`
          : "Stopped";
  const cls =
    s.kind === "live"
      ? "bg-emerald-100 text-emerald-900 dark:bg-emerald-900 dark:text-emerald-50"
      : "bg-amber-100 text-amber-950 dark:bg-amber-900 dark:text-amber-50";
  return (
    <span role="status" className={`rounded-full px-3 py-1 text-sm font-semibold ${cls}`} data-testid="stream-state">
      {text}
    </span>
  );
}

/** Whether the re-assessment of an encounter this screen triaged is due (checked every 30 s). */
function useReassessDue(encounterId: string): boolean {
  const [due, setDue] = useState(() => reminderDue(encounterId));
  useEffect(() => {
    const check = () => setDue(reminderDue(encounterId));
    const t = setInterval(check, 30_000);
    const off = onReminders(check);
    return () => {
      clearInterval(t);
      off();
    };
  }, [encounterId]);
  return due;
}

function BoardRow({ entry: e, patient: p, unreadable }: { entry: QueueEntry; patient?: PatientSummary; unreadable: boolean }) {
  const me = useMe();
  const reassess = useReassessDue(e.encounterId);
  const [leave, setLeave] = useState<"left_without_being_seen" | "cancelled" | null>(null);
  const qc = useQueryClient();
  const take = useMutation({
    mutationFn: () => transition(e.encounterId, "in_consultation"),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ["consultations"] });
      navigate(`/encounters/${e.encounterId}`);
    },
  });
  const name = p ? fullName(p) : unreadable ? "Patient (not readable now)" : "…";
  const canLeave = ["receptionist", "nurse", "admin"].includes(me.role) && (e.status === "waiting" || e.status === "triaged");
  return (
    <li
      className={`card grid gap-2 sm:grid-cols-[3rem_1fr_auto] sm:items-center ${e.overTarget ? "border-l-8 border-l-red-700 dark:border-l-red-400" : ""}`}
      data-testid="board-entry"
    >
      <span className="text-2xl font-bold" aria-label={`Position ${e.position}`}>
        {e.position}
      </span>
      <div>
        <p className="font-semibold">
          {name}
          {p && <span className="muted font-normal"> · {ageYears(p.birthDate)} y · MRN {p.mrn}</span>}
        </p>
        <p className="flex flex-wrap items-center gap-2 text-sm">
          <LevelBadge level={e.level} />
          <span>{e.seen ? "Seen, awaiting results" : STATUS_LABEL[e.status]}</span>
          <span>
            waited <strong>{minutes(e.waitedMinutes)}</strong>
            {e.targetMinutes > 0 && <> of {minutes(e.targetMinutes)} target</>}
          </span>
          {e.overTarget && <strong className="rounded bg-red-700 px-2 py-0.5 text-white dark:bg-red-300 dark:text-slate-950">Over target</strong>}
          {reassess && me.role === "nurse" && (
            <strong className="rounded bg-amber-300 px-2 py-0.5 text-slate-950">Re-assessment due</strong>
          )}
          {e.waitEstimate && (
            <span>
              expected wait {e.waitEstimate.p50Minutes}–{e.waitEstimate.p90Minutes} min <span className="muted">(P50–P90)</span>
            </span>
          )}
          {!e.waitEstimate && e.provisional && <span className="muted">just arrived, wait estimate coming</span>}
        </p>
      </div>
      <div className="flex flex-wrap gap-2">
        {(me.role === "nurse" || me.role === "doctor") && (
          <Link className="btn btn-secondary" to={`/triage/${e.encounterId}`}>
            {e.level == null ? "Triage" : "Re-assess"}
          </Link>
        )}
        {me.role === "doctor" && e.status === "triaged" && (
          <button type="button" className="btn btn-primary" disabled={take.isPending} onClick={() => take.mutate()}>
            Take patient
          </button>
        )}
        {canLeave && (
          <>
            <button type="button" className="btn btn-secondary" onClick={() => setLeave("left_without_being_seen")}>
              Left
            </button>
            <button type="button" className="btn btn-secondary" onClick={() => setLeave("cancelled")}>
              Cancel check-in
            </button>
          </>
        )}
      </div>
      {take.error && (
        <div className="sm:col-span-3">
          <ErrorNotice error={take.error} />
        </div>
      )}
      <LeaveDialog encounterId={e.encounterId} name={name} to={leave} onClose={() => setLeave(null)} />
    </li>
  );
}

function LeaveDialog({
  encounterId,
  name,
  to,
  onClose,
}: {
  encounterId: string;
  name: string;
  to: "left_without_being_seen" | "cancelled" | null;
  onClose(): void;
}) {
  const [reason, setReason] = useState("");
  const m = useMutation({
    mutationFn: () => transition(encounterId, to!, { reason: reason.trim() }),
    onSuccess: () => {
      setReason("");
      onClose();
    },
  });
  const submit = (ev: FormEvent) => {
    ev.preventDefault();
    m.mutate();
  };
  const fieldErr = apiFieldErrors(m.error).reason;
  return (
    <Dialog
      open={to !== null}
      title={to === "cancelled" ? `Cancel the check-in of ${name}` : `${name} left without being seen`}
      onClose={() => {
        m.reset();
        onClose();
      }}
    >
      <form onSubmit={submit} className="space-y-3">
        <TextArea
          label="Reason (required)"
          required
          maxLength={500}
          rows={3}
          value={reason}
          onChange={(ev) => setReason(ev.target.value)}
          error={fieldErr}
          hint={to === "cancelled" ? "For a check-in that should not exist: registered twice, wrong patient." : "E.g. left before triage, told the desk."}
        />
        {m.error && !fieldErr && <ErrorNotice error={m.error} />}
        <div className="flex gap-2">
          <button type="submit" className="btn btn-danger" disabled={m.isPending}>
            {to === "cancelled" ? "Cancel check-in" : "Record that they left"}
          </button>
          <button type="button" className="btn btn-secondary" onClick={onClose}>
            Back
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** The doctor's own open consultations (GET /v1/encounters, an audited list), their patients named in one request. */
function MyConsultations({ uid }: { uid: string }) {
  const q = useQuery({
    queryKey: ["consultations"],
    refetchInterval: 30_000,
    queryFn: () => get<EncounterPage>("/v1/encounters", { query: { status: "in_consultation", pageSize: 50 }, background: true }),
  });
  const mine = (q.data?.items ?? []).filter((e) => e.doctorUid === uid);
  const names = usePatientSummaries(mine.map((e) => e.patientId));
  if (q.isLoading || mine.length === 0) return null;
  return (
    <section aria-labelledby="mine-title" className="card mb-4" data-testid="my-consultations">
      <h2 id="mine-title" className="mb-2 font-semibold">
        Your consultations
      </h2>
      <ul className="space-y-1">
        {mine.map((e) => {
          const p = names.byId.get(e.patientId);
          return (
            <li key={e.id}>
              <Link to={`/encounters/${e.id}`} className="underline">
                {p ? fullName(p) : names.error || names.notFound.has(e.patientId) ? "Patient (not readable now)" : "…"} — {e.chiefComplaint}
              </Link>
            </li>
          );
        })}
      </ul>
    </section>
  );
}

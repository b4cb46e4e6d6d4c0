// Triage: vital signs with units and plausible ranges, AVPU, pain; the engine's proposal
// updating as the nurse types (POST /v1/triage/assess, nothing stored) with its decision
// point, reasons, what is missing and assumed, NEWS2 per parameter and qSOFA as a chart;
// record, then confirm or override with a reason (the API's rules); the re-assessment
// time from the NEWS2 interval.
import { useEffect, useMemo, useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError, get, newIdempotencyKey, post } from "../api/client";
import { keys, useEncounter, usePatient } from "../api/queries";
import type { TriageConfirmed, TriageHistory, TriageRecorded, TriageResult } from "../api/types";
import { Link } from "../lib/router";
import { formatTime, fullName, patientLine, STATUS_LABEL } from "../lib/format";
import {
  buildTriageInput,
  COMPLAINT_CATEGORIES,
  emptyTriageForm,
  fieldLabel,
  formFromInput,
  humanize,
  PARAMETER_LABEL,
  reassessDue,
  setReminder,
  type TriageForm,
} from "../lib/triage";
import { VITALS } from "../lib/validate";
import { SelectField, TextArea, TextField } from "../ui/controls";
import { apiFieldErrors, ErrorNotice, LevelBadge, Loading, Notice, PageTitle, UnshownFieldErrors } from "../ui/feedback";

export default function Triage({ encounterId }: { encounterId: string }) {
  const enc = useEncounter(encounterId);
  const patient = usePatient(enc.data?.value.patientId);
  const history = useQuery({ queryKey: keys.triage(encounterId), queryFn: () => get<TriageHistory>(`/v1/triage/${encodeURIComponent(encounterId)}`) });
  if (enc.error) return <ErrorNotice error={enc.error} onRetry={() => void enc.refetch()} />;
  if (patient.error) return <ErrorNotice error={patient.error} onRetry={() => void patient.refetch()} />;
  if (history.error) return <ErrorNotice error={history.error} onRetry={() => void history.refetch()} />;
  if (!enc.data || !patient.data || !history.data) return <Loading label="Opening the visit" />;
  const e = enc.data.value;
  const p = patient.data.value;
  return (
    <div>
      <PageTitle actions={<Link to="/board" className="btn btn-secondary">Back to the board</Link>}>{`Triage: ${fullName(p)}`}</PageTitle>
      <p className="mb-1 text-sm">{patientLine(p)}</p>
      <p className="mb-3 text-sm">
        {STATUS_LABEL[e.status]} since {formatTime(e.arrivedAt)} · complaint: “{e.chiefComplaint}”
        {p.allergies.length > 0 && <> · <strong>Allergies:</strong> {p.allergies.map((a) => a.substance).join(", ")}</>}
      </p>
      <TriageWorkspace key={encounterId} encounterId={encounterId} history={history.data} patient={p} complaint={e.chiefComplaint} arrivalMode={e.arrivalMode} />
    </div>
  );
}

/** The form's fields, by the API's names: their errors are shown next to them. */
const TRIAGE_FIELDS = new Set(["chiefComplaint", "complaintCategory", "mentalStatus", "painScore", ...VITALS.map((v) => `vitals.${v.key}`)]);

function useDebouncedValue<T>(v: T, ms: number): T {
  const [d, setD] = useState(v);
  useEffect(() => {
    const t = setTimeout(() => setD(v), ms);
    return () => clearTimeout(t);
  }, [v, ms]);
  return d;
}

function TriageWorkspace({
  encounterId,
  history,
  patient,
  complaint,
  arrivalMode,
}: {
  encounterId: string;
  history: TriageHistory;
  patient: { birthDate: string; sex: string };
  complaint: string;
  arrivalMode: string;
}) {
  const qc = useQueryClient();
  const [form, setForm] = useState<TriageForm>(() =>
    history.current ? formFromInput(history.current.input as never) : emptyTriageForm(complaint, arrivalMode),
  );
  const { input, errors } = useMemo(() => buildTriageInput(form, patient), [form, patient]);
  const debounced = useDebouncedValue(JSON.stringify(input), 400);
  const valid = Object.keys(errors).length === 0;
  const proposal = useQuery<TriageResult>({
    queryKey: ["assess", debounced],
    enabled: valid,
    placeholderData: (prev) => prev,
    staleTime: Infinity,
    queryFn: ({ signal }) => post<TriageResult>("/v1/triage/assess", JSON.parse(debounced), { signal }),
  });
  const [recordKey, setRecordKey] = useState(newIdempotencyKey);
  const record = useMutation({
    mutationFn: () => post<TriageRecorded>(`/v1/triage/${encodeURIComponent(encounterId)}`, input, { idempotencyKey: recordKey }),
    onSuccess: (r) => {
      setRecordKey(newIdempotencyKey());
      setReminder(encounterId, reassessDue(r.assessment.assessedAt, r.assessment.result));
      void qc.invalidateQueries({ queryKey: keys.triage(encounterId) });
      void qc.invalidateQueries({ queryKey: keys.encounter(encounterId) });
    },
  });
  const current = history.current;
  useEffect(() => {
    if (current) setReminder(encounterId, reassessDue(current.assessedAt, current.result));
  }, [current, encounterId]);

  const set = (patch: Partial<TriageForm>) => setForm((f) => ({ ...f, ...patch }));
  const setVital = (k: keyof TriageForm["vitals"], v: string) => setForm((f) => ({ ...f, vitals: { ...f.vitals, [k]: v } }));
  const serverErrors = apiFieldErrors(record.error ?? proposal.error);
  const err = (k: string) => errors[k] ?? serverErrors[k];
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (valid) record.mutate();
  };

  return (
    <div className="grid gap-4 lg:grid-cols-[minmax(0,1fr)_minmax(0,1fr)]">
      <form onSubmit={submit} noValidate className="card space-y-4" aria-label="Triage assessment">
        <TextArea label="Chief complaint" rows={2} value={form.chiefComplaint} onChange={(e) => set({ chiefComplaint: e.target.value })} error={err("chiefComplaint")} />
        <div className="grid gap-3 sm:grid-cols-2">
          <SelectField
            label="Complaint category"
            value={form.complaintCategory}
            onChange={(e) => set({ complaintCategory: e.target.value })}
            options={[{ value: "", label: "Not chosen" }, ...COMPLAINT_CATEGORIES.map((c) => ({ value: c, label: humanize(c) }))]}
            error={err("complaintCategory")}
          />
          <SelectField
            label="Mental status (AVPU)"
            value={form.mentalStatus}
            onChange={(e) => set({ mentalStatus: e.target.value })}
            options={[
              { value: "", label: "Not assessed" },
              { value: "A", label: "A: alert" },
              { value: "new_confusion", label: "New confusion" },
              { value: "V", label: "V: responds to voice" },
              { value: "P", label: "P: responds to pain" },
              { value: "U", label: "U: unresponsive" },
            ]}
            error={err("mentalStatus")}
          />
        </div>
        <fieldset>
          <legend className="label">Vital signs</legend>
          <div className="grid gap-3 sm:grid-cols-2">
            {VITALS.map((v) => (
              <TextField
                key={v.key}
                label={`${v.label} (${v.unit})`}
                inputMode="decimal"
                value={form.vitals[v.key]}
                onChange={(e) => setVital(v.key, e.target.value)}
                error={err(`vitals.${v.key}`)}
                hint={`${v.min}–${v.max}`}
                autoComplete="off"
              />
            ))}
          </div>
          <SelectField
            className="mt-3 sm:w-1/2"
            label="Air or oxygen"
            value={form.oxygen}
            onChange={(e) => set({ oxygen: e.target.value as TriageForm["oxygen"] })}
            options={[
              { value: "", label: "Not recorded" },
              { value: "air", label: "Room air" },
              { value: "oxygen", label: "Supplemental oxygen" },
            ]}
          />
        </fieldset>
        <div className="grid gap-3 sm:grid-cols-2">
          <TextField
            label="Pain (0–10)"
            inputMode="numeric"
            value={form.painScore}
            onChange={(e) => set({ painScore: e.target.value })}
            error={err("painScore")}
            autoComplete="off"
          />
          <fieldset className="text-sm">
            <legend className="label">Also</legend>
            <label className="flex items-center gap-2">
              <input type="checkbox" checked={form.flags.pregnant} onChange={(e) => set({ flags: { ...form.flags, pregnant: e.target.checked } })} />
              Pregnant
            </label>
            <label className="flex items-center gap-2">
              <input
                type="checkbox"
                checked={form.flags.immunocompromised}
                onChange={(e) => set({ flags: { ...form.flags, immunocompromised: e.target.checked } })}
              />
              Immunocompromised
            </label>
          </fieldset>
        </div>
        {record.error && <UnshownFieldErrors error={record.error} shown={(k) => k in errors || TRIAGE_FIELDS.has(k)} />}
        {record.isSuccess && (
          <Notice tone="success">
            Assessment recorded{record.data.transitioned ? "; the patient is now triaged" : ""}. Confirm the level on the right.
          </Notice>
        )}
        <button type="submit" className="btn btn-primary" disabled={!valid || record.isPending}>
          {record.isPending ? "Recording…" : current ? "Record re-assessment" : "Record assessment"}
        </button>
      </form>
      <div className="space-y-4">
        <section className="card" aria-labelledby="proposal-title" aria-live="polite">
          <h2 id="proposal-title" className="mb-2 text-lg font-semibold">
            Engine proposal {proposal.isFetching && <span className="muted text-sm font-normal">(updating…)</span>}
          </h2>
          {!valid ? (
            <p className="muted">Correct the highlighted fields to see the proposal.</p>
          ) : proposal.error ? (
            <ErrorNotice error={proposal.error} />
          ) : proposal.data ? (
            <Proposal r={proposal.data} />
          ) : (
            <Loading label="Asking the engine" />
          )}
        </section>
        {current && <Confirm encounterId={encounterId} history={history} />}
      </div>
    </div>
  );
}

export function Proposal({ r }: { r: TriageResult }) {
  return (
    <div className="space-y-3">
      <p className="flex flex-wrap items-center gap-2 text-lg">
        <LevelBadge level={r.level} provisional={r.provisional} />
        <span>
          decision point <strong>{r.decisionPoint}</strong> · see a doctor within <strong>{r.targetMinutes} min</strong>
        </span>
      </p>
      {r.vitalsRequired && (
        <Notice tone="warning">
          Vital signs required before a level can be recorded: {r.missingVitals.map((v) => fieldLabel(v)).join(", ") || "see below"}.
        </Notice>
      )}
      {r.complaint?.status === "recognised" && r.complaint.recognised.length > 0 && (
        <p className="text-sm">
          Complaint read as: {r.complaint.recognised.map((c) => c.name + (c.laterality ? ` (${c.laterality})` : "")).join(", ")}
          {r.complaint.negated.length > 0 && <> · absent: {r.complaint.negated.join(", ")}</>}
        </p>
      )}
      {r.complaint?.status === "not_recognised" && <p className="text-sm">The complaint's words were not recognised: choose its category.</p>}
      <div>
        <h3 className="font-semibold">Why</h3>
        <ul className="list-disc pl-5 text-sm">
          {(r.reasonDetails?.length ? r.reasonDetails.map((d) => d.text) : r.reasons).map((t, i) => (
            <li key={i}>{t}</li>
          ))}
        </ul>
      </div>
      {r.missing.length > 0 && (
        <div>
          <h3 className="font-semibold">Missing, and what was assumed</h3>
          <ul className="list-disc pl-5 text-sm">
            {r.missing.map((m) => (
              <li key={m.field}>
                {fieldLabel(m.field)}: {m.assumption}
                {m.affectsLevel && <strong> (may change the level)</strong>}
              </li>
            ))}
          </ul>
        </div>
      )}
      <News2Chart r={r} />
      <QsofaChart r={r} />
      {r.reassessment.applicable && (
        <p className="text-sm">
          Re-assess {r.reassessment.continuous ? "continuously" : `every ${r.reassessment.intervalMinutes} min`}
          {r.reassessment.response && <>: {r.reassessment.response}</>}.
        </p>
      )}
      {r.model && <ModelPanel m={r.model} rulesLevel={r.rulesLevel} />}
    </div>
  );
}

const POINT_COLOURS = ["bg-emerald-600", "bg-yellow-400", "bg-orange-500", "bg-red-700"];

function News2Chart({ r }: { r: TriageResult }) {
  const n = r.news2;
  if (!n.applicable) return <p className="text-sm">NEWS2 not applicable{n.notApplicable ? `: ${n.notApplicable}` : ""}.</p>;
  return (
    <figure aria-labelledby="news2-caption">
      <figcaption id="news2-caption" className="font-semibold">
        NEWS2 {n.aggregate ?? "?"} {n.risk && <span className="font-normal">({humanize(n.risk)} risk)</span>}
        {!n.complete && <span className="muted font-normal"> — incomplete, measured {n.measuredAggregate ?? 0}</span>}
      </figcaption>
      <ul className="mt-2 space-y-1 text-sm" data-testid="news2-chart">
        {n.items.map((it) => (
          <li key={it.parameter} className="grid grid-cols-[7rem_1fr_7.5rem] items-center gap-2">
            <span>{PARAMETER_LABEL[it.parameter] ?? humanize(it.parameter)}</span>
            <span className="h-4 rounded bg-slate-200 dark:bg-slate-700" aria-hidden="true">
              {/* the bar: 0 to 3 points */}
              <span className={`block h-4 rounded ${POINT_COLOURS[it.points] ?? "bg-red-700"}`} style={{ width: `${(it.points / 3) * 100}%` }} />
            </span>
            <span>
              {it.missing ? `missing (${it.points} assumed)` : `${it.points} pt${it.points === 1 ? "" : "s"}`}
              <span className="sr-only"> ({it.value ?? it.observation ?? "no value"})</span>
            </span>
          </li>
        ))}
      </ul>
      {n.singleParameterScore3 && <p className="text-sm font-semibold">A single parameter scores 3: urgent review.</p>}
      {n.caveat && <p className="muted text-sm">{n.caveat}</p>}
    </figure>
  );
}

function QsofaChart({ r }: { r: TriageResult }) {
  const q = r.qsofa;
  return (
    <figure>
      <figcaption className="font-semibold">
        qSOFA {q.score}/3 {q.highRisk && <strong className="text-red-700 dark:text-red-300">high risk of sepsis</strong>}
      </figcaption>
      <ul className="mt-1 flex flex-wrap gap-2 text-sm">
        {q.items.map((it) => (
          <li
            key={it.criterion}
            className={`rounded border px-2 py-0.5 ${it.points ? "border-red-700 font-semibold text-red-800 dark:border-red-300 dark:text-red-200" : "border-slate-400"}`}
          >
            {it.criterion}: {it.missing ? "missing" : it.points ? "yes (+1)" : "no"}
          </li>
        ))}
      </ul>
    </figure>
  );
}

type Model = TriageResult["model"];

/** The learned second opinion: its level, the probability of each level, and what moved it. */
function ModelPanel({ m, rulesLevel }: { m: Model; rulesLevel: number }) {
  if (!m.applicable) {
    return <p className="muted border-t border-slate-200 pt-2 text-sm dark:border-slate-700">Statistical second opinion not applicable{m.notApplicable ? `: ${m.notApplicable}` : ""}.</p>;
  }
  const probs = m.probabilities ?? [];
  const attrs = [...(m.attributions ?? [])].sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution)).slice(0, 6);
  const maxAbs = Math.max(0.01, ...attrs.map((a) => Math.abs(a.contribution)));
  return (
    <section aria-labelledby="model-title" className="space-y-2 border-t border-slate-200 pt-2 dark:border-slate-700">
      <h3 id="model-title" className="font-semibold">
        Second opinion (statistical model): level {m.level}
        <span className="muted text-sm font-normal"> · the rules alone say {rulesLevel}; the model never lowers them</span>
      </h3>
      {probs.length > 0 && (
        <ul className="space-y-1 text-sm" aria-label="Probability of each level">
          {probs.map((p, i) => (
            <li key={i} className="grid grid-cols-[4rem_1fr_3.5rem] items-center gap-2">
              <span>Level {i + 1}</span>
              <span className="h-3 rounded bg-slate-200 dark:bg-slate-700" aria-hidden="true">
                <span className="block h-3 rounded bg-blue-700 dark:bg-sky-300" style={{ width: `${Math.round(p * 100)}%` }} />
              </span>
              <span>{Math.round(p * 100)}%</span>
            </li>
          ))}
        </ul>
      )}
      {attrs.length > 0 && (
        <div>
          <p className="text-sm">What moved it most (towards urgent +, away −):</p>
          <ul className="space-y-1 text-sm" aria-label="Largest contributions">
            {attrs.map((a) => (
              <li key={a.feature} className="grid grid-cols-[minmax(0,12rem)_1fr_3.5rem] items-center gap-2">
                <span className="truncate" title={a.feature}>
                  {humanize(a.feature)}
                </span>
                <span className="flex h-3" aria-hidden="true">
                  <span className="flex w-1/2 justify-end">
                    {a.contribution < 0 && <span className="block h-3 rounded-l bg-emerald-600" style={{ width: `${(Math.abs(a.contribution) / maxAbs) * 100}%` }} />}
                  </span>
                  <span className="w-1/2">
                    {a.contribution > 0 && <span className="block h-3 rounded-r bg-orange-600" style={{ width: `${(a.contribution / maxAbs) * 100}%` }} />}
                  </span>
                </span>
                <span>
                  {a.contribution > 0 ? "+" : "−"}
                  {Math.abs(a.contribution).toFixed(1)}
                </span>
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}

function Confirm({ encounterId, history }: { encounterId: string; history: TriageHistory }) {
  const qc = useQueryClient();
  const current = history.current!;
  const inForce = history.encounter.triage?.level ?? current.result.level;
  const [level, setLevel] = useState(String(current.result.level));
  const [reason, setReason] = useState("");
  const m = useMutation({
    mutationFn: () =>
      post<TriageConfirmed>(`/v1/triage/${encodeURIComponent(encounterId)}/confirm`, {
        level: Number(level),
        assessmentId: current.id,
        ...(reason.trim() ? { reason: reason.trim() } : {}),
      }),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: keys.triage(encounterId) });
      void qc.invalidateQueries({ queryKey: keys.encounter(encounterId) });
    },
  });
  const down = Number(level) > inForce;
  const due = reassessDue(current.assessedAt, current.result);
  const overdue = due !== null && due.getTime() < Date.now();
  const confirmed = history.encounter.triage?.confirmed;
  return (
    <section className="card space-y-3" aria-labelledby="confirm-title">
      <h2 id="confirm-title" className="text-lg font-semibold">
        Level in force
      </h2>
      <p className="flex flex-wrap items-center gap-2">
        <LevelBadge level={inForce} /> proposed {current.result.level} at {formatTime(current.assessedAt)} ·{" "}
        {confirmed ? <strong>confirmed</strong> : <strong className="text-amber-800 dark:text-amber-200">not confirmed yet</strong>}
      </p>
      {due && (
        <p className={overdue ? "font-semibold text-red-800 dark:text-red-200" : "text-sm"} role={overdue ? "alert" : undefined}>
          {overdue ? "Re-assessment overdue since " : "Next re-assessment due at "}
          {formatTime(due.toISOString())}
        </p>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          m.mutate();
        }}
        className="space-y-3"
        aria-label="Confirm or override the level"
      >
        <SelectField
          label="Level you accept"
          value={level}
          onChange={(e) => setLevel(e.target.value)}
          options={[1, 2, 3, 4, 5].map((l) => ({ value: String(l), label: `ESI ${l}${l === current.result.level ? " (proposed)" : ""}` }))}
        />
        {down && (
          <TextArea
            label="Reason for a less urgent level (required)"
            required
            rows={2}
            maxLength={500}
            value={reason}
            onChange={(e) => setReason(e.target.value)}
            error={apiFieldErrors(m.error).reason}
            hint="A down-triage is audited with your reason."
          />
        )}
        {m.error && !apiFieldErrors(m.error).reason && <ErrorNotice error={m.error} />}
        {m.error instanceof ApiError && m.error.code === "conflict" && <p className="text-sm">Reload the page to see the newer assessment.</p>}
        {m.isSuccess && (
          <Notice tone="success">
            Level {m.data.level} confirmed ({humanize(m.data.change)}).
          </Notice>
        )}
        <button type="submit" className="btn btn-primary" disabled={m.isPending}>
          {Number(level) === current.result.level ? "Confirm level" : "Override level"}
        </button>
      </form>
    </section>
  );
}

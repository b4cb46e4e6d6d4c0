// Reception: find a patient as you type (MRN, name or birth date), register a new one
// with the API's validation, and check them in with a chief complaint.
import { useEffect, useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError, newIdempotencyKey, post, request } from "../api/client";
import { keys, usePatient } from "../api/queries";
import type { Encounter, Patient, PatientSearchPage, PatientSummary, RegisteredPatient } from "../api/types";
import { Link } from "../lib/router";
import { formatDateTime, fullName, patientLine, STATUS_LABEL } from "../lib/format";
import { registrationBody, searchCriteria, validateComplaint, validateRegistration, type RegistrationForm } from "../lib/validate";
import { SelectField, TextArea, TextField } from "../ui/controls";
import { apiFieldErrors, ErrorNotice, Loading, Notice, PageTitle, UnshownFieldErrors } from "../ui/feedback";

function useDebounced<T>(v: T, ms: number): T {
  const [d, setD] = useState(v);
  useEffect(() => {
    const t = setTimeout(() => setD(v), ms);
    return () => clearTimeout(t);
  }, [v, ms]);
  return d;
}

export default function Reception() {
  const [selected, setSelected] = useState<string | null>(null);
  const [registering, setRegistering] = useState(false);
  return (
    <div>
      <PageTitle
        actions={
          <button type="button" className="btn btn-primary" onClick={() => { setRegistering(true); setSelected(null); }}>
            Register a new patient
          </button>
        }
      >
        Reception
      </PageTitle>
      <div className="grid gap-4 lg:grid-cols-2">
        <Search onPick={(id) => { setSelected(id); setRegistering(false); }} />
        <div>
          {registering && (
            <Register
              onDone={(p) => {
                setRegistering(false);
                setSelected(p.id);
              }}
              onCancel={() => setRegistering(false)}
            />
          )}
          {selected && !registering && <CheckIn patientId={selected} />}
          {!selected && !registering && <p className="card muted">Find the patient, or register them if they are new.</p>}
        </div>
      </div>
    </div>
  );
}

function Search({ onPick }: { onPick(id: string): void }) {
  const [q, setQ] = useState("");
  const criteria = searchCriteria(useDebounced(q, 250));
  const res = useQuery({
    queryKey: ["search", criteria],
    enabled: criteria !== null,
    staleTime: 0,
    gcTime: 0,
    queryFn: ({ signal }) => post<PatientSearchPage>("/v1/patients/search", { ...criteria, pageSize: 20 }, { signal }),
  });
  return (
    <section className="card" aria-labelledby="find-title">
      <h2 id="find-title" className="mb-2 text-lg font-semibold">
        Find a patient
      </h2>
      <TextField
        label="Name, MRN or birth date"
        type="search"
        value={q}
        onChange={(e) => setQ(e.target.value)}
        hint="Family name first (“nunez jo”), an MRN (“DEMO-000002”) or a birth date (1972-03-04)."
        autoComplete="off"
      />
      <div aria-live="polite" className="mt-3">
        {criteria === null ? null : res.isLoading ? (
          <Loading label="Searching" />
        ) : res.error ? (
          <ErrorNotice error={res.error} onRetry={() => void res.refetch()} />
        ) : res.data && res.data.items.length === 0 ? (
          <p>No patient found. Check the spelling, or register them.</p>
        ) : (
          <ul className="divide-y divide-slate-200 dark:divide-slate-700" aria-label="Patients found">
            {res.data?.items.map((p: PatientSummary) => (
              <li key={p.id}>
                <button type="button" className="w-full rounded px-2 py-2 text-left hover:bg-slate-100 dark:hover:bg-slate-800" onClick={() => onPick(p.id)}>
                  <span className="font-semibold">{fullName(p)}</span>{" "}
                  <span className="muted text-sm">
                    born {p.birthDate} · {p.sex} · MRN {p.mrn}
                  </span>
                </button>
              </li>
            ))}
          </ul>
        )}
      </div>
    </section>
  );
}

const EMPTY: RegistrationForm = { givenName: "", familyName: "", birthDate: "", sex: "", phone: "", mrn: "" };

function Register({ onDone, onCancel }: { onDone(p: Patient): void; onCancel(): void }) {
  const [f, setF] = useState<RegistrationForm>(EMPTY);
  const [errors, setErrors] = useState<Record<string, string>>({});
  // One key per registration: a retry after a network failure registers the patient once.
  const [key] = useState(newIdempotencyKey);
  const qc = useQueryClient();
  // A registration that names likely duplicates waits for the desk to choose a record.
  const [registered, setRegistered] = useState<RegisteredPatient | null>(null);
  const m = useMutation({
    mutationFn: () => request<RegisteredPatient>("POST", "/v1/patients", { body: registrationBody(f), idempotencyKey: key }),
    onSuccess: (r) => {
      const { possibleDuplicates, ...p } = r.data;
      qc.setQueryData(keys.patient(p.id), { value: p, version: p.version });
      if (possibleDuplicates?.length) setRegistered(r.data);
      else onDone(p);
    },
    onError: (e) => setErrors(apiFieldErrors(e)),
  });
  const set = (k: keyof RegistrationForm) => (e: { target: { value: string } }) => setF({ ...f, [k]: e.target.value });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const v = validateRegistration(f);
    setErrors(v);
    if (Object.keys(v).length === 0) m.mutate();
  };
  const dup = m.error instanceof ApiError && m.error.reason === "duplicate_mrn" ? String(m.error.details.patientId ?? "") : "";
  if (registered) {
    const { possibleDuplicates = [], ...p } = registered;
    return (
      <section className="card" aria-labelledby="reg-title">
        <h2 id="reg-title" className="mb-2 text-lg font-semibold">
          Possible duplicate record
        </h2>
        <Notice tone="warning">
          {fullName(p)} is registered ({p.mrn}), but the clinic already has{" "}
          {possibleDuplicates.length === 1 ? "a patient" : "patients"} with the same name and birth date. If it is the same
          person, open the existing record.
        </Notice>
        <ul className="my-3 grid gap-2">
          {possibleDuplicates.map((d) => (
            <li key={d.id}>
              <button type="button" className="btn btn-secondary" onClick={() => onDone({ id: d.id } as Patient)}>
                Open {patientLine(d)}
              </button>
            </li>
          ))}
        </ul>
        <button type="button" className="btn btn-primary" onClick={() => onDone(p as Patient)}>
          Continue with the new record ({p.mrn})
        </button>
      </section>
    );
  }
  return (
    <section className="card" aria-labelledby="reg-title">
      <h2 id="reg-title" className="mb-2 text-lg font-semibold">
        Register a new patient
      </h2>
      <form onSubmit={submit} noValidate className="grid gap-3 sm:grid-cols-2">
        <TextField label="Given name" required value={f.givenName} onChange={set("givenName")} error={errors.givenName} autoComplete="off" />
        <TextField label="Family name" required value={f.familyName} onChange={set("familyName")} error={errors.familyName} autoComplete="off" />
        <TextField label="Birth date" type="date" required value={f.birthDate} onChange={set("birthDate")} error={errors.birthDate} hint="YYYY-MM-DD" />
        <SelectField
          label="Sex"
          required
          value={f.sex}
          onChange={set("sex")}
          error={errors.sex}
          options={[
            { value: "", label: "Choose…" },
            { value: "female", label: "Female" },
            { value: "male", label: "Male" },
            { value: "other", label: "Other" },
            { value: "unknown", label: "Unknown" },
          ]}
        />
        <TextField label="Phone (optional)" type="tel" value={f.phone} onChange={set("phone")} error={errors.phone} autoComplete="off" />
        <TextField label="MRN (optional)" value={f.mrn} onChange={set("mrn")} error={errors.mrn} hint="Leave empty to have the clinic assign one." />
        <div className="sm:col-span-2">
          {dup ? (
            <Notice tone="warning">
              This MRN already belongs to a patient of the clinic; it is most likely the same person.{" "}
              <button type="button" className="underline" onClick={() => onDone({ id: dup } as Patient)}>
                Open that patient
              </button>
            </Notice>
          ) : (
            m.error && <UnshownFieldErrors error={m.error} shown={(k) => k in EMPTY} />
          )}
        </div>
        <div className="flex gap-2 sm:col-span-2">
          <button type="submit" className="btn btn-primary" disabled={m.isPending}>
            {m.isPending ? "Registering…" : "Register"}
          </button>
          <button type="button" className="btn btn-secondary" onClick={onCancel}>
            Cancel
          </button>
        </div>
      </form>
    </section>
  );
}

function CheckIn({ patientId }: { patientId: string }) {
  const patient = usePatient(patientId);
  const [complaint, setComplaint] = useState("");
  const [mode, setMode] = useState("walk_in");
  const [err, setErr] = useState<string>();
  const [key, setKey] = useState(newIdempotencyKey);
  const [done, setDone] = useState<Encounter | null>(null);
  useEffect(() => {
    setDone(null);
    setComplaint("");
    setKey(newIdempotencyKey());
  }, [patientId]);
  const m = useMutation({
    mutationFn: () =>
      post<Encounter>("/v1/encounters", { patientId, chiefComplaint: complaint.trim(), arrivalMode: mode }, { idempotencyKey: key }),
    onSuccess: (enc) => {
      setDone(enc);
      setKey(newIdempotencyKey());
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const v = validateComplaint(complaint);
    setErr(v);
    if (!v) m.mutate();
  };
  if (patient.isLoading) return <Loading label="Opening the patient" />;
  if (patient.error) return <ErrorNotice error={patient.error} onRetry={() => void patient.refetch()} />;
  const p = patient.data!.value;
  const open = m.error instanceof ApiError && m.error.reason === "open_encounter";
  return (
    <section className="card space-y-3" aria-labelledby="ci-title">
      <h2 id="ci-title" className="text-lg font-semibold">
        {fullName(p)}
      </h2>
      <p className="text-sm">{patientLine(p)}</p>
      {p.allergies.length > 0 && (
        <p className="text-sm">
          <strong>Allergies:</strong> {p.allergies.map((a) => a.substance + (a.severity ? ` (${a.severity})` : "")).join(", ")}
        </p>
      )}
      <VisitHistory patientId={p.id} />
      {done ? (
        <Notice tone="success">
          Checked in at {formatDateTime(done.arrivedAt)}: {fullName(p)} is on the <Link to="/board" className="underline">live board</Link>,
          waiting for triage.
        </Notice>
      ) : (
        <form onSubmit={submit} noValidate className="space-y-3" aria-label="Check in">
          <TextArea
            label="Chief complaint, in the patient's words"
            required
            rows={3}
            maxLength={500}
            value={complaint}
            onChange={(e) => setComplaint(e.target.value)}
            error={err ?? apiFieldErrors(m.error).chiefComplaint}
          />
          <SelectField
            label="Arrival"
            value={mode}
            onChange={(e) => setMode(e.target.value)}
            options={[
              { value: "walk_in", label: "Walk-in" },
              { value: "private_vehicle", label: "Private vehicle" },
              { value: "ambulance", label: "Ambulance" },
            ]}
          />
          {open ? (
            <Notice tone="warning">This patient is already checked in: their visit is open on the live board.</Notice>
          ) : (
            m.error && <ErrorNotice error={m.error} />
          )}
          <button type="submit" className="btn btn-primary" disabled={m.isPending}>
            {m.isPending ? "Checking in…" : "Check in"}
          </button>
        </form>
      )}
    </section>
  );
}

function VisitHistory({ patientId }: { patientId: string }) {
  const q = useQuery({
    queryKey: ["visits", patientId],
    queryFn: () => request<{ items: Encounter[] }>("GET", `/v1/patients/${encodeURIComponent(patientId)}/encounters`, { query: { pageSize: 5 } }),
  });
  const items = q.data?.data.items ?? [];
  if (items.length === 0) return null;
  return (
    <details className="text-sm">
      <summary className="cursor-pointer">Recent visits ({items.length})</summary>
      <ul className="mt-1 list-disc pl-5">
        {items.map((e) => (
          <li key={e.id}>
            {formatDateTime(e.arrivedAt)}: {e.chiefComplaint} — {STATUS_LABEL[e.status] ?? e.status}
          </li>
        ))}
      </ul>
    </details>
  );
}

// Emergency ("break-glass") access for nurses and doctors: read access for one hour to a
// patient of another clinic of the organisation, with a stated reason, audited in both
// clinics and reviewed by that clinic's admins.
import { useState, type FormEvent } from "react";
import { useMutation } from "@tanstack/react-query";
import { newIdempotencyKey, post } from "../api/client";
import type { BreakGlassGrant } from "../api/types";
import { formatDateTime } from "../lib/format";
import { TextArea, TextField } from "../ui/controls";
import { apiFieldErrors, ErrorNotice, Notice, PageTitle } from "../ui/feedback";
import { SourceRecord } from "./encounter/Summary";

export default function BreakGlass() {
  const [clinicId, setClinicId] = useState("");
  const [patientId, setPatientId] = useState("");
  const [reason, setReason] = useState("");
  const m = useMutation({
    mutationFn: () =>
      post<BreakGlassGrant>(
        "/v1/access/break-glass",
        { ...(clinicId.trim() ? { clinicId: clinicId.trim() } : {}), patientId: patientId.trim(), reason: reason.trim() },
        { idempotencyKey: newIdempotencyKey() },
      ),
  });
  const f = apiFieldErrors(m.error);
  const len = [...reason.trim()].length;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    m.mutate();
  };
  return (
    <div className="max-w-2xl">
      <PageTitle>Emergency access</PageTitle>
      <Notice tone="warning">
        Only when the patient's care needs it now. Your reason is recorded in both clinics' audit trails and that clinic's administrators are
        alerted and review it.
      </Notice>
      {m.data ? (
        <div className="mt-4 space-y-3">
          <Notice tone="success">Access granted until {formatDateTime(m.data.expiresAt)}.</Notice>
          <SourceRecord id={`patient/${m.data.patientId}`} />
        </div>
      ) : (
        <form onSubmit={submit} noValidate className="card mt-4 space-y-3">
          <TextField label="Clinic of the patient" value={clinicId} onChange={(e) => setClinicId(e.target.value)} error={f.clinicId} hint="The clinic id, as the transferring clinic gave it." />
          <TextField label="Patient id" required value={patientId} onChange={(e) => setPatientId(e.target.value)} error={f.patientId} autoComplete="off" />
          <TextArea
            label="Reason (10–500 characters)"
            required
            rows={3}
            maxLength={500}
            value={reason}
            onChange={(e) => setReason(e.target.value)}
            error={f.reason ?? (reason && len < 10 ? "must be at least 10 characters" : undefined)}
          />
          {m.error && Object.keys(f).length === 0 && <ErrorNotice error={m.error} />}
          <button type="submit" className="btn btn-danger" disabled={m.isPending || len < 10 || !patientId.trim()}>
            Request emergency access
          </button>
        </form>
      )}
    </div>
  );
}

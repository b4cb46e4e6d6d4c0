// The audit trail with filters (person, patient, action, time range), newest first, a
// page at a time; and the verification of its hash chain.
import { useState, type FormEvent } from "react";
import { useInfiniteQuery, useMutation } from "@tanstack/react-query";
import { get, request } from "../../api/client";
import type { AuditPage, AuditVerification } from "../../api/types";
import { formatDateTime } from "../../lib/format";
import { TextField } from "../../ui/controls";
import { ErrorNotice, Loading, Notice, PageTitle } from "../../ui/feedback";

interface Filters {
  actor: string;
  patient: string;
  action: string;
  from: string;
  to: string;
}

const EMPTY: Filters = { actor: "", patient: "", action: "", from: "", to: "" };

/** A datetime-local value as RFC 3339 (the browser's time zone), or undefined. */
export function toRFC3339(v: string): string | undefined {
  if (!v) return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

export default function Audit() {
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const q = useInfiniteQuery({
    queryKey: ["audit", filters],
    initialPageParam: "",
    queryFn: ({ pageParam }) =>
      get<AuditPage>("/v1/audit", {
        query: {
          actor: filters.actor.trim() || undefined,
          patient: filters.patient.trim() || undefined,
          action: filters.action.trim() || undefined,
          from: toRFC3339(filters.from),
          to: toRFC3339(filters.to),
          pageSize: 50,
          pageToken: pageParam || undefined,
        },
      }),
    getNextPageParam: (p) => p.nextPageToken || undefined,
  });
  const verify = useMutation({ mutationFn: () => request<AuditVerification>("GET", "/v1/audit/verify") });
  const set = (k: keyof Filters) => (e: { target: { value: string } }) => setDraft({ ...draft, [k]: e.target.value });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setFilters(draft);
  };
  const records = q.data?.pages.flatMap((p) => p.items) ?? [];
  const v = verify.data?.data;
  return (
    <div>
      <PageTitle
        actions={
          <button type="button" className="btn btn-primary" disabled={verify.isPending} onClick={() => verify.mutate()}>
            {verify.isPending ? "Verifying…" : "Verify the chain"}
          </button>
        }
      >
        Audit trail
      </PageTitle>
      <div aria-live="polite" className="mb-3">
        {verify.error && <ErrorNotice error={verify.error} />}
        {v &&
          (v.valid ? (
            <Notice tone="success">
              Intact: {v.checked} records checked up to #{v.headSeq}, {formatDateTime(v.verifiedAt)}.
            </Notice>
          ) : (
            <Notice tone="warning">
              Broken at record #{v.firstBreak?.seq ?? "?"} ({(v.firstBreak?.kind ?? "unknown").replaceAll("_", " ")}). This is a security
              incident: do not repair it; report it to the platform team with request id {verify.data!.requestId}.
            </Notice>
          ))}
      </div>
      <form onSubmit={submit} className="card mb-4 grid gap-3 sm:grid-cols-3 lg:grid-cols-6 lg:items-end" aria-label="Filter the audit trail">
        <TextField label="Person (uid)" value={draft.actor} onChange={set("actor")} autoComplete="off" />
        <TextField label="Patient id" value={draft.patient} onChange={set("patient")} autoComplete="off" />
        <TextField label="Action" value={draft.action} onChange={set("action")} hint="e.g. patient.read" autoComplete="off" />
        <TextField label="From" type="datetime-local" value={draft.from} onChange={set("from")} />
        <TextField label="To" type="datetime-local" value={draft.to} onChange={set("to")} />
        <div className="flex gap-2">
          <button type="submit" className="btn btn-primary">
            Filter
          </button>
          <button
            type="button"
            className="btn btn-secondary"
            onClick={() => {
              setDraft(EMPTY);
              setFilters(EMPTY);
            }}
          >
            Clear
          </button>
        </div>
      </form>
      {q.isLoading ? (
        <Loading />
      ) : q.error ? (
        <ErrorNotice error={q.error} onRetry={() => void q.refetch()} />
      ) : (
        <div className="card overflow-x-auto">
          <table className="table" data-testid="audit-table">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">Action</th>
                <th scope="col">Record</th>
                <th scope="col">Patient</th>
                <th scope="col">Outcome</th>
                <th scope="col">Sealed</th>
              </tr>
            </thead>
            <tbody>
              {records.map((r) => (
                <tr key={r.id}>
                  <td>{formatDateTime(r.time)}</td>
                  <td>
                    {r.actorRole} <span className="muted break-all">{r.actorUid}</span>
                  </td>
                  <td>{r.action}</td>
                  <td className="break-all">
                    {r.resourceType} {r.resourceId}
                  </td>
                  <td className="break-all">{r.patientId ?? ""}</td>
                  <td>
                    {r.outcome}
                    {r.reason ? `: ${r.reason}` : ""}
                  </td>
                  <td>{r.sealed ? `#${r.seq}` : "pending"}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {records.length === 0 && <p className="p-2">No record matches.</p>}
          {q.hasNextPage && (
            <button type="button" className="btn btn-secondary mt-2" disabled={q.isFetchingNextPage} onClick={() => void q.fetchNextPage()}>
              Older records
            </button>
          )}
        </div>
      )}
    </div>
  );
}

// Emergency access review: every break-glass grant on the clinic's patients, newest
// first, with who, why and until when; an unjustified one is revoked at once. A revoked
// grant blocks new requests by the same person for the same patient until an admin lifts
// the block here. The alert e-mail links here with ?grant=<id>, which is highlighted.
import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { get, request } from "../../api/client";
import type { BreakGlassGrant } from "../../api/types";
import { useSearch } from "../../lib/router";
import { formatDateTime } from "../../lib/format";
import { ErrorNotice, Loading, PageTitle } from "../../ui/feedback";

export default function Access() {
  const [activeOnly, setActiveOnly] = useState(false);
  const highlight = useSearch().get("grant");
  const q = useQuery({
    queryKey: ["grants", activeOnly],
    queryFn: () => get<{ items: BreakGlassGrant[] }>("/v1/access/break-glass", { query: { active: activeOnly ? "true" : undefined } }),
  });
  return (
    <div>
      <PageTitle>Emergency access review</PageTitle>
      <label className="mb-3 flex items-center gap-2 text-sm">
        <input type="checkbox" checked={activeOnly} onChange={(e) => setActiveOnly(e.target.checked)} /> Active grants only
      </label>
      {q.isLoading ? (
        <Loading />
      ) : q.error ? (
        <ErrorNotice error={q.error} onRetry={() => void q.refetch()} />
      ) : q.data!.items.length === 0 ? (
        <p className="card">No emergency access to the clinic's patients{activeOnly ? " is active" : " on record"}.</p>
      ) : (
        <div className="card overflow-x-auto">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Granted</th>
                <th scope="col">Who</th>
                <th scope="col">Patient</th>
                <th scope="col">Reason</th>
                <th scope="col">Until</th>
                <th scope="col">Action</th>
              </tr>
            </thead>
            <tbody>
              {q.data!.items.map((g) => (
                <GrantRow key={g.id} g={g} highlighted={g.id === highlight} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function GrantRow({ g, highlighted }: { g: BreakGlassGrant; highlighted: boolean }) {
  const qc = useQueryClient();
  const m = useMutation({
    mutationFn: () => request<BreakGlassGrant>("DELETE", `/v1/access/break-glass/${encodeURIComponent(g.id)}`),
    onSuccess: () => void qc.invalidateQueries({ queryKey: ["grants"] }),
  });
  const lift = useMutation({
    mutationFn: () => request<BreakGlassGrant>("DELETE", `/v1/access/break-glass/${encodeURIComponent(g.id)}/block`),
    onSuccess: () => void qc.invalidateQueries({ queryKey: ["grants"] }),
  });
  return (
    <tr className={highlighted ? "bg-amber-50 dark:bg-amber-950" : undefined} aria-current={highlighted ? "true" : undefined}>
      <td>{formatDateTime(g.createdAt)}</td>
      <td>
        {g.granteeRole} {g.granteeUid} <span className="muted">({g.granteeClinicId})</span>
      </td>
      <td className="break-all">{g.patientId}</td>
      <td>{g.reason}</td>
      <td>{g.revokedAt ? `revoked ${formatDateTime(g.revokedAt)}` : formatDateTime(g.expiresAt)}</td>
      <td>
        {g.active && !g.revokedAt ? (
          <button type="button" className="btn btn-danger" disabled={m.isPending} onClick={() => m.mutate()}>
            Revoke
          </button>
        ) : g.blocking ? (
          <div className="space-y-1">
            <p className="text-sm">Blocks new requests by this person for this patient.</p>
            <button type="button" className="btn btn-secondary" disabled={lift.isPending} onClick={() => lift.mutate()}>
              Lift the block
            </button>
          </div>
        ) : (
          <span className="muted">ended{g.blockLiftedAt ? `; block lifted ${formatDateTime(g.blockLiftedAt)}` : ""}</span>
        )}
        {m.error && <ErrorNotice error={m.error} />}
        {lift.error && <ErrorNotice error={lift.error} />}
      </td>
    </tr>
  );
}

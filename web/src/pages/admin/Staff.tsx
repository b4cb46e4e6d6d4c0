// Staff: invite colleagues, change a role, disable, and sign someone out of every
// device (DELETE /v1/staff/{uid}/sessions). Changes to who can do what need a recent
// sign-in: the app asks for the password.
import { useState, type FormEvent } from "react";
import { useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { get, newIdempotencyKey, post, request } from "../../api/client";
import type { Role, SessionsRevoked, StaffPage, StaffProfile } from "../../api/types";
import { useMe } from "../../auth/session";
import { SelectField, TextField } from "../../ui/controls";
import { formatTime } from "../../lib/format";
import { apiFieldErrors, ErrorNotice, Loading, Notice, PageTitle } from "../../ui/feedback";

const ROLES: Role[] = ["receptionist", "nurse", "doctor", "admin"];
const roleOptions = ROLES.map((r) => ({ value: r, label: r[0].toUpperCase() + r.slice(1) }));

export default function Staff() {
  const q = useInfiniteQuery({
    queryKey: ["staff"],
    initialPageParam: "",
    queryFn: ({ pageParam }) => get<StaffPage>("/v1/staff", { query: { pageSize: 100, pageToken: pageParam } }),
    getNextPageParam: (p) => p.nextPageToken || undefined,
  });
  const staff = q.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <div>
      <PageTitle>Staff</PageTitle>
      <Invite />
      <section className="card mt-4 overflow-x-auto" aria-labelledby="staff-title">
        <h2 id="staff-title" className="mb-2 text-lg font-semibold">
          People of the clinic
        </h2>
        {q.isLoading ? (
          <Loading />
        ) : q.error ? (
          <ErrorNotice error={q.error} onRetry={() => void q.refetch()} />
        ) : (
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">E-mail</th>
                <th scope="col">Role</th>
                <th scope="col">Status</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {staff.map((s) => (
                <StaffRow key={s.uid} s={s} />
              ))}
            </tbody>
          </table>
        )}
        {q.hasNextPage && (
          <button type="button" className="btn btn-secondary mt-2" onClick={() => void q.fetchNextPage()}>
            Show more
          </button>
        )}
      </section>
    </div>
  );
}

function StaffRow({ s }: { s: StaffProfile }) {
  const me = useMe();
  const qc = useQueryClient();
  const self = s.uid === me.uid;
  const [role, setRole] = useState<Role>(s.role);
  const m = useMutation({
    mutationFn: (patch: Partial<Pick<StaffProfile, "role" | "disabled" | "displayName">>) =>
      request<StaffProfile>("PATCH", `/v1/staff/${encodeURIComponent(s.uid)}`, { body: patch }),
    onSuccess: () => void qc.invalidateQueries({ queryKey: ["staff"] }),
    onError: () => setRole(s.role),
  });
  // A lost phone, a workstation left signed in: every session of theirs ends now; the
  // account stays usable (they sign in again). Disabling is for locking someone out.
  const revoke = useMutation({
    mutationFn: () => request<SessionsRevoked>("DELETE", `/v1/staff/${encodeURIComponent(s.uid)}/sessions`),
  });
  return (
    <tr>
      <td>{s.displayName}</td>
      <td className="break-all">{s.email}</td>
      <td>
        <label className="sr-only" htmlFor={`role-${s.uid}`}>
          Role of {s.displayName}
        </label>
        <select id={`role-${s.uid}`} className="input w-auto" value={role} disabled={self || m.isPending} onChange={(e) => setRole(e.target.value as Role)}>
          {roleOptions.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
        {role !== s.role && (
          <button type="button" className="btn btn-primary mt-1" disabled={m.isPending} onClick={() => m.mutate({ role })}>
            Save role
          </button>
        )}
      </td>
      <td>{s.disabled ? "Disabled" : "Active"}</td>
      <td>
        {!self && (
          <div className="flex flex-wrap gap-2">
            <button type="button" className="btn btn-secondary" disabled={m.isPending} onClick={() => m.mutate({ disabled: !s.disabled })}>
              {s.disabled ? `Enable ${s.displayName}` : `Disable ${s.displayName}`}
            </button>
            {!s.disabled && (
              <button type="button" className="btn btn-secondary" disabled={revoke.isPending} onClick={() => revoke.mutate()}>
                Sign {s.displayName} out everywhere
              </button>
            )}
          </div>
        )}
        {self && <span className="muted text-sm">you</span>}
        {m.error && <ErrorNotice error={m.error} />}
        {m.isSuccess && <p className="text-sm">Saved; their sessions were ended where the change requires it.</p>}
        {revoke.error && <ErrorNotice error={revoke.error} />}
        {revoke.data && (
          <p role="status" className="text-sm">
            {s.displayName} is signed out of every device (sessions before {formatTime(revoke.data.data.revokedAt)} refused); they can sign in again.
          </p>
        )}
      </td>
    </tr>
  );
}

function Invite() {
  const qc = useQueryClient();
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role>("nurse");
  const m = useMutation({
    mutationFn: () =>
      post<StaffProfile & { invitationQueued: boolean }>(
        "/v1/staff",
        { email: email.trim(), displayName: name.trim(), role },
        { idempotencyKey: newIdempotencyKey() },
      ),
    onSuccess: () => {
      setEmail("");
      setName("");
      void qc.invalidateQueries({ queryKey: ["staff"] });
    },
  });
  const f = apiFieldErrors(m.error);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    m.mutate();
  };
  return (
    <section className="card" aria-labelledby="invite-title">
      <h2 id="invite-title" className="mb-2 text-lg font-semibold">
        Add a colleague
      </h2>
      <form onSubmit={submit} className="grid gap-3 sm:grid-cols-4 sm:items-end">
        <TextField label="Work e-mail" type="email" required value={email} onChange={(e) => setEmail(e.target.value)} error={f.email} autoComplete="off" />
        <TextField label="Name shown to colleagues" required value={name} onChange={(e) => setName(e.target.value)} error={f.displayName} autoComplete="off" />
        <SelectField label="Role" value={role} onChange={(e) => setRole(e.target.value as Role)} options={roleOptions} error={f.role} />
        <button type="submit" className="btn btn-primary" disabled={m.isPending}>
          Send invitation
        </button>
      </form>
      <div className="mt-2">
        {m.error && Object.keys(f).length === 0 && <ErrorNotice error={m.error} />}
        {m.data && (
          <Notice tone={m.data.invitationQueued ? "success" : "warning"}>
            {m.data.displayName} was added as {m.data.role}.{" "}
            {m.data.invitationQueued
              ? "The invitation e-mail is on its way."
              : "The invitation could not be sent: ask them to use “Forgot password” on the sign-in screen."}
          </Notice>
        )}
      </div>
    </section>
  );
}

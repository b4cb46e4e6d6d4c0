// Display helpers: dates in the user's locale, durations in minutes, names.
import type { Patient, PatientSummary } from "../api/types";

export function fullName(p: Pick<PatientSummary, "givenName" | "familyName"> | undefined): string {
  if (!p) return "";
  return `${p.familyName}, ${p.givenName}`;
}

export function ageYears(birthDate: string, now = new Date()): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(birthDate);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  let age = now.getUTCFullYear() - y;
  if (now.getUTCMonth() + 1 < mo || (now.getUTCMonth() + 1 === mo && now.getUTCDate() < d)) age--;
  return age;
}

export function formatTime(iso: string | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "" : d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}

export function formatDateTime(iso: string | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "" : d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function minutes(n: number): string {
  if (n < 60) return `${n} min`;
  const h = Math.floor(n / 60);
  const m = n % 60;
  return m ? `${h} h ${m} min` : `${h} h`;
}

export function patientLine(p: Patient | PatientSummary): string {
  const age = ageYears(p.birthDate);
  return `${fullName(p)} · ${p.sex}${age !== null ? ` · ${age} y` : ""} · MRN ${p.mrn}`;
}

export const STATUS_LABEL: Record<string, string> = {
  waiting: "Waiting for triage",
  triaged: "Triaged, waiting",
  in_consultation: "With a doctor",
  completed: "Completed",
  cancelled: "Cancelled",
  left_without_being_seen: "Left without being seen",
};

// Shared queries: the objects several screens read, cached by id.
import { useQuery } from "@tanstack/react-query";
import { get, request } from "./client";
import type { DoctorDirectory, Encounter, Patient } from "./types";

export const keys = {
  patient: (id: string) => ["patient", id] as const,
  encounter: (id: string) => ["encounter", id] as const,
  triage: (id: string) => ["triage", id] as const,
  doctors: ["doctors"] as const,
  note: (id: string) => ["note", id] as const,
  notesOf: (encounterId: string) => ["notes", encounterId] as const,
  summary: (patientId: string) => ["summary", patientId] as const,
};

export interface Versioned<T> {
  value: T;
  version: number;
}

function versionOf(etag: string | undefined, fallback: number): number {
  const n = Number((etag ?? "").replace(/^W\//, "").replaceAll('"', ""));
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

/** A patient of the clinic (an audited read; cached for a few minutes). */
export function usePatient(id: string | undefined) {
  return useQuery({
    queryKey: keys.patient(id ?? ""),
    enabled: !!id,
    staleTime: 5 * 60_000,
    queryFn: async (): Promise<Versioned<Patient>> => {
      const r = await request<Patient>("GET", `/v1/patients/${encodeURIComponent(id!)}`);
      return { value: r.data, version: versionOf(r.etag, r.data.version) };
    },
  });
}

export function useEncounter(id: string | undefined, opts: { refetchInterval?: number } = {}) {
  return useQuery({
    queryKey: keys.encounter(id ?? ""),
    enabled: !!id,
    refetchInterval: opts.refetchInterval,
    queryFn: async (): Promise<Versioned<Encounter>> => {
      const r = await request<Encounter>("GET", `/v1/encounters/${encodeURIComponent(id!)}`);
      return { value: r.data, version: versionOf(r.etag, r.data.version) };
    },
  });
}

export function useDoctors() {
  return useQuery({ queryKey: keys.doctors, staleTime: 5 * 60_000, queryFn: () => get<DoctorDirectory>("/v1/staff/doctors") });
}

// Shared queries: the objects several screens read, cached by id.
import { useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";
import { get, post, request } from "./client";
import type { DoctorDirectory, Encounter, Patient, PatientSearchPage, PatientSummary } from "./types";

export const keys = {
  patient: (id: string) => ["patient", id] as const,
  patientSummary: (id: string) => ["patient-summary", id] as const,
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

/** How many ids one summaries request carries (the API's page size limit). */
export const SUMMARY_BATCH = 50;

/** Splits ids into the requests that fetch their summaries. */
export function summaryBatches(ids: string[]): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < ids.length; i += SUMMARY_BATCH) out.push(ids.slice(i, i + SUMMARY_BATCH));
  return out;
}

/** The query that fetches the summaries of the patients among ids not cached yet. */
function summariesQuery(qc: QueryClient, ids: string[]) {
  const unique = [...new Set(ids)].sort();
  const missing = unique.filter((id) => qc.getQueryData(keys.patientSummary(id)) === undefined);
  return {
    unique,
    missing,
    options: {
      queryKey: ["patient-summaries", missing],
      staleTime: 5 * 60_000,
      queryFn: async ({ signal }: { signal?: AbortSignal }): Promise<PatientSummary[]> => {
        const pages = await Promise.all(
          summaryBatches(missing).map((batch) => post<PatientSearchPage>("/v1/patients/search", { ids: batch, pageSize: batch.length }, { signal })),
        );
        const found = pages.flatMap((page) => page.items);
        for (const p of found) qc.setQueryData(keys.patientSummary(p.id), p);
        // Asked for and not returned: no such patient in the clinic (any more); remembered
        // as null so that it is not asked for again with every board update.
        const returned = new Set(found.map((p) => p.id));
        for (const id of missing) if (!returned.has(id)) qc.setQueryData(keys.patientSummary(id), null);
        return found;
      },
    },
  };
}

/**
 * Starts fetching the summaries of these patients now (e.g. when a board arrives, before
 * it is rendered): usePatientSummaries with the same ids then takes the request in flight.
 */
export function prefetchPatientSummaries(qc: QueryClient, ids: string[]): void {
  const { missing, options } = summariesQuery(qc, ids);
  if (missing.length > 0) void qc.prefetchQuery(options);
}

/**
 * The summaries (name, birth date, sex, MRN) of many patients, e.g. everyone on the live
 * board: the ids not cached yet are fetched together (POST /v1/patients/search with ids,
 * 50 a request, in parallel) instead of one request per patient; each summary is then
 * cached by id for a few minutes, so that a board update fetches only its new patients.
 */
export function usePatientSummaries(ids: string[]): { byId: Map<string, PatientSummary>; notFound: Set<string>; error: unknown } {
  const qc = useQueryClient();
  const { unique, missing, options } = summariesQuery(qc, ids);
  const q = useQuery({ ...options, enabled: missing.length > 0 });
  // q.data is read (not only the cache) so that its arrival re-renders the caller.
  const byId = new Map<string, PatientSummary>((q.data ?? []).map((p) => [p.id, p]));
  const notFound = new Set<string>();
  for (const id of unique) {
    if (byId.has(id)) continue;
    const p = qc.getQueryData<PatientSummary | null>(keys.patientSummary(id));
    if (p) byId.set(id, p);
    else if (p === null) notFound.add(id);
  }
  return { byId, notFound, error: q.error };
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

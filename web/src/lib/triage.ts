// The triage form's model: what the nurse typed turned into the engine's input, the age
// in the unit the engine wants, and re-assessment reminders.
import type { TriageInput, TriageResult } from "../api/types";
import { parseVital, VITALS, type FieldErrors, type VitalSpec } from "./validate";

export interface TriageForm {
  chiefComplaint: string;
  complaintCategory: string;
  arrivalMode: string;
  mentalStatus: string;
  painScore: string;
  vitals: Record<VitalSpec["key"], string>;
  /** "" not recorded, "air" room air, "oxygen" supplemental oxygen. */
  oxygen: "" | "air" | "oxygen";
  flags: { pregnant: boolean; immunocompromised: boolean };
}

export function emptyTriageForm(complaint = "", arrivalMode = ""): TriageForm {
  return {
    chiefComplaint: complaint,
    complaintCategory: "",
    arrivalMode,
    mentalStatus: "",
    painScore: "",
    vitals: { heartRate: "", respiratoryRate: "", systolicBP: "", diastolicBP: "", spo2: "", temperatureC: "" },
    oxygen: "",
    flags: { pregnant: false, immunocompromised: false },
  };
}

/**
 * The age the engine takes: years from one year on, else months, else days, on today's
 * date where the app runs (the clinic's calendar, against which the API checks a recorded
 * assessment's age).
 */
export function ageFields(birthDate: string, now = new Date()): Pick<TriageInput, "ageYears" | "ageMonths" | "ageDays"> {
  const b = new Date(`${birthDate}T00:00:00Z`);
  if (Number.isNaN(b.getTime())) return {};
  const today = new Date(Date.UTC(now.getFullYear(), now.getMonth(), now.getDate()));
  let months = (today.getUTCFullYear() - b.getUTCFullYear()) * 12 + (today.getUTCMonth() - b.getUTCMonth());
  if (today.getUTCDate() < b.getUTCDate()) months--;
  if (months >= 12) return { ageYears: Math.floor(months / 12) };
  if (months >= 1) return { ageMonths: months };
  return { ageDays: Math.max(0, Math.round((today.getTime() - b.getTime()) / 86_400_000)) };
}

/** Builds the engine's input; returns the field errors instead when a value is implausible. */
export function buildTriageInput(
  f: TriageForm,
  patient: { birthDate: string; sex: string },
  now = new Date(),
): { input: TriageInput; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const vitals: NonNullable<TriageInput["vitals"]> = {};
  for (const spec of VITALS) {
    const r = parseVital(spec, f.vitals[spec.key]);
    if (r.error) errors[`vitals.${spec.key}`] = r.error;
    else if (r.value !== null) vitals[spec.key] = spec.key === "temperatureC" ? r.value : Math.round(r.value);
  }
  if (f.oxygen) vitals.onSupplementalOxygen = f.oxygen === "oxygen";
  let painScore: number | null = null;
  if (f.painScore.trim()) {
    const p = Number(f.painScore);
    if (!Number.isInteger(p) || p < 0 || p > 10) errors.painScore = "must be a whole number from 0 to 10";
    else painScore = p;
  }
  const complaint = f.chiefComplaint.trim();
  if (!complaint) errors.chiefComplaint = "is required";
  else if ([...complaint].length > 1000) errors.chiefComplaint = "must be at most 1000 characters";
  const input: TriageInput = {
    ...ageFields(patient.birthDate, now),
    chiefComplaint: complaint,
    vitals,
    painScore,
  };
  if (["female", "male", "other", "unknown"].includes(patient.sex)) input.sex = patient.sex as TriageInput["sex"];
  if (f.complaintCategory) input.complaintCategory = f.complaintCategory as TriageInput["complaintCategory"];
  if (f.arrivalMode) input.arrivalMode = f.arrivalMode as TriageInput["arrivalMode"];
  if (f.mentalStatus) input.mentalStatus = f.mentalStatus as TriageInput["mentalStatus"];
  const flags: NonNullable<TriageInput["flags"]> = {};
  if (f.flags.pregnant) flags.pregnant = true;
  if (f.flags.immunocompromised) flags.immunocompromised = true;
  if (Object.keys(flags).length) input.flags = flags;
  return { input, errors };
}

/** Fills the form from a recorded input (re-assessment starts from the last values). */
export function formFromInput(input: Partial<TriageInput>): TriageForm {
  const f = emptyTriageForm(input.chiefComplaint ?? "", input.arrivalMode ?? "");
  f.complaintCategory = input.complaintCategory ?? "";
  f.mentalStatus = input.mentalStatus ?? "";
  f.painScore = input.painScore == null ? "" : String(input.painScore);
  for (const spec of VITALS) {
    const v = input.vitals?.[spec.key];
    f.vitals[spec.key] = v == null ? "" : String(v);
  }
  const o = input.vitals?.onSupplementalOxygen;
  f.oxygen = o == null ? "" : o ? "oxygen" : "air";
  f.flags = { pregnant: !!input.flags?.pregnant, immunocompromised: !!input.flags?.immunocompromised };
  return f;
}

/** When the next re-assessment is due, from the assessment's time and the NEWS2 interval. */
export function reassessDue(assessedAt: string, result: Pick<TriageResult, "reassessment">): Date | null {
  const r = result.reassessment;
  if (!r?.applicable || !(r.intervalMinutes > 0)) return null;
  const t = new Date(assessedAt).getTime();
  return Number.isNaN(t) ? null : new Date(t + r.intervalMinutes * 60_000);
}

const reminders = new Map<string, Date>();
const reminderListeners = new Set<() => void>();

/** Remembers (in memory, for this screen) when an encounter's re-assessment is due. */
export function setReminder(encounterId: string, due: Date | null): void {
  if (due) reminders.set(encounterId, due);
  else reminders.delete(encounterId);
  reminderListeners.forEach((l) => l());
}

export function reminderFor(encounterId: string): Date | undefined {
  return reminders.get(encounterId);
}

/** Whether an encounter's re-assessment (as remembered by setReminder) is due at now. */
export function reminderDue(encounterId: string, now = Date.now()): boolean {
  const d = reminders.get(encounterId);
  return d !== undefined && d.getTime() <= now;
}

export function onReminders(l: () => void): () => void {
  reminderListeners.add(l);
  return () => reminderListeners.delete(l);
}

export const PARAMETER_LABEL: Record<string, string> = {
  respiratoryRate: "Respiration rate",
  spo2: "SpO₂",
  airOrOxygen: "Air or oxygen",
  systolicBP: "Systolic BP",
  pulse: "Pulse",
  consciousness: "Consciousness",
  temperature: "Temperature",
};

export const COMPLAINT_CATEGORIES = [
  "abdominal_pain", "allergic_reaction", "back_pain", "chest_pain", "dental", "ear_nose_throat", "eye", "fever", "headache",
  "laceration", "major_trauma", "medication_refill", "mental_health", "minor_injury", "overdose_poisoning", "pregnancy_related",
  "rash", "seizure", "shortness_of_breath", "stroke_symptoms", "suicidal_ideation", "syncope", "urinary", "vomiting_diarrhoea", "other",
] as const;

const FIELD_LABEL: Record<string, string> = {
  "vitals.heartRate": "Heart rate",
  "vitals.respiratoryRate": "Respiratory rate",
  "vitals.systolicBP": "Systolic blood pressure",
  "vitals.diastolicBP": "Diastolic blood pressure",
  "vitals.spo2": "SpO₂",
  "vitals.temperatureC": "Temperature",
  "vitals.onSupplementalOxygen": "Air or oxygen",
  mentalStatus: "Mental status",
  painScore: "Pain score",
  expectedResources: "Expected resources",
  complaintCategory: "Complaint category",
  chiefComplaint: "Chief complaint",
};

/** A field path of the engine's input, in words. */
export function fieldLabel(field: string): string {
  return FIELD_LABEL[field] ?? FIELD_LABEL[`vitals.${field}`] ?? humanize(field.replace(/^vitals\./, ""));
}

export function humanize(code: string): string {
  const s = code.replaceAll("_", " ");
  return s.charAt(0).toUpperCase() + s.slice(1);
}

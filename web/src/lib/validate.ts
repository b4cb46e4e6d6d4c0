// Client-side checks that mirror the API's (shared/patient, the encounter check-in and
// the triage engine's plausible ranges), so that a form shows every problem before it is
// sent. The API stays the judge: its field errors are shown the same way.

export type FieldErrors = Record<string, string>;

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

function text(v: string, max: number, required: boolean): string | undefined {
  const s = v.trim();
  if (!s) return required ? "is required" : undefined;
  if ([...s].length > max) return `must be at most ${max} characters`;
  if (CONTROL.test(s)) return "must not contain control characters or line breaks";
  if (BIDI.test(s)) return "must not contain text-direction control characters";
  return undefined;
}

/** Today's date where it is latest (UTC+14), as the API accepts it. */
export function latestToday(now = new Date()): string {
  return new Date(now.getTime() + 14 * 3600_000).toISOString().slice(0, 10);
}

export function isDate(v: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) return false;
  const d = new Date(`${v}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === v;
}

export interface RegistrationForm {
  givenName: string;
  familyName: string;
  birthDate: string;
  sex: string;
  phone: string;
  mrn: string;
}

export function validateRegistration(f: RegistrationForm, now = new Date()): FieldErrors {
  const e: FieldErrors = {};
  for (const k of ["givenName", "familyName"] as const) {
    const m = text(f[k], 100, true) ?? (/[\p{L}\p{N}]/u.test(f[k]) ? undefined : "must contain a letter or digit");
    if (m) e[k] = m;
  }
  const bd = f.birthDate.trim();
  if (!bd) e.birthDate = "is required";
  else if (!isDate(bd)) e.birthDate = "must be a date YYYY-MM-DD";
  else if (bd < "1900-01-01") e.birthDate = "must not be before 1900-01-01";
  else if (bd > latestToday(now)) e.birthDate = "must not be in the future";
  if (!["female", "male", "other", "unknown"].includes(f.sex)) e.sex = f.sex ? "must be one of female, male, other, unknown" : "is required";
  const phone = f.phone.trim();
  if (phone) {
    const digits = phone.replace(/\D/g, "").length;
    const m = text(phone, 32, false);
    if (m) e.phone = m;
    else if (!/^\+?[0-9 ().-]+$/.test(phone) || digits < 5 || digits > 15)
      e.phone = "must be 5-15 digits, optionally with a leading + and spaces, dots, dashes or parentheses";
  }
  const mrn = f.mrn.trim();
  if (mrn) {
    const m = text(mrn, 32, false);
    if (m) e.mrn = m;
    else if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(mrn)) e.mrn = "must start with a letter or digit and hold only letters, digits, '.', '_' or '-'";
  }
  return e;
}

/** The registration body: trimmed, optional fields left out when empty. */
export function registrationBody(f: RegistrationForm): Record<string, string> {
  const b: Record<string, string> = {
    givenName: f.givenName.trim(),
    familyName: f.familyName.trim(),
    birthDate: f.birthDate.trim(),
    sex: f.sex,
  };
  if (f.phone.trim()) b.phone = f.phone.trim();
  if (f.mrn.trim()) b.mrn = f.mrn.trim();
  return b;
}

export function validateComplaint(v: string): string | undefined {
  return text(v, 500, true) === "is required" ? "is required" : [...v.trim()].length > 500 ? "must be at most 500 characters" : undefined;
}

/** What a search box's text means: an MRN when it looks like one, else a name prefix. */
export function searchCriteria(q: string): { mrn?: string; name?: string; birthDate?: string } | null {
  const s = q.trim();
  if (!s) return null;
  if (isDate(s)) return { birthDate: s };
  if (/\d/.test(s) && /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(s)) return { mrn: s };
  if (s.length < 2) return null;
  return { name: s };
}

/** Vital signs: units, and the ranges beyond which a value is a typing error rather than a patient. */
export interface VitalSpec {
  key: "heartRate" | "respiratoryRate" | "systolicBP" | "diastolicBP" | "spo2" | "temperatureC";
  label: string;
  unit: string;
  min: number;
  max: number;
  step: number;
}

export const VITALS: VitalSpec[] = [
  { key: "heartRate", label: "Heart rate", unit: "beats/min", min: 0, max: 300, step: 1 },
  { key: "respiratoryRate", label: "Respiratory rate", unit: "breaths/min", min: 0, max: 80, step: 1 },
  { key: "systolicBP", label: "Systolic blood pressure", unit: "mmHg", min: 0, max: 300, step: 1 },
  { key: "diastolicBP", label: "Diastolic blood pressure", unit: "mmHg", min: 0, max: 300, step: 1 },
  { key: "spo2", label: "Oxygen saturation (SpO₂)", unit: "%", min: 0, max: 100, step: 1 },
  { key: "temperatureC", label: "Temperature", unit: "°C", min: 25, max: 45, step: 0.1 },
];

/** Parses a vital's text: null when empty, a number, or an error message. */
export function parseVital(spec: VitalSpec, raw: string): { value: number | null; error?: string } {
  const s = raw.trim().replace(",", ".");
  if (!s) return { value: null };
  if (!/^-?\d+(\.\d+)?$/.test(s)) return { value: null, error: "must be a number" };
  const v = Number(s);
  if (v < spec.min || v > spec.max) return { value: null, error: `must be between ${spec.min} and ${spec.max} ${spec.unit}` };
  return { value: v };
}

// Types of the API's objects, generated from docs/openapi.yaml (npm run api-types writes
// schema.d.ts; the build regenerates it so that the app always compiles against the API
// it is served with).
import type { components } from "./schema";

export type Schemas = components["schemas"];
export type Me = Schemas["Me"];
export type Role = Schemas["Role"];
export type SessionInfo = Schemas["SessionInfo"];
export type QueueBoard = Schemas["QueueBoard"];
export type QueueEntry = Schemas["QueueEntry"];
export type Patient = Schemas["Patient"];
export type PatientSummary = Schemas["PatientSummary"];
export type RegisteredPatient = Schemas["RegisteredPatient"];
export type PatientRegistration = Schemas["PatientRegistration"];
export type PatientSearchPage = Schemas["PatientSearchPage"];
export type Encounter = Schemas["Encounter"];
export type EncounterStatus = Schemas["EncounterStatus"];
export type EncounterTransition = Schemas["EncounterTransition"];
export type TriageInput = Schemas["TriageInput"];
export type TriageResult = Schemas["TriageResult"];
export type TriageHistory = Schemas["TriageHistory"];
export type TriageRecorded = Schemas["TriageRecorded"];
export type TriageConfirmed = Schemas["TriageConfirmed"];
export type ScribeSession = Schemas["ScribeSession"];
export type SignedUpload = Schemas["SignedUpload"];
export type Note = Schemas["Note"];
export type NoteContent = Schemas["NoteContent"];
export type NoteSentence = Schemas["NoteSentence"];
export type NoteVersion = Schemas["NoteVersion"];
export type HistorySummary = Schemas["HistorySummary"];
export type SummaryCitation = Schemas["SummaryCitation"];
export type StaffProfile = Schemas["StaffProfile"];
export type StaffPage = Schemas["StaffPage"];
export type SessionsRevoked = Schemas["SessionsRevoked"];
export type AuditRecord = Schemas["AuditRecord"];
export type AuditPage = Schemas["AuditPage"];
export type AuditVerification = Schemas["AuditVerification"];
export type BreakGlassGrant = Schemas["BreakGlassGrant"];
export type DoctorDirectory = Schemas["DoctorDirectory"];

export const SOAP_SECTIONS = ["subjective", "objective", "assessment", "plan"] as const;
export type SoapSection = (typeof SOAP_SECTIONS)[number];
export type EncounterPage = Schemas["EncounterPage"];

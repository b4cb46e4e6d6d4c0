// Package summary builds, caches and serves a patient's history summary
// (clinics/{clinicId}/summaries/{patientId}): a one-screen digest in
// which every statement names the records it comes from.
//
// # Sources and the source hash
//
// The sources are the patient record (demographics, allergies, medications, problems), the
// patient's most recent encounters with their triage assessments (vital signs), and the
// approved versions of the patient's notes. [SourceHash] is the SHA-256 of a canonical,
// sorted listing of the source record ids with their versions: a stored summary whose
// hash equals the hash of the current records is fresh; any other is stale.
//
// # Engines
//
// [Extract] turns the sources into facts (synopsis, active problems, medications,
// allergies, recent encounters, vital-sign trends, open items from plans); every fact
// carries the ids of its source records, and nothing is stated without one. An [Engine]
// then writes the summary from those facts: [Deterministic] (extractive, the default) or
// [Gemini] (a narrative from the facts only, validated so that every sentence cites ids
// that exist). A model answer that fails validation, a failed call or an exhausted
// monthly budget falls back to the deterministic engine with the reason recorded.
//
// Nothing in this package logs patient data or puts it into errors.
package summary

// Package triagerecord records the triage of an encounter: its assessments (the triage engine,
// shared/triage, proposes; this package stores, confirms and publishes).
//
// # Data
//
// An assessment is stored as clinics/{clinicId}/encounters/{encounterId}/assessments/{n}
// (n zero-padded, 1-based, in recording order): what the nurse recorded (the engine's Input,
// as its JSON) and the engine's result as a [Result], a JSON- and Firestore-safe view of
// triage.Assessment whose lists are slices (the engine's fixed-size arrays never leak
// empty entries). The encounter's `triage` field (encounter.Triage) names the assessment in
// force and the level in force.
//
// # Rules (triage-rules.md section 1, "Rules from the ESI handbook")
//
//   - No level without an assessment with vital signs unless the patient is in extremis:
//     recording is refused (400, the missing vital signs named) while the engine says
//     VitalsRequired; an assessment decided at point A is recorded whatever is missing.
//   - The first assessment moves the encounter waiting -> triaged through
//     encounter.Store.TransitionTx in the same transaction (status time, event appended,
//     version, audit), announced with encounter.Store.Announce after the commit. A
//     re-assessment of a triaged encounter updates the triage and keeps the status.
//   - After triage the level in force may only become more urgent on its own: a
//     re-assessment that proposes a more urgent level raises the level in force; one that
//     proposes a less urgent level leaves the level in force as it is (a nurse may lower it
//     through a confirmation with a reason).
//   - A confirmation at the level in force or a more urgent one is accepted; a less urgent
//     one needs a reason and is audited as "triage.down_triage" with that reason.
//   - Once a doctor has seen the patient (status in_consultation or completed, or the
//     encounter was ever in_consultation) the level is frozen: a new assessment or a level
//     change is refused with 409 failed_precondition.
//
// Every change is audited in its own Firestore transaction, which also records the
// encounter.triaged fact (ids and level only) in the encounter outbox
// (encounter.Store.RecordTx), with an event id derived from the encounter's version so
// that a re-sent event is deduplicated by consumers. After the commit (after the answer,
// in an HTTP request) it is published on the encounter-events topic and its entry
// deleted; one that is not published stays for the encounter-outbox function.
//
// # SLA logging
//
// [LogSLA] writes the structured log line "triage_sla_breach" (field slaBreach=true, a
// log-based metric counts it) when the time since arrival exceeds the target time to
// physician of the level (triage-rules.md section 4). The service calls it when an assessment is
// recorded and when a level is confirmed; the queue function should call it when a
// consultation starts (the time to physician proper).
package triagerecord

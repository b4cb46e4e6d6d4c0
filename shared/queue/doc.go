// Package queue is the live queue of a clinic: the order in which waiting patients
// should see a doctor, their estimated time to doctor, and the board document
// (clinics/{clinicId}/boards/queue) that staff apps read or listen to.
//
// The pure core has no I/O:
//
//   - Order ranks the waiting and triaged encounters (level 1 first, untriaged after
//     level 2, then arrival; over-target patients move up, see Order).
//   - Estimator gives each patient a P50 and P90 of the time to doctor by Monte Carlo
//     over list schedules of the doctors on duty, with consultation durations learned
//     per level (LearnServiceModel) on top of published priors; see Estimator.
//   - BuildBoard puts both together into a Board.
//
// The adapters: Store reads the source of truth and reads and writes boards in
// Firestore; Projector (used by the queue-projector function) rebuilds a clinic's
// board on each encounter event, written only when built from a newer read, so that
// duplicate and reordered events cannot corrupt it. docs/queue.md describes the
// method and its measured accuracy (scripts/cmd/queuesim).
package queue

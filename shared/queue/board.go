package queue

import (
	"time"

	"github.com/medi-os/medi/shared/encounter"
)

// BoardsCollection and BoardDocID locate the board: clinics/{clinicId}/boards/queue.
const (
	BoardsCollection = "boards"
	BoardDocID       = "queue"
)

// MaxBoardEntries bounds the board document (a Firestore document holds at most
// 1 MiB; an entry takes about 300 bytes). Patients beyond it are counted in Omitted.
const MaxBoardEntries = 1000

// Board is the queue board of a clinic: the projection clients read in one document
// (GET /v1/queue, the SSE stream, or a Firestore listener). It holds identifiers,
// levels and times only: no names, no complaint text.
type Board struct {
	ClinicID string `firestore:"clinicId" json:"clinicId"`
	// Version increases by one with every write of the board.
	Version int64 `firestore:"version" json:"version"`
	// BuiltAt is when the board was computed; waited minutes, over-target flags and
	// estimates are as of this time.
	BuiltAt time.Time `firestore:"builtAt" json:"builtAt,omitzero"`
	// SourceReadAt is the Firestore read time of the encounters the board was built
	// from. A board is only replaced by one built from a later read.
	SourceReadAt  time.Time `firestore:"sourceReadAt" json:"sourceReadAt,omitzero"`
	DoctorsOnDuty int       `firestore:"doctorsOnDuty" json:"doctorsOnDuty"`
	// InConsultation is the number of consultations in progress.
	InConsultation int `firestore:"inConsultation" json:"inConsultation"`
	// Entries are the waiting and triaged encounters in the order doctors should see
	// them (see Order).
	Entries []Entry `firestore:"entries" json:"entries"`
	// Omitted counts queued encounters left off a board longer than MaxBoardEntries.
	Omitted   int           `firestore:"omitted" json:"omitted"`
	Estimator EstimatorInfo `firestore:"estimator" json:"estimator"`
}

// EstimatorInfo says how the board's wait estimates were made.
type EstimatorInfo struct {
	Version string `firestore:"version" json:"version"`
	Runs    int    `firestore:"runs" json:"runs"`
	// EstimatedAt is when the entries' wait estimates were made (see SetEstimates): at
	// BuiltAt, or shortly before when the projector wrote the board's new entries first
	// and their estimates after. Zero when the board has none yet.
	EstimatedAt time.Time `firestore:"estimatedAt" json:"estimatedAt,omitzero"`
	// LearnedFrom is the number of completed consultations the duration model was
	// learned from (0: priors only).
	LearnedFrom int `firestore:"learnedFrom" json:"learnedFrom"`
}

// Entry is one patient on the board.
type Entry struct {
	EncounterID string `firestore:"encounterId" json:"encounterId"`
	PatientID   string `firestore:"patientId" json:"patientId"`
	// Position is 1 for the patient to be seen first.
	Position int `firestore:"position" json:"position"`
	// Level is the triage level, null while untriaged.
	Level     *int             `firestore:"level" json:"level"`
	Status    encounter.Status `firestore:"status" json:"status"`
	ArrivedAt time.Time        `firestore:"arrivedAt" json:"arrivedAt"`
	// WaitedMinutes is the time since arrival at BuiltAt, in whole minutes.
	WaitedMinutes int `firestore:"waitedMinutes" json:"waitedMinutes"`
	// TargetMinutes is the target time to doctor of the level (to triage, untriaged).
	TargetMinutes int `firestore:"targetMinutes" json:"targetMinutes"`
	// OverTarget is true when the patient has waited longer than the target.
	OverTarget bool `firestore:"overTarget" json:"overTarget"`
	// Seen is true for a patient back in the queue after seeing a doctor (awaiting
	// results).
	Seen bool `firestore:"seen" json:"seen"`
	// WaitEstimate is the estimated time from BuiltAt to a doctor; null when no doctor
	// is on duty.
	WaitEstimate *WaitEstimate `firestore:"waitEstimate" json:"waitEstimate"`
	// Provisional is true on a live board (see LiveBoard) for a patient the stored board
	// does not list yet: placed in order from the newer read, without an estimate until
	// the next stored board. Never stored.
	Provisional bool `firestore:"-" json:"provisional,omitempty"`
}

// BuildBoard computes the board of a clinic from a snapshot (pure: no I/O), with wait
// estimates made now. Version and SourceReadAt are left to the writer.
func BuildBoard(clinicID string, s Snapshot, e Estimator) Board {
	b, in := orderBoard(clinicID, s)
	SetEstimates(&b, Estimates{ByEncounter: e.Estimate(in), At: s.Now, Runs: e.RunsFor(len(in.Queue))})
	return b
}

// Estimates are wait estimates made at one moment, to put on boards built then or soon
// after (see SetEstimates).
type Estimates struct {
	// ByEncounter is nil when no doctor was on duty.
	ByEncounter map[string]WaitEstimate
	// At is the snapshot time the estimates are counted from; zero: none made yet.
	At   time.Time
	Runs int
}

// SetEstimates puts est on b's entries: an entry's estimate less the whole minutes
// between est.At and b.BuiltAt (never below 0), null for an entry est has none for.
func SetEstimates(b *Board, est Estimates) {
	b.Estimator.Runs, b.Estimator.EstimatedAt = est.Runs, est.At
	elapsed := 0
	if !est.At.IsZero() && b.BuiltAt.After(est.At) {
		elapsed = int(b.BuiltAt.Sub(est.At) / time.Minute)
	}
	for i := range b.Entries {
		b.Entries[i].WaitEstimate = nil
		if e, ok := est.ByEncounter[b.Entries[i].EncounterID]; ok {
			e.P50Minutes, e.P90Minutes = max(e.P50Minutes-elapsed, 0), max(e.P90Minutes-elapsed, 0)
			b.Entries[i].WaitEstimate = &e
		}
	}
}

// orderBoard builds the board without wait estimates, and the estimator's input for it
// (the queue in board order, without the entries left off).
func orderBoard(clinicID string, s Snapshot) (Board, Snapshot) {
	ordered := Order(s.Queue, s.Now)
	b := Board{
		ClinicID:       clinicID,
		BuiltAt:        s.Now,
		DoctorsOnDuty:  s.DoctorsOnDuty,
		InConsultation: len(s.InConsultation),
		Entries:        make([]Entry, 0, min(len(ordered), MaxBoardEntries)),
	}
	if len(ordered) > MaxBoardEntries {
		b.Omitted = len(ordered) - MaxBoardEntries
		ordered = ordered[:MaxBoardEntries]
	}
	b.Estimator = EstimatorInfo{Version: EstimatorVersion}
	for l := 1; l <= 5; l++ {
		b.Estimator.LearnedFrom += s.Service.Samples[l]
	}
	for i, w := range ordered {
		en := Entry{
			EncounterID:   w.EncounterID,
			PatientID:     w.PatientID,
			Position:      i + 1,
			Status:        w.Status,
			ArrivedAt:     w.ArrivedAt,
			WaitedMinutes: int(w.Waited(s.Now) / time.Minute),
			TargetMinutes: int(w.Target() / time.Minute),
			OverTarget:    w.OverTarget(s.Now),
			Seen:          w.Seen,
		}
		if w.Triaged() {
			l := int(w.Level)
			en.Level = &l
		}
		b.Entries = append(b.Entries, en)
	}
	in := Snapshot{
		Now: s.Now, DoctorsOnDuty: s.DoctorsOnDuty, Queue: ordered, InConsultation: s.InConsultation,
		Service: s.Service, Mix: s.Mix, ArrivalsPerHour: s.ArrivalsPerHour,
	}
	return b, in
}

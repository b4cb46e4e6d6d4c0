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
}

// BuildBoard computes the board of a clinic from a snapshot (pure: no I/O). Version
// and SourceReadAt are left to the writer.
func BuildBoard(clinicID string, s Snapshot, e Estimator) Board {
	ordered := Order(s.Queue, s.Now)
	b := Board{
		ClinicID:       clinicID,
		BuiltAt:        s.Now,
		DoctorsOnDuty:  s.DoctorsOnDuty,
		InConsultation: len(s.InConsultation),
		Entries:        []Entry{},
	}
	if len(ordered) > MaxBoardEntries {
		b.Omitted = len(ordered) - MaxBoardEntries
		ordered = ordered[:MaxBoardEntries]
	}
	b.Estimator = EstimatorInfo{Version: EstimatorVersion, Runs: e.RunsFor(len(ordered))}
	for l := 1; l <= 5; l++ {
		b.Estimator.LearnedFrom += s.Service.Samples[l]
	}
	est := e.Estimate(Snapshot{
		Now: s.Now, DoctorsOnDuty: s.DoctorsOnDuty, Queue: ordered, InConsultation: s.InConsultation,
		Service: s.Service, Mix: s.Mix, ArrivalsPerHour: s.ArrivalsPerHour,
	})
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
		if e, ok := est[w.EncounterID]; ok {
			en.WaitEstimate = &e
		}
		b.Entries = append(b.Entries, en)
	}
	return b
}

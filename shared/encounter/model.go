// Package encounter holds the visit of a patient to the clinic: its data model
// (clinics/{clinicId}/encounters/{encounterId} with an append-only events sub-collection)
// and the encounter state machine, which is pure and has no I/O.
package encounter

import "time"

// Status of an encounter.
type Status string

// Statuses.
const (
	StatusWaiting        Status = "waiting"
	StatusTriaged        Status = "triaged"
	StatusInConsultation Status = "in_consultation"
	StatusCompleted      Status = "completed"
	StatusCancelled      Status = "cancelled"
	StatusLeftWithout    Status = "left_without_being_seen"
)

// Statuses lists every status.
var Statuses = []Status{StatusWaiting, StatusTriaged, StatusInConsultation, StatusCompleted, StatusCancelled, StatusLeftWithout}

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	for _, v := range Statuses {
		if v == s {
			return true
		}
	}
	return false
}

// Open reports whether the visit is still going on (a patient may have one open
// encounter at a time).
func (s Status) Open() bool {
	return s == StatusWaiting || s == StatusTriaged || s == StatusInConsultation
}

// Queued reports whether the encounter is on the queue board (waiting for a doctor).
func (s Status) Queued() bool { return s == StatusWaiting || s == StatusTriaged }

// ArrivalMode is how the patient came.
type ArrivalMode string

// Arrival modes.
const (
	ArrivalWalkIn         ArrivalMode = "walk_in"
	ArrivalPrivateVehicle ArrivalMode = "private_vehicle"
	ArrivalAmbulance      ArrivalMode = "ambulance"
)

// Valid reports whether m is a known arrival mode.
func (m ArrivalMode) Valid() bool {
	return m == ArrivalWalkIn || m == ArrivalPrivateVehicle || m == ArrivalAmbulance
}

// Triage is the triage result kept on the encounter (the full assessments live in the
// triage function's sub-collection).
type Triage struct {
	// Level is the acuity in force (1 most urgent .. 5): the confirmed level once a nurse
	// confirmed it, else the proposed one.
	Level         int       `firestore:"level" json:"level"`
	ProposedLevel int       `firestore:"proposedLevel" json:"proposedLevel"`
	Confirmed     bool      `firestore:"confirmed" json:"confirmed"`
	AssessmentID  string    `firestore:"assessmentId" json:"assessmentId"`
	AssessedAt    time.Time `firestore:"assessedAt" json:"assessedAt"`
	AssessedBy    string    `firestore:"assessedBy" json:"assessedBy"`
	EngineVersion string    `firestore:"engineVersion" json:"engineVersion"`
}

// Encounter is one visit. Firestore field names are the json names.
type Encounter struct {
	ID             string               `firestore:"-" json:"id"`
	ClinicID       string               `firestore:"clinicId" json:"clinicId"`
	PatientID      string               `firestore:"patientId" json:"patientId"`
	Status         Status               `firestore:"status" json:"status"`
	ChiefComplaint string               `firestore:"chiefComplaint" json:"chiefComplaint"`
	ArrivalMode    ArrivalMode          `firestore:"arrivalMode" json:"arrivalMode"`
	ArrivedAt      time.Time            `firestore:"arrivedAt" json:"arrivedAt"`
	StatusTimes    map[string]time.Time `firestore:"statusTimes" json:"statusTimes"` // first time each status was entered
	Triage         *Triage              `firestore:"triage,omitempty" json:"triage,omitempty"`
	DoctorUID      string               `firestore:"doctorUid,omitempty" json:"doctorUid,omitempty"`
	// EventCount is the number of events appended (the id of the next is EventCount+1).
	EventCount int       `firestore:"eventCount" json:"eventCount"`
	Version    int64     `firestore:"version" json:"version"` // incremented by every change
	CreatedBy  string    `firestore:"createdBy" json:"createdBy"`
	UpdatedAt  time.Time `firestore:"updatedAt" json:"updatedAt"`
}

// Event is one append-only transition record:
// clinics/{c}/encounters/{id}/events/{seq, zero-padded}.
type Event struct {
	Seq       int       `firestore:"seq" json:"seq"`
	Action    Action    `firestore:"action" json:"action"`
	From      Status    `firestore:"from" json:"from"`
	To        Status    `firestore:"to" json:"to"`
	ActorUID  string    `firestore:"actorUid" json:"actorUid"`
	ActorRole string    `firestore:"actorRole" json:"actorRole"`
	Reason    string    `firestore:"reason,omitempty" json:"reason,omitempty"`
	DoctorUID string    `firestore:"doctorUid,omitempty" json:"doctorUid,omitempty"`
	At        time.Time `firestore:"at" json:"at"`
	RequestID string    `firestore:"requestId" json:"requestId"`
}

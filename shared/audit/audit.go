// Package audit writes the append-only audit trail (clinics/{clinicId}/audit/{id}):
// who (actor uid and role), what (action, resource type and id, patient), outcome,
// request id (the server's), trace id (possibly the client's) and time. A record describing a change is written in the same Firestore
// transaction as the change, so there is never a change without its record nor
// a record of a change that did not happen. Reads of patient data are audited too.
//
// Records hold ids, never patient data (no names, no clinical content).
package audit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/logging"
)

// Outcomes.
const (
	OutcomeSuccess = "success"
	OutcomeDenied  = "denied"
	OutcomeFailure = "failure"
)

// Collection is the audit sub-collection of a clinic.
const Collection = "audit"

// Record is one audit entry.
type Record struct {
	ClinicID     string `firestore:"clinicId" json:"clinicId"`
	ActorUID     string `firestore:"actorUid" json:"actorUid"`
	ActorRole    string `firestore:"actorRole" json:"actorRole"`
	Action       string `firestore:"action" json:"action"`             // e.g. "patient.read", "encounter.transition"
	ResourceType string `firestore:"resourceType" json:"resourceType"` // e.g. "patient"
	ResourceID   string `firestore:"resourceId" json:"resourceId"`
	PatientID    string `firestore:"patientId,omitempty" json:"patientId,omitempty"`
	Outcome      string `firestore:"outcome" json:"outcome"`
	Reason       string `firestore:"reason,omitempty" json:"reason,omitempty"` // a clinician's stated reason (down-triage, break-glass)
	// RequestID is the server's id of the request (never chosen by a client); TraceID is
	// the distributed trace it belonged to, which the client may have chosen (traceparent).
	RequestID string    `firestore:"requestId" json:"requestId"`
	TraceID   string    `firestore:"traceId,omitempty" json:"traceId,omitempty"`
	Time      time.Time `firestore:"time" json:"time"`

	// Hash chain (chain.go): set when the record is sealed, never by writers. Sealed is
	// stored false at write so that the sealer can find the records it has not chained.
	ID       string `firestore:"-" json:"id,omitempty"`
	Sealed   bool   `firestore:"sealed" json:"sealed"`
	Seq      int64  `firestore:"seq" json:"seq,omitempty"`
	PrevHash string `firestore:"prevHash" json:"prevHash,omitempty"`
	Hash     string `firestore:"hash" json:"hash,omitempty"`
}

// New returns a success record for action on resource, with the actor taken from the
// authenticated principal in ctx (or "system" for workers) and the request id from ctx.
func New(ctx context.Context, clinicID, action, resourceType, resourceID string) Record {
	r := Record{
		ClinicID: clinicID, Action: action, ResourceType: resourceType, ResourceID: resourceID,
		Outcome: OutcomeSuccess, RequestID: logging.RequestID(ctx), Time: time.Now().UTC(),
		ActorUID: "system", ActorRole: "system",
	}
	if t, ok := logging.TraceFromContext(ctx); ok {
		r.TraceID = t.TraceID
	}
	if p, ok := auth.FromContext(ctx); ok {
		r.ActorUID, r.ActorRole = p.UID, string(p.Role)
	}
	return r
}

// ForPatient sets the patient the action concerns (for "who saw this patient" queries).
func (r Record) ForPatient(patientID string) Record { r.PatientID = patientID; return r }

// WithOutcome sets the outcome.
func (r Record) WithOutcome(o string) Record { r.Outcome = o; return r }

// WithReason sets the stated reason.
func (r Record) WithReason(reason string) Record { r.Reason = reason; return r }

func (r Record) validate() error {
	if r.ClinicID == "" || r.Action == "" || r.ResourceType == "" || r.ActorUID == "" {
		return errors.New("audit: clinic, action, resource type and actor are required")
	}
	switch r.Outcome {
	case OutcomeSuccess, OutcomeDenied, OutcomeFailure:
	default:
		return fmt.Errorf("audit: outcome %q is not one of success, denied, failure", r.Outcome)
	}
	return nil
}

// NewID returns a sortable id: the time in nanoseconds (hex, fixed width) and randomness.
func NewID(t time.Time) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%016x-%s", t.UnixNano(), hex.EncodeToString(b[:]))
}

func (r Record) ref(fs *firestore.Client) *firestore.DocumentRef {
	return fs.Collection("clinics").Doc(r.ClinicID).Collection(Collection).Doc(NewID(r.Time))
}

// InTransaction adds r to tx: it commits with the change or not at all.
func (r Record) InTransaction(fs *firestore.Client, tx *firestore.Transaction) error {
	if err := r.validate(); err != nil {
		return err
	}
	return tx.Create(r.ref(fs), r)
}

// writeAttempts bounds Write's retries of a create that lost a lock (codes.Aborted).
const writeAttempts = 3

// Write stores r on its own (for reads and denied attempts, which change nothing else).
// A create aborted by lock contention (the sealer's transaction on the same clinic) is
// retried a bounded number of times under the same document id; finding the record
// already there on a retry means an earlier attempt landed.
func (r Record) Write(ctx context.Context, fs *firestore.Client) error {
	if err := r.validate(); err != nil {
		return err
	}
	ref := r.ref(fs)
	var err error
	for attempt := range writeAttempts {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return errors.Join(err, ctx.Err())
			case <-time.After(time.Duration(attempt*50) * time.Millisecond):
			}
		}
		_, err = ref.Create(ctx, r)
		switch {
		case err == nil:
			return nil
		case attempt > 0 && status.Code(err) == codes.AlreadyExists:
			return nil
		case status.Code(err) != codes.Aborted:
			return err
		}
	}
	return err
}

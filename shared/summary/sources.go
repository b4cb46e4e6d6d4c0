package summary

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/iterator"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/medi-os/medi/shared/docid"
	"github.com/medi-os/medi/shared/encounter"
	"github.com/medi-os/medi/shared/notes"
	"github.com/medi-os/medi/shared/patient"
	"github.com/medi-os/medi/shared/triagerecord"
)

// Bounds of what one summary reads.
const (
	// MaxEncounters is how many of the most recent encounters are read.
	MaxEncounters = 20
	// MaxAssessments is how many assessments are read per encounter.
	MaxAssessments = 20
	// MaxNotes is how many of the most recently approved notes are read.
	MaxNotes = 20
)

// ErrPatientNotFound is returned when the clinic has no such patient.
var ErrPatientNotFound = errors.New("summary: patient not found")

// EncounterSource is an encounter with its triage assessments (in recording order).
type EncounterSource struct {
	Encounter   encounter.Encounter
	Assessments []triagerecord.Record
}

// NoteSource is an approved version of a note.
type NoteSource struct {
	Note    notes.Note
	Version notes.Version
}

// Sources are the records a summary is built from.
type Sources struct {
	Patient    patient.Patient
	Encounters []EncounterSource // most recent arrival first
	Notes      []NoteSource      // most recently approved first
}

// Loader reads a patient's sources from Firestore. It does not audit: the caller audits
// the read of the summary that the sources become.
type Loader struct {
	fs *firestore.Client
}

// NewLoader returns a Loader.
func NewLoader(fs *firestore.Client) *Loader { return &Loader{fs: fs} }

func (l *Loader) clinic(clinicID string) *firestore.DocumentRef {
	return l.fs.Collection("clinics").Doc(clinicID)
}

// Load reads the patient's sources: ErrPatientNotFound when the clinic has no such
// patient. The encounter query uses the composite index (patientId, arrivedAt desc)
// that the patients function's encounter listing already needs.
func (l *Loader) Load(ctx context.Context, clinicID, patientID string) (Sources, error) {
	if clinicID == "" || !docid.Valid(patientID) {
		return Sources{}, ErrPatientNotFound
	}
	snap, err := l.clinic(clinicID).Collection("patients").Doc(patientID).Get(ctx)
	if status.Code(err) == codes.NotFound {
		return Sources{}, ErrPatientNotFound
	}
	if err != nil {
		return Sources{}, fmt.Errorf("summary: reading patient: %w", err)
	}
	var src Sources
	if err := snap.DataTo(&src.Patient); err != nil {
		return Sources{}, fmt.Errorf("summary: decoding patient: %w", err)
	}
	src.Patient.ID = patientID
	if src.Encounters, err = l.encounters(ctx, clinicID, patientID); err != nil {
		return Sources{}, err
	}
	if src.Notes, err = l.approvedNotes(ctx, clinicID, patientID); err != nil {
		return Sources{}, err
	}
	return src, nil
}

func (l *Loader) encounters(ctx context.Context, clinicID, patientID string) ([]EncounterSource, error) {
	it := l.clinic(clinicID).Collection("encounters").Where("patientId", "==", patientID).
		OrderBy("arrivedAt", firestore.Desc).OrderBy(firestore.DocumentID, firestore.Desc).
		Limit(MaxEncounters).Documents(ctx)
	defer it.Stop()
	var out []EncounterSource
	for {
		snap, err := it.Next()
		if err == iterator.Done {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("summary: reading encounters: %w", err)
		}
		var e encounter.Encounter
		if err := snap.DataTo(&e); err != nil {
			return nil, fmt.Errorf("summary: decoding encounter %s: %w", snap.Ref.ID, err)
		}
		e.ID = snap.Ref.ID
		recs, err := l.assessments(ctx, snap.Ref)
		if err != nil {
			return nil, err
		}
		out = append(out, EncounterSource{Encounter: e, Assessments: recs})
	}
	return out, nil
}

func (l *Loader) assessments(ctx context.Context, enc *firestore.DocumentRef) ([]triagerecord.Record, error) {
	docs, err := enc.Collection(triagerecord.Collection).OrderBy("seq", firestore.Asc).Limit(MaxAssessments).Documents(ctx).GetAll()
	if err != nil {
		return nil, fmt.Errorf("summary: reading assessments of encounter %s: %w", enc.ID, err)
	}
	out := make([]triagerecord.Record, 0, len(docs))
	for _, d := range docs {
		var r triagerecord.Record
		if err := d.DataTo(&r); err != nil {
			return nil, fmt.Errorf("summary: decoding assessment %s/%s: %w", enc.ID, d.Ref.ID, err)
		}
		r.ID = d.Ref.ID
		out = append(out, r)
	}
	return out, nil
}

// approvedNotes reads the patient's notes (one equality filter, no composite index) and
// the version each one's approval names.
func (l *Loader) approvedNotes(ctx context.Context, clinicID, patientID string) ([]NoteSource, error) {
	docs, err := l.clinic(clinicID).Collection(notes.CollectionNotes).Where("patientId", "==", patientID).
		Limit(500).Documents(ctx).GetAll()
	if err != nil {
		return nil, fmt.Errorf("summary: reading notes: %w", err)
	}
	var approved []notes.Note
	for _, d := range docs {
		var n notes.Note
		if err := d.DataTo(&n); err != nil {
			return nil, fmt.Errorf("summary: decoding note %s: %w", d.Ref.ID, err)
		}
		if n.ID == "" {
			n.ID = d.Ref.ID
		}
		if n.ApprovedVersion > 0 {
			approved = append(approved, n)
		}
	}
	slices.SortFunc(approved, func(a, b notes.Note) int {
		if c := b.ApprovedAt.Compare(a.ApprovedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	if len(approved) > MaxNotes {
		approved = approved[:MaxNotes]
	}
	out := make([]NoteSource, 0, len(approved))
	for _, n := range approved {
		ref := l.clinic(clinicID).Collection(notes.CollectionNotes).Doc(n.ID).
			Collection(notes.CollectionVersions).Doc(strconv.Itoa(n.ApprovedVersion))
		snap, err := ref.Get(ctx)
		if status.Code(err) == codes.NotFound {
			continue // an approval without its version: nothing to cite
		}
		if err != nil {
			return nil, fmt.Errorf("summary: reading note %s version: %w", n.ID, err)
		}
		var v notes.Version
		if err := snap.DataTo(&v); err != nil {
			return nil, fmt.Errorf("summary: decoding note %s version: %w", n.ID, err)
		}
		out = append(out, NoteSource{Note: n, Version: v})
	}
	return out, nil
}

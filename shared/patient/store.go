package patient

import (
	"context"
	"errors"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/medi-os/medi/shared/audit"
	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/commitmark"
	"github.com/medi-os/medi/shared/docid"
)

// Firestore layout, under clinics/{clinicId}.
const (
	// Collection holds the patients: clinics/{c}/patients/{patientId}.
	Collection = "patients"
	// MRNIndexCollection maps normalized MRNs to patients:
	// clinics/{c}/mrnIndex/{NormalizeMRN(mrn)} = {patientId, mrn}.
	MRNIndexCollection = "mrnIndex"
	// CountersCollection holds per-clinic counters; document "mrn" is the last MRN
	// number assigned.
	CountersCollection = "counters"
	mrnCounterID       = "mrn"
	encountersColl     = "encounters"
)

// Audit vocabulary.
const (
	ResourceType         = "patient"
	ActionCreate         = "patient.create"
	ActionRead           = "patient.read"
	ActionUpdate         = "patient.update"
	ActionSearch         = "patient.search" // one record per patient a search returned
	ActionListEncounters = "patient.encounters.list"
)

// MRNPrefix starts every MRN the clinic assigns; the number has at least six digits.
const MRNPrefix = "MRN-"

// txAttempts bounds retries of a contended transaction (several receptionists
// registering at once all take the clinic's MRN counter).
const txAttempts = 15

// maxAssignProbes bounds how many assigned numbers a registration skips because a
// client-supplied MRN already took them.
const maxAssignProbes = 20

// mrnEntry is a document of the MRN index.
type mrnEntry struct {
	PatientID string    `firestore:"patientId"`
	MRN       string    `firestore:"mrn"`
	UpdatedAt time.Time `firestore:"updatedAt"`
}

// mrnCounter is the clinic's MRN counter document.
type mrnCounter struct {
	Last      int64     `firestore:"last"`
	UpdatedAt time.Time `firestore:"updatedAt"`
}

// Store keeps patients in Firestore. Its methods take the caller (for createdBy and
// the audit trail) from the context, as set by auth.Require; clinicID must be the
// caller's clinic, which is what makes another clinic's patients unreachable.
type Store struct {
	fs  *firestore.Client
	now func() time.Time
	// auditReads stores the records of a read; replaced in tests to make it fail.
	auditReads func(ctx context.Context, recs []audit.Record) error
}

// NewStore returns a Store over fs.
func NewStore(fs *firestore.Client) *Store {
	s := &Store{fs: fs, now: time.Now}
	s.auditReads = s.writeAudits
	return s
}

func (s *Store) clinic(clinicID string) *firestore.DocumentRef {
	return s.fs.Collection("clinics").Doc(clinicID)
}

func (s *Store) patients(clinicID string) *firestore.CollectionRef {
	return s.clinic(clinicID).Collection(Collection)
}

func (s *Store) mrnIndex(clinicID, key string) *firestore.DocumentRef {
	return s.clinic(clinicID).Collection(MRNIndexCollection).Doc(key)
}

// timestamp is the store's clock at Firestore's precision, so that what a write
// returns equals what a later read returns.
func (s *Store) timestamp() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

func actorUID(ctx context.Context) string {
	if p, ok := auth.FromContext(ctx); ok && p.UID != "" {
		return p.UID
	}
	return "system"
}

func isNotFound(err error) bool { return status.Code(err) == codes.NotFound }

// Create registers a patient in the clinic. Without an MRN the clinic's next number is
// assigned. It fails with *ValidationError for invalid input and *DuplicateMRNError
// when the MRN is another patient's. The patient, its MRN index entry, the counter and
// the audit record commit together. commit is the request's commit marker (the zero
// Marker without an Idempotency-Key): a retry of a registration that committed answers
// with its patient.
func (s *Store) Create(ctx context.Context, clinicID string, r Registration, commit commitmark.Marker) (Patient, error) {
	now := s.timestamp()
	base, err := r.validate(now)
	if err != nil {
		return Patient{}, err
	}
	ref := s.patients(clinicID).NewDoc()
	actor := actorUID(ctx)
	base.ID, base.ClinicID, base.Version = ref.ID, clinicID, 1
	base.CreatedAt, base.CreatedBy, base.UpdatedAt, base.UpdatedBy = now, actor, now, actor
	base.normalizeLists()

	var created Patient
	// A concurrent registration can create the index entry between our read and our
	// commit only if isolation failed us; Create then refuses, and we look again.
	for range 3 {
		err = s.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
			// An earlier attempt of this very request committed and its answer was lost:
			// answer with that patient rather than register a second one.
			prevID, replay, err := commit.CommittedTx(s.fs, tx)
			if err != nil {
				return err
			}
			if replay {
				snap, err := tx.Get(s.patients(clinicID).Doc(prevID))
				if err != nil {
					return err
				}
				if created, err = decode(snap); err != nil {
					return err
				}
				// The answer discloses the patient again: audited as a replay.
				return audit.New(ctx, clinicID, ActionCreate+audit.ReplaySuffix, ResourceType, prevID).ForPatient(prevID).InTransaction(s.fs, tx)
			}
			p := base
			var counter *mrnCounter
			if p.MRN == "" {
				mrn, c, err := s.assignMRN(tx, clinicID, now)
				if err != nil {
					return err
				}
				p.MRN, counter = mrn, c
			} else {
				snap, err := tx.Get(s.mrnIndex(clinicID, NormalizeMRN(p.MRN)))
				if err == nil {
					var e mrnEntry
					if err := snap.DataTo(&e); err != nil {
						return fmt.Errorf("reading MRN index: %w", err)
					}
					return &DuplicateMRNError{PatientID: e.PatientID}
				}
				if !isNotFound(err) {
					return err
				}
			}
			p = p.withKeys()
			// Reads are done; writes follow.
			if counter != nil {
				if err := tx.Set(s.clinic(clinicID).Collection(CountersCollection).Doc(mrnCounterID), *counter); err != nil {
					return err
				}
			}
			if err := tx.Create(s.mrnIndex(clinicID, p.MRNKey), mrnEntry{PatientID: p.ID, MRN: p.MRN, UpdatedAt: now}); err != nil {
				return err
			}
			if err := tx.Create(ref, p); err != nil {
				return err
			}
			if err := commit.RecordTx(s.fs, tx, p.ID, now); err != nil {
				return err
			}
			created = p
			return audit.New(ctx, clinicID, ActionCreate, ResourceType, p.ID).ForPatient(p.ID).InTransaction(s.fs, tx)
		}, firestore.MaxAttempts(txAttempts))
		if status.Code(err) != codes.AlreadyExists {
			break
		}
	}
	if err != nil {
		return Patient{}, err
	}
	return created, nil
}

// assignMRN reads the clinic's counter and returns the next MRN no patient has, with
// the counter's new value (to be written by the caller, after all reads).
func (s *Store) assignMRN(tx *firestore.Transaction, clinicID string, now time.Time) (string, *mrnCounter, error) {
	var c mrnCounter
	snap, err := tx.Get(s.clinic(clinicID).Collection(CountersCollection).Doc(mrnCounterID))
	switch {
	case err == nil:
		if err := snap.DataTo(&c); err != nil {
			return "", nil, fmt.Errorf("reading MRN counter: %w", err)
		}
	case !isNotFound(err):
		return "", nil, err
	}
	for range maxAssignProbes {
		c.Last++
		mrn := fmt.Sprintf("%s%06d", MRNPrefix, c.Last)
		_, err := tx.Get(s.mrnIndex(clinicID, NormalizeMRN(mrn)))
		if isNotFound(err) {
			c.UpdatedAt = now
			return mrn, &c, nil
		}
		if err != nil {
			return "", nil, err
		}
		// Taken by a client-supplied MRN: try the next number.
	}
	return "", nil, errors.New("patient: no free MRN near the clinic's counter")
}

// load reads a patient of the clinic, without auditing.
func (s *Store) load(ctx context.Context, clinicID, id string) (Patient, error) {
	if !docid.Valid(id) || clinicID == "" {
		return Patient{}, ErrNotFound
	}
	snap, err := s.patients(clinicID).Doc(id).Get(ctx)
	if isNotFound(err) {
		return Patient{}, ErrNotFound
	}
	if err != nil {
		return Patient{}, err
	}
	p, err := decode(snap)
	p.ClinicID = clinicID // the path it was read from is the truth (older records lack the field)
	return p, err
}

func decode(snap *firestore.DocumentSnapshot) (Patient, error) {
	var p Patient
	if err := snap.DataTo(&p); err != nil {
		return Patient{}, fmt.Errorf("decoding patient %s: %w", snap.Ref.ID, err)
	}
	p.ID = snap.Ref.ID
	p.normalizeLists()
	return p, nil
}

// Get returns a patient of the clinic (ErrNotFound when there is none with that id).
// The read is audited before the patient is returned; when the audit record cannot be
// stored, Get fails with an error wrapping ErrAudit and returns nothing.
func (s *Store) Get(ctx context.Context, clinicID, id string) (Patient, error) {
	p, err := s.load(ctx, clinicID, id)
	if err != nil {
		return Patient{}, err
	}
	rec := audit.New(ctx, clinicID, ActionRead, ResourceType, p.ID).ForPatient(p.ID)
	if err := s.auditReads(ctx, []audit.Record{rec}); err != nil {
		return Patient{}, fmt.Errorf("%w: %w", ErrAudit, err)
	}
	return p, nil
}

// Update applies patch to a patient if its current version is expectedVersion, and
// returns the patient at its new version. It fails with ErrNotFound,
// *VersionConflictError when the patient changed since expectedVersion,
// *ValidationError for invalid values and *DuplicateMRNError when a new MRN is another
// patient's. A new MRN moves the patient's index entry in the same transaction.
func (s *Store) Update(ctx context.Context, clinicID, id string, expectedVersion int64, patch Patch) (Patient, error) {
	if !docid.Valid(id) || clinicID == "" {
		return Patient{}, ErrNotFound
	}
	if patch.Empty() {
		return Patient{}, invalidField("body", "must change at least one field")
	}
	now := s.timestamp()
	patch, err := patch.validate(now)
	if err != nil {
		return Patient{}, err
	}
	ref := s.patients(clinicID).Doc(id)
	actor := actorUID(ctx)
	var updated Patient
	err = s.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		snap, err := tx.Get(ref)
		if isNotFound(err) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		cur, err := decode(snap)
		if err != nil {
			return err
		}
		if cur.Version != expectedVersion {
			return &VersionConflictError{Expected: expectedVersion, Current: cur.Version}
		}
		next := patch.apply(cur).withKeys()
		next.ClinicID = clinicID
		next.Version = cur.Version + 1
		next.UpdatedAt, next.UpdatedBy = now, actor

		move, err := s.planMRNMove(tx, clinicID, id, NormalizeMRN(cur.MRN), next.MRNKey)
		if err != nil {
			return err
		}
		// Reads are done; writes follow.
		if err := move.write(tx, s, clinicID, id, next.MRN, now); err != nil {
			return err
		}
		if err := tx.Set(ref, next); err != nil {
			return err
		}
		updated = next
		return audit.New(ctx, clinicID, ActionUpdate, ResourceType, id).ForPatient(id).InTransaction(s.fs, tx)
	}, firestore.MaxAttempts(txAttempts))
	if err != nil {
		return Patient{}, err
	}
	return updated, nil
}

// mrnMove is how an update changes the clinic's MRN index: nothing when the MRN key is
// unchanged; else an entry for the new key, and the old key's entry deleted when it is
// this patient's.
type mrnMove struct {
	oldKey, newKey string
	deleteOld      bool
}

// planMRNMove reads, in tx, what moving patient id's MRN from oldKey to newKey needs:
// *DuplicateMRNError when newKey is another patient's.
func (s *Store) planMRNMove(tx *firestore.Transaction, clinicID, id, oldKey, newKey string) (mrnMove, error) {
	m := mrnMove{oldKey: oldKey, newKey: newKey}
	if newKey == oldKey {
		return m, nil
	}
	snap, err := tx.Get(s.mrnIndex(clinicID, newKey))
	switch {
	case err == nil:
		var e mrnEntry
		if err := snap.DataTo(&e); err != nil {
			return mrnMove{}, fmt.Errorf("reading MRN index: %w", err)
		}
		if e.PatientID != id {
			return mrnMove{}, &DuplicateMRNError{PatientID: e.PatientID}
		}
	case !isNotFound(err):
		return mrnMove{}, err
	}
	if oldKey != "" {
		// Remove the old entry only if it is this patient's.
		snap, err := tx.Get(s.mrnIndex(clinicID, oldKey))
		switch {
		case err == nil:
			var e mrnEntry
			m.deleteOld = snap.DataTo(&e) == nil && e.PatientID == id
		case !isNotFound(err):
			return mrnMove{}, err
		}
	}
	return m, nil
}

// write makes the move in tx (after the transaction's reads).
func (m mrnMove) write(tx *firestore.Transaction, s *Store, clinicID, id, mrn string, now time.Time) error {
	if m.newKey == m.oldKey {
		return nil
	}
	if m.deleteOld {
		if err := tx.Delete(s.mrnIndex(clinicID, m.oldKey)); err != nil {
			return err
		}
	}
	return tx.Set(s.mrnIndex(clinicID, m.newKey), mrnEntry{PatientID: id, MRN: mrn, UpdatedAt: now})
}

// writeAudits stores read audit records, all or none.
func (s *Store) writeAudits(ctx context.Context, recs []audit.Record) error {
	switch len(recs) {
	case 0:
		return nil
	case 1:
		return recs[0].Write(ctx, s.fs)
	}
	return s.fs.RunTransaction(ctx, func(_ context.Context, tx *firestore.Transaction) error {
		for _, r := range recs {
			if err := r.InTransaction(s.fs, tx); err != nil {
				return err
			}
		}
		return nil
	})
}

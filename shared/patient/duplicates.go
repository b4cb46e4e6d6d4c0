package patient

import (
	"context"
	"fmt"

	"cloud.google.com/go/firestore"

	"github.com/medi-os/medi/shared/audit"
)

// MaxLikelyDuplicates bounds the patients a registration names as likely duplicates.
const MaxLikelyDuplicates = 5

// LikelyDuplicates lists, in id order, up to MaxLikelyDuplicates other patients of the
// clinic with p's name (family and given, case and accent folded, as the search folds them)
// and p's birth date. A registration that finds one has probably opened a second record
// of a patient the clinic already has: the caller warns, and the person at the desk
// decides (two people can share a name and a birthday, so it is never refused).
//
// The query uses the (birthDate, nameKey) index of the name search. Every patient returned
// is audited as a search result; when the records cannot be stored, LikelyDuplicates
// fails with ErrAudit and returns no patient.
func (s *Store) LikelyDuplicates(ctx context.Context, clinicID string, p Patient) ([]Summary, error) {
	snaps, err := s.sameNameAndBirth(ctx, clinicID, p.FamilyName, p.GivenName, p.BirthDate)
	if err != nil {
		return nil, err
	}
	return s.duplicatesOf(ctx, clinicID, p.ID, snaps)
}

// DuplicateLookup is the look-up of a registration's likely duplicates, started alongside
// its transaction (StartDuplicateLookup): it needs the name and birth date only, not the
// new patient's id, so the registration's answer does not wait for a query after its
// commit.
type DuplicateLookup struct {
	s        *Store
	clinicID string
	done     chan struct{}
	snaps    []*firestore.DocumentSnapshot
	err      error
}

// StartDuplicateLookup starts looking up the clinic's patients with r's name and birth
// date (as the registration will store them) and returns at once; Result gives the
// answer once the registration has its patient. An invalid registration looks nothing
// up (Create reports why). The look-up ends with ctx.
func (s *Store) StartDuplicateLookup(ctx context.Context, clinicID string, r Registration) *DuplicateLookup {
	l := &DuplicateLookup{s: s, clinicID: clinicID, done: make(chan struct{})}
	base, err := r.validate(s.timestamp())
	if err != nil {
		l.err = err
		close(l.done)
		return l
	}
	go func() {
		defer close(l.done)
		l.snaps, l.err = s.sameNameAndBirth(ctx, clinicID, base.FamilyName, base.GivenName, base.BirthDate)
	}()
	return l
}

// Result is LikelyDuplicates for p, the patient the registration created (or, for a
// retry, the one its first attempt created), from the look-up started beside it. It
// waits for the look-up. A patient registered by someone else while the two ran is seen
// or not, as it would be by a look-up after the commit that raced the same registration.
func (l *DuplicateLookup) Result(ctx context.Context, p Patient) ([]Summary, error) {
	<-l.done
	if l.err != nil {
		return nil, l.err
	}
	return l.s.duplicatesOf(ctx, l.clinicID, p.ID, l.snaps)
}

// sameNameAndBirth queries the clinic's patients with that name and birth date: at most
// MaxLikelyDuplicates+1, so that there are MaxLikelyDuplicates besides the patient asked
// about.
func (s *Store) sameNameAndBirth(ctx context.Context, clinicID, family, given, birthDate string) ([]*firestore.DocumentSnapshot, error) {
	return s.patients(clinicID).
		Where("birthDate", "==", birthDate).
		Where("nameKey", "==", NameKey(family, given)).
		Limit(MaxLikelyDuplicates + 1).
		Documents(ctx).GetAll()
}

// duplicatesOf returns the patients of snaps other than self, at most
// MaxLikelyDuplicates, each audited as a search result (ErrAudit and none when the
// records cannot be stored).
func (s *Store) duplicatesOf(ctx context.Context, clinicID, self string, snaps []*firestore.DocumentSnapshot) ([]Summary, error) {
	var out []Summary
	var recs []audit.Record
	for _, snap := range snaps {
		if len(out) == MaxLikelyDuplicates {
			break
		}
		if snap.Ref.ID == self {
			continue
		}
		other, err := decode(snap)
		if err != nil {
			return nil, err
		}
		out = append(out, other.Summary())
		recs = append(recs, audit.New(ctx, clinicID, ActionSearch, ResourceType, other.ID).ForPatient(other.ID))
	}
	if err := s.auditReads(ctx, recs); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrAudit, err)
	}
	return out, nil
}

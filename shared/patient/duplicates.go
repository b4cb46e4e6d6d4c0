package patient

import (
	"context"
	"fmt"

	"google.golang.org/api/iterator"

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
	key := NameKey(p.FamilyName, p.GivenName)
	it := s.patients(clinicID).
		Where("birthDate", "==", p.BirthDate).
		Where("nameKey", "==", key).
		Limit(MaxLikelyDuplicates + 1).
		Documents(ctx)
	defer it.Stop()
	var out []Summary
	var recs []audit.Record
	for len(out) < MaxLikelyDuplicates {
		snap, err := it.Next()
		if err == iterator.Done {
			break
		}
		if err != nil {
			return nil, err
		}
		if snap.Ref.ID == p.ID {
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

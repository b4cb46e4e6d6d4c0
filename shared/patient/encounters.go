package patient

import (
	"context"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/iterator"

	"github.com/medi-os/medi/shared/audit"
	"github.com/medi-os/medi/shared/encounter"
)

// EncounterPage is one page of a patient's encounters, most recent arrival first.
// NextPageToken is empty on the last page. Its token holds an arrival time and an
// encounter id only, so it may travel in a query string.
type EncounterPage struct {
	Items         []encounter.Encounter `json:"items"`
	NextPageToken string                `json:"nextPageToken"`
}

// ListEncounters returns a page of the patient's encounters
// (clinics/{c}/encounters where patientId == patientID, by arrivedAt descending, then
// id). size 0 means DefaultPageSize; pageToken is a previous page's NextPageToken. It fails with ErrNotFound when the clinic has no
// such patient, *ValidationError for a bad limit or cursor, and ErrAudit when the
// read's audit record cannot be stored (nothing is returned then). The query needs
// the composite index (patientId, arrivedAt desc) on the encounters collection.
func (s *Store) ListEncounters(ctx context.Context, clinicID, patientID string, size int, pageToken string) (EncounterPage, error) {
	size, msg := pageSize(size)
	if msg != "" {
		return EncounterPage{}, invalidField("pageSize", msg)
	}
	query := fingerprint("patients.encounters", patientID)
	var after *time.Time
	var afterID string
	if pageToken != "" {
		c, err := decodeCursor(pageToken, query)
		if err != nil {
			return EncounterPage{}, err
		}
		t, err := time.Parse(time.RFC3339Nano, c.Key)
		if err != nil {
			return EncounterPage{}, errBadCursor()
		}
		after, afterID = &t, c.ID
	}
	if _, err := s.load(ctx, clinicID, patientID); err != nil {
		return EncounterPage{}, err
	}

	q := s.clinic(clinicID).Collection(encountersColl).Where("patientId", "==", patientID).
		OrderBy("arrivedAt", firestore.Desc).OrderBy(firestore.DocumentID, firestore.Desc)
	if after != nil {
		q = q.StartAfter(*after, afterID)
	}
	it := q.Limit(size + 1).Documents(ctx)
	defer it.Stop()
	page := EncounterPage{Items: []encounter.Encounter{}}
	for {
		snap, err := it.Next()
		if err == iterator.Done {
			break
		}
		if err != nil {
			return EncounterPage{}, err
		}
		var e encounter.Encounter
		if err := snap.DataTo(&e); err != nil {
			return EncounterPage{}, fmt.Errorf("decoding encounter %s: %w", snap.Ref.ID, err)
		}
		e.ID = snap.Ref.ID
		page.Items = append(page.Items, e)
	}
	if len(page.Items) > size {
		page.Items = page.Items[:size]
		last := page.Items[size-1]
		page.NextPageToken = encodeCursor(query, last.ArrivedAt.UTC().Format(time.RFC3339Nano), last.ID)
	}

	rec := audit.New(ctx, clinicID, ActionListEncounters, ResourceType, patientID).ForPatient(patientID)
	if err := s.auditReads(ctx, []audit.Record{rec}); err != nil {
		return EncounterPage{}, fmt.Errorf("%w: %w", ErrAudit, err)
	}
	return page, nil
}

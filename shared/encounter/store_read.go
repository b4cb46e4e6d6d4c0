package encounter

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/iterator"

	"github.com/medi-os/medi/shared/apierr"
	"github.com/medi-os/medi/shared/audit"
	"github.com/medi-os/medi/shared/docid"
)

// Page sizes of List and Events.
const (
	DefaultPageSize = 25
	MaxPageSize     = 100
)

// ListOptions filter and page List.
type ListOptions struct {
	// Statuses keeps encounters in one of these statuses (all when empty).
	Statuses []Status
	// PageSize is the number of encounters per page (DefaultPageSize when 0, at most
	// MaxPageSize).
	PageSize int
	// PageToken continues a previous List with the same Statuses.
	PageToken string
}

// Page is one page of encounters, most recent arrival first.
type Page struct {
	Items []Encounter `json:"items"`
	// NextPageToken continues the list; empty on the last page.
	NextPageToken string `json:"nextPageToken"`
}

// EventPage is one page of an encounter's events, in order.
type EventPage struct {
	Items         []Event `json:"items"`
	NextPageToken string  `json:"nextPageToken"`
}

// cursor is the decoded page token: where the previous page ended and for which query.
// Tokens are opaque to clients (base64url JSON) and hold ids and times only.
type cursor struct {
	V      int       `json:"v"`
	Query  string    `json:"q"`
	Time   time.Time `json:"t,omitzero"`
	ID     string    `json:"i,omitempty"`
	Seq    int       `json:"s,omitempty"`
	issued bool
}

const cursorVersion = 1

func (c cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(token, query string) (cursor, error) {
	bad := apierr.InvalidFields([]apierr.FieldError{{Field: "pageToken", Message: "invalid or from another query; start again without it"}})
	if token == "" {
		return cursor{}, nil
	}
	if len(token) > 1024 {
		return cursor{}, bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return cursor{}, bad
	}
	var c cursor
	if err := json.Unmarshal(raw, &c); err != nil || c.V != cursorVersion || c.Query != query {
		return cursor{}, bad
	}
	c.issued = true
	return c, nil
}

// queryKey names a query so a page token cannot be used with another one.
func queryKey(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

func pageSize(n int) (int, error) {
	switch {
	case n == 0:
		return DefaultPageSize, nil
	case n < 1 || n > MaxPageSize:
		return 0, apierr.InvalidFields([]apierr.FieldError{{Field: "pageSize", Message: fmt.Sprintf("must be between 1 and %d", MaxPageSize)}})
	}
	return n, nil
}

// List returns clinicID's encounters, most recent arrival first, optionally only those
// in opts.Statuses. Production needs the composite index (status, arrivedAt desc,
// __name__ desc) declared in terraform/firestore_indexes.json.
func (s *Store) List(ctx context.Context, clinicID string, opts ListOptions) (Page, error) {
	if !docid.Valid(clinicID) {
		return Page{Items: []Encounter{}}, nil
	}
	size, err := pageSize(opts.PageSize)
	if err != nil {
		return Page{}, err
	}
	var statuses []string
	for _, st := range opts.Statuses {
		if !st.Valid() {
			return Page{}, apierr.InvalidFields([]apierr.FieldError{{Field: "status", Message: "must be one of " + statusList(Statuses)}})
		}
		if !slices.Contains(statuses, string(st)) {
			statuses = append(statuses, string(st))
		}
	}
	slices.Sort(statuses)
	key := queryKey(append([]string{"encounters", clinicID}, statuses...)...)
	cur, err := decodeCursor(opts.PageToken, key)
	if err != nil {
		return Page{}, err
	}

	q := s.encounters(clinicID).Query
	if len(statuses) > 0 {
		q = q.Where("status", "in", statuses)
	}
	q = q.OrderBy("arrivedAt", firestore.Desc).OrderBy(firestore.DocumentID, firestore.Desc)
	if cur.issued {
		q = q.StartAfter(cur.Time, cur.ID)
	}
	docs, err := q.Limit(size + 1).Documents(ctx).GetAll()
	if err != nil {
		return Page{}, fmt.Errorf("encounter: list: %w", err)
	}
	page := Page{Items: make([]Encounter, 0, min(len(docs), size))}
	for i, d := range docs {
		if i == size {
			last := page.Items[size-1]
			page.NextPageToken = cursor{V: cursorVersion, Query: key, Time: last.ArrivedAt, ID: last.ID}.encode()
			break
		}
		e, err := decodeEncounter(d, nil)
		if err != nil {
			return Page{}, err
		}
		page.Items = append(page.Items, e)
	}
	return page, nil
}

// Events returns a page of the events of encounter id (404 when it does not exist in
// clinicID), in sequence order, and the encounter itself (for auditing the read).
func (s *Store) Events(ctx context.Context, clinicID, id string, size int, pageToken string) (Encounter, EventPage, error) {
	enc, err := s.Get(ctx, clinicID, id)
	if err != nil {
		return Encounter{}, EventPage{}, err
	}
	if size, err = pageSize(size); err != nil {
		return Encounter{}, EventPage{}, err
	}
	key := queryKey("events", clinicID, id)
	cur, err := decodeCursor(pageToken, key)
	if err != nil {
		return Encounter{}, EventPage{}, err
	}
	q := s.encounterRef(clinicID, id).Collection(CollectionEvents).OrderBy(firestore.DocumentID, firestore.Asc)
	if cur.issued {
		q = q.StartAfter(EventID(cur.Seq))
	}
	it := q.Limit(size + 1).Documents(ctx)
	defer it.Stop()
	page := EventPage{Items: []Event{}}
	for {
		d, err := it.Next()
		if err == iterator.Done {
			break
		}
		if err != nil {
			return Encounter{}, EventPage{}, fmt.Errorf("encounter: events: %w", err)
		}
		if len(page.Items) == size {
			page.NextPageToken = cursor{V: cursorVersion, Query: key, Seq: page.Items[size-1].Seq}.encode()
			break
		}
		var ev Event
		if err := d.DataTo(&ev); err != nil {
			return Encounter{}, EventPage{}, fmt.Errorf("encounter: decode event %s: %w", d.Ref.ID, err)
		}
		page.Items = append(page.Items, ev)
	}
	return enc, page, nil
}

// RecordRead writes one audit record per encounter of clinicID read (action AuditRead, AuditList
// or AuditReadEvents), all or none, with the actor and request id from ctx. Callers
// must not return the data when it fails (fail closed).
func (s *Store) RecordRead(ctx context.Context, clinicID, action string, encs ...Encounter) error {
	if len(encs) == 0 {
		return nil
	}
	return s.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		for _, e := range encs {
			rec := audit.New(ctx, clinicID, action, auditResource, e.ID).ForPatient(e.PatientID)
			if err := rec.InTransaction(s.fs, tx); err != nil {
				return err
			}
		}
		return nil
	})
}

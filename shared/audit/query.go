package audit

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"
)

// Filter selects audit records of one clinic (GET /v1/audit). Empty fields do not filter.
type Filter struct {
	ClinicID  string
	ActorUID  string
	PatientID string
	Action    string
	From, To  time.Time // From inclusive, To exclusive
	PageSize  int
	PageToken string
}

// Page is one page of records, newest first.
type Page struct {
	Records       []Record `json:"items"`
	NextPageToken string   `json:"nextPageToken,omitempty"`
}

// Page sizes of List.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
)

type cursor struct {
	T  time.Time `json:"t"`
	ID string    `json:"id"`
}

// ErrBadPageToken is returned for a page token List did not issue.
var ErrBadPageToken = fmt.Errorf("audit: invalid page token")

// List returns the records matching f, newest first. Every combination of an equality
// filter with the time order needs a composite index (terraform/firestore_indexes.json).
func List(ctx context.Context, fs *firestore.Client, f Filter) (Page, error) {
	size := f.PageSize
	if size <= 0 {
		size = DefaultPageSize
	}
	size = min(size, MaxPageSize)
	q := fs.Collection("clinics").Doc(f.ClinicID).Collection(Collection).Query
	if f.ActorUID != "" {
		q = q.Where("actorUid", "==", f.ActorUID)
	}
	if f.PatientID != "" {
		q = q.Where("patientId", "==", f.PatientID)
	}
	if f.Action != "" {
		q = q.Where("action", "==", f.Action)
	}
	if !f.From.IsZero() {
		q = q.Where("time", ">=", f.From)
	}
	if !f.To.IsZero() {
		q = q.Where("time", "<", f.To)
	}
	q = q.OrderBy("time", firestore.Desc).OrderBy(firestore.DocumentID, firestore.Desc)
	if f.PageToken != "" {
		b, err := base64.RawURLEncoding.DecodeString(f.PageToken)
		var c cursor
		if err != nil || json.Unmarshal(b, &c) != nil || c.ID == "" {
			return Page{}, ErrBadPageToken
		}
		q = q.StartAfter(c.T, c.ID)
	}
	docs, err := q.Limit(size + 1).Documents(ctx).GetAll()
	if err != nil {
		return Page{}, fmt.Errorf("audit: listing: %w", err)
	}
	out := Page{Records: []Record{}}
	for i, d := range docs {
		if i == size {
			last := out.Records[len(out.Records)-1]
			b, _ := json.Marshal(cursor{T: last.Time, ID: last.ID})
			out.NextPageToken = base64.RawURLEncoding.EncodeToString(b)
			break
		}
		var r Record
		if err := d.DataTo(&r); err != nil {
			return Page{}, fmt.Errorf("audit: record %s: %w", d.Ref.ID, err)
		}
		r.ID = d.Ref.ID
		out.Records = append(out.Records, r)
	}
	return out, nil
}

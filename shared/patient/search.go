package patient

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/iterator"

	"github.com/medi-os/medi/shared/audit"
	"github.com/medi-os/medi/shared/docid"
)

// MaxNameQueryLength bounds the name prefix of a search.
const MaxNameQueryLength = 200

// Criteria is a patient search (the body of POST /v1/patients/search; criteria travel
// in the body so that no patient data reaches URLs or access logs). Given criteria
// are combined (AND); at least one of MRN, Name and BirthDate is required, or else IDs
// alone: the summaries of up to MaxPageSize patients by id in one request (the live
// board names its patients this way rather than reading each whole record).
type Criteria struct {
	// MRN matches exactly (case-insensitive).
	MRN string `json:"mrn,omitempty"`
	// Name is a prefix of "family name, given names", case and accent insensitive:
	// "nunez", "Núñez, Jo" and "nunez jo" all find José Núñez.
	Name string `json:"name,omitempty"`
	// BirthDate matches exactly (YYYY-MM-DD).
	BirthDate string `json:"birthDate,omitempty"`
	// PageSize is the number of results per page: DefaultPageSize when 0, at most
	// MaxPageSize.
	PageSize int `json:"pageSize,omitempty"`
	// PageToken continues a previous search with the same criteria (its
	// NextPageToken).
	PageToken string `json:"pageToken,omitempty"`
	// IDs asks for these patients' summaries (1 to MaxPageSize ids, no other
	// criterion); unknown ids are left out, the rest come in the order asked.
	IDs []string `json:"ids,omitempty"`
}

// SearchPage is one page of search results, ordered by name (family, then given) and
// id. NextPageToken is empty on the last page.
type SearchPage struct {
	Items         []Summary `json:"items"`
	NextPageToken string    `json:"nextPageToken"`
}

// search is a validated Criteria.
type search struct {
	byID                      bool
	ids                       []string
	mrnKey, prefix, birthDate string
	limit                     int
	after                     *cursor
}

func (c Criteria) validate() (search, error) {
	var f fieldErrors
	var q search
	if c.IDs != nil {
		return c.validateIDs()
	}
	if c.MRN == "" && c.Name == "" && c.BirthDate == "" {
		f.add("body", "give at least one of mrn, name and birthDate")
	}
	if c.MRN != "" {
		mrn, msg := CheckMRN(c.MRN)
		if msg != "" {
			f.add("mrn", msg)
		}
		q.mrnKey = NormalizeMRN(mrn)
	}
	if c.Name != "" {
		q.prefix = FoldPrefix(c.Name)
		switch {
		case utf8.RuneCountInString(c.Name) > MaxNameQueryLength:
			f.add("name", fmt.Sprintf("must be at most %d characters", MaxNameQueryLength))
		case strings.TrimSpace(q.prefix) == "":
			f.add("name", "must contain a letter or digit")
		}
	}
	if c.BirthDate != "" {
		q.birthDate = strings.TrimSpace(c.BirthDate)
		if !isDate(q.birthDate) {
			f.add("birthDate", "must be a date YYYY-MM-DD")
		}
	}
	var msg string
	if q.limit, msg = pageSize(c.PageSize); msg != "" {
		f.add("pageSize", msg)
	}
	if len(f) > 0 {
		return q, f.err()
	}
	if c.PageToken != "" {
		cur, err := decodeCursor(c.PageToken, q.fingerprint())
		if err != nil {
			return q, err
		}
		q.after = &cur
	}
	return q, nil
}

// validateIDs checks a search by ids: alone, 1 to MaxPageSize of them. An id that is no
// valid document id cannot name a patient; it is left out like an unknown one.
func (c Criteria) validateIDs() (search, error) {
	var f fieldErrors
	if c.MRN != "" || c.Name != "" || c.BirthDate != "" || c.PageToken != "" {
		f.add("ids", "cannot be combined with mrn, name, birthDate or pageToken")
	}
	if len(c.IDs) == 0 || len(c.IDs) > MaxPageSize {
		f.add("ids", fmt.Sprintf("give 1 to %d patient ids", MaxPageSize))
	}
	if _, msg := pageSize(c.PageSize); msg != "" {
		f.add("pageSize", msg)
	}
	if len(f) > 0 {
		return search{}, f.err()
	}
	q := search{byID: true, limit: len(c.IDs)}
	seen := map[string]bool{}
	for _, id := range c.IDs {
		if docid.Valid(id) && !seen[id] {
			seen[id] = true
			q.ids = append(q.ids, id)
		}
	}
	return q, nil
}

func (q search) fingerprint() string {
	return fingerprint("patients.search", q.mrnKey, q.prefix, q.birthDate)
}

// pageSize returns the page size for a requested limit, or a problem.
func pageSize(limit int) (int, string) {
	switch {
	case limit == 0:
		return DefaultPageSize, ""
	case limit < 0 || limit > MaxPageSize:
		return 0, fmt.Sprintf("must be between 1 and %d", MaxPageSize)
	}
	return limit, ""
}

// matches reports whether p meets the name and birth date criteria.
func (q search) matches(p Patient) bool {
	return (q.birthDate == "" || p.BirthDate == q.birthDate) &&
		(q.prefix == "" || strings.HasPrefix(NameKey(p.FamilyName, p.GivenName), q.prefix))
}

// Search finds the clinic's patients meeting c, one page at a time. Every patient
// returned is audited (one ActionSearch record each, all stored before the page is
// returned; when they cannot be stored, Search fails with ErrAudit). Invalid criteria
// or a cursor not issued for the same criteria fail with *ValidationError.
//
// An MRN search reads the MRN index (strongly consistent, at most one match). Other
// searches query the folded name key, with the birth date as an equality filter;
// they need the composite index (birthDate, nameKey) on the patients collection.
func (s *Store) Search(ctx context.Context, clinicID string, c Criteria) (SearchPage, error) {
	q, err := c.validate()
	if err != nil {
		return SearchPage{}, err
	}
	var found []Patient
	var next string
	switch {
	case q.byID:
		found, err = s.searchIDs(ctx, clinicID, q.ids)
	case q.mrnKey != "":
		found, err = s.searchMRN(ctx, clinicID, q)
	default:
		found, next, err = s.searchQuery(ctx, clinicID, q)
	}
	if err != nil {
		return SearchPage{}, err
	}
	page := SearchPage{Items: make([]Summary, 0, len(found)), NextPageToken: next}
	recs := make([]audit.Record, 0, len(found))
	for _, p := range found {
		page.Items = append(page.Items, p.Summary())
		recs = append(recs, audit.New(ctx, clinicID, ActionSearch, ResourceType, p.ID).ForPatient(p.ID))
	}
	if err := s.auditReads(ctx, recs); err != nil {
		return SearchPage{}, fmt.Errorf("%w: %w", ErrAudit, err)
	}
	return page, nil
}

// searchIDs reads the patients with these ids in one batch, in the order given.
func (s *Store) searchIDs(ctx context.Context, clinicID string, ids []string) ([]Patient, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	refs := make([]*firestore.DocumentRef, len(ids))
	for i, id := range ids {
		refs[i] = s.patients(clinicID).Doc(id)
	}
	snaps, err := s.fs.GetAll(ctx, refs)
	if err != nil {
		return nil, err
	}
	var out []Patient
	for _, snap := range snaps {
		if !snap.Exists() {
			continue
		}
		p, err := decode(snap)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// searchMRN looks the MRN up in the index and checks the other criteria on the one
// patient it names. Its result is a single page: a cursor (which it never issues)
// positions after the only match.
func (s *Store) searchMRN(ctx context.Context, clinicID string, q search) ([]Patient, error) {
	if q.after != nil {
		return nil, nil
	}
	snap, err := s.mrnIndex(clinicID, q.mrnKey).Get(ctx)
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var e mrnEntry
	if err := snap.DataTo(&e); err != nil {
		return nil, fmt.Errorf("reading MRN index: %w", err)
	}
	p, err := s.load(ctx, clinicID, e.PatientID)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if NormalizeMRN(p.MRN) != q.mrnKey || !q.matches(p) {
		return nil, nil
	}
	return []Patient{p}, nil
}

// searchQuery runs the name / birth date query, fetching one more than the page to
// know whether there is a next page.
func (s *Store) searchQuery(ctx context.Context, clinicID string, q search) ([]Patient, string, error) {
	query := s.patients(clinicID).Query
	if q.birthDate != "" {
		query = query.Where("birthDate", "==", q.birthDate)
	}
	if q.prefix != "" {
		query = query.Where("nameKey", ">=", q.prefix)
		if end, ok := prefixEnd(q.prefix); ok {
			query = query.Where("nameKey", "<", end)
		}
	}
	query = query.OrderBy("nameKey", firestore.Asc).OrderBy(firestore.DocumentID, firestore.Asc)
	if q.after != nil {
		query = query.StartAfter(q.after.Key, q.after.ID)
	}
	it := query.Limit(q.limit + 1).Documents(ctx)
	defer it.Stop()
	var out []Patient
	for {
		snap, err := it.Next()
		if err == iterator.Done {
			break
		}
		if err != nil {
			return nil, "", err
		}
		p, err := decode(snap)
		if err != nil {
			return nil, "", err
		}
		out = append(out, p)
	}
	if len(out) <= q.limit {
		return out, "", nil
	}
	out = out[:q.limit]
	last := out[len(out)-1]
	return out, encodeCursor(q.fingerprint(), last.NameKey, last.ID), nil
}

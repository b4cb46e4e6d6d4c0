package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/iterator"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/medi-os/medi/shared/docid"
	"github.com/medi-os/medi/shared/encounter"
	"github.com/medi-os/medi/shared/events"
	"github.com/medi-os/medi/shared/logging"
)

// Firestore layout read by the store.
const (
	clinicsCollection    = "clinics"
	encountersCollection = "encounters"
	// DoctorsOnDutyField is the clinic setting read from clinics/{clinicId}.
	DoctorsOnDutyField = "doctorsOnDuty"
	// TimezoneField is the clinic's IANA time zone (hours of the day for the arrival
	// forecast); UTC when absent or unknown.
	TimezoneField = "timezone"
)

// DefaultDoctorsOnDuty is assumed when a clinic has no doctorsOnDuty setting. An
// explicit 0 means nobody is on duty: the board then has no estimates.
const DefaultDoctorsOnDuty = 1

// Store reads the queue's source of truth and reads and writes board documents in
// Firestore. It never writes encounters.
type Store struct {
	fs *firestore.Client
}

// NewStore returns a Store over fs (owned by the caller).
func NewStore(fs *firestore.Client) *Store { return &Store{fs: fs} }

// BoardRef is clinics/{clinicID}/boards/queue.
func (s *Store) BoardRef(clinicID string) *firestore.DocumentRef {
	return s.fs.Collection(clinicsCollection).Doc(clinicID).Collection(BoardsCollection).Doc(BoardDocID)
}

func (s *Store) encounters(clinicID string) *firestore.CollectionRef {
	return s.fs.Collection(clinicsCollection).Doc(clinicID).Collection(encountersCollection)
}

// Source is the state of a clinic that the board is built from, read at one moment.
type Source struct {
	// ReadAt is the Firestore read time of the snapshot (microsecond precision).
	ReadAt        time.Time
	DoctorsOnDuty int
	// Location is the clinic's time zone.
	Location       *time.Location
	Queue          []Waiting
	InConsultation []Consultation
}

// ReadSource reads the clinic's settings and its open encounters (waiting, triaged, in
// consultation) in one read-only transaction, so that they are a consistent snapshot
// whose read time orders boards. Read-only transactions take no locks: check-ins and
// transitions never wait for the projector.
func (s *Store) ReadSource(ctx context.Context, clinicID string) (Source, error) {
	var src Source
	clinic := s.fs.Collection(clinicsCollection).Doc(clinicID)
	q := s.OpenEncounters(clinicID)
	err := s.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		src = Source{DoctorsOnDuty: DefaultDoctorsOnDuty, Location: time.UTC}
		snap, err := tx.Get(clinic)
		switch {
		case status.Code(err) == codes.NotFound:
		case err != nil:
			return err
		default:
			if n, ok := doctorsOnDuty(snap); ok {
				src.DoctorsOnDuty = n
			}
			src.Location = clinicLocation(snap)
		}
		if snap != nil {
			src.ReadAt = snap.ReadTime
		}
		docs, err := tx.Documents(q).GetAll()
		if err != nil {
			return err
		}
		for _, d := range docs {
			if d.ReadTime.After(src.ReadAt) {
				src.ReadAt = d.ReadTime
			}
		}
		src.AddOpen(ctx, docs)
		return nil
	}, firestore.ReadOnly)
	if err != nil {
		return Source{}, fmt.Errorf("queue: reading the open encounters of a clinic: %w", err)
	}
	if src.ReadAt.IsZero() {
		return Source{}, errors.New("queue: Firestore returned no read time")
	}
	src.ReadAt = src.ReadAt.Truncate(time.Microsecond)
	return src, nil
}

// OpenEncounters is the query of the clinic's open encounters (waiting, triaged, in
// consultation): what a board is built from. It needs no composite index.
func (s *Store) OpenEncounters(clinicID string) firestore.Query {
	return s.encounters(clinicID).Where("status", "in", []string{
		string(encounter.StatusWaiting), string(encounter.StatusTriaged), string(encounter.StatusInConsultation),
	})
}

// AddOpen adds the open encounters among docs to the source's queue and
// consultations; a document that does not decode is logged by id and skipped.
func (src *Source) AddOpen(ctx context.Context, docs []*firestore.DocumentSnapshot) {
	for _, d := range docs {
		e, ok := decodeEncounter(ctx, d)
		if !ok {
			continue
		}
		switch e.Status {
		case encounter.StatusWaiting, encounter.StatusTriaged:
			src.Queue = append(src.Queue, WaitingFrom(e))
		case encounter.StatusInConsultation:
			src.InConsultation = append(src.InConsultation, ConsultationFrom(e))
		}
	}
}

// doctorsOnDuty reads the clinic setting; ok is false when absent or not a number.
func doctorsOnDuty(snap *firestore.DocumentSnapshot) (int, bool) {
	v, err := snap.DataAt(DoctorsOnDutyField)
	if err != nil {
		return 0, false
	}
	switch n := v.(type) {
	case int64:
		return max(int(min(n, 1000)), 0), true
	case float64:
		return max(int(min(n, 1000)), 0), true
	}
	return 0, false
}

// clinicLocation reads the clinic's time zone (UTC when absent or unknown).
func clinicLocation(snap *firestore.DocumentSnapshot) *time.Location {
	v, err := snap.DataAt(TimezoneField)
	name, ok := v.(string)
	if err != nil || !ok || name == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	return loc
}

// decodeEncounter decodes an encounter document; a document that does not decode is
// logged by id and skipped, so that one bad document cannot take the board down.
func decodeEncounter(ctx context.Context, d *firestore.DocumentSnapshot) (encounter.Encounter, bool) {
	var e encounter.Encounter
	if err := d.DataTo(&e); err != nil {
		logging.FromContext(ctx).LogAttrs(ctx, slog.LevelWarn, "skipping an encounter that does not decode",
			slog.String("encounterId", d.Ref.ID))
		return encounter.Encounter{}, false
	}
	e.ID = d.Ref.ID
	return e, true
}

// ReadHistory reads what the estimator learns from: the clinic's encounters that
// arrived in the last HistoryWindow (at most MaxHistoryEncounters, the most recent),
// whatever their status. One single-field range query: no composite index needed.
func (s *Store) ReadHistory(ctx context.Context, clinicID string, now time.Time) (History, error) {
	q := s.encounters(clinicID).
		Where("arrivedAt", ">", now.Add(-HistoryWindow)).
		OrderBy("arrivedAt", firestore.Desc).
		Limit(MaxHistoryEncounters)
	var encs []encounter.Encounter
	if err := eachEncounter(ctx, q, func(e encounter.Encounter) { encs = append(encs, e) }); err != nil {
		return History{}, fmt.Errorf("queue: reading recent encounters: %w", err)
	}
	return LearnHistory(encs), nil
}

func eachEncounter(ctx context.Context, q firestore.Query, f func(encounter.Encounter)) error {
	it := q.Documents(ctx)
	defer it.Stop()
	for {
		d, err := it.Next()
		if errors.Is(err, iterator.Done) {
			return nil
		}
		if err != nil {
			return err
		}
		if e, ok := decodeEncounter(ctx, d); ok {
			f(e)
		}
	}
}

// Board reads the clinic's board; ok is false when there is none yet.
func (s *Store) Board(ctx context.Context, clinicID string) (b Board, ok bool, err error) {
	snap, err := s.BoardRef(clinicID).Get(ctx)
	if status.Code(err) == codes.NotFound {
		return Board{}, false, nil
	}
	if err != nil {
		return Board{}, false, fmt.Errorf("queue: reading the board: %w", err)
	}
	b, err = DecodeBoard(snap)
	return b, err == nil, err
}

// DecodeBoard decodes a board document snapshot.
func DecodeBoard(snap *firestore.DocumentSnapshot) (Board, error) {
	var b Board
	if err := snap.DataTo(&b); err != nil {
		return Board{}, fmt.Errorf("queue: decoding the board: %w", err)
	}
	if b.Entries == nil {
		b.Entries = []Entry{}
	}
	return b, nil
}

// EmptyBoard is the board of a clinic that has none yet (version 0).
func EmptyBoard(clinicID string) Board {
	return Board{ClinicID: clinicID, Entries: []Entry{}}
}

// Freshness reads, in one call, the board's source read time and the last update time
// of one encounter (zero when the board or the encounter does not exist).
func (s *Store) Freshness(ctx context.Context, clinicID, encounterID string) (boardReadAt, encounterUpdatedAt time.Time, err error) {
	refs := []*firestore.DocumentRef{s.BoardRef(clinicID), s.encounters(clinicID).Doc(encounterID)}
	snaps, err := s.fs.GetAll(ctx, refs)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("queue: reading board freshness: %w", err)
	}
	if snaps[0].Exists() {
		v, err := snaps[0].DataAt("sourceReadAt")
		if t, ok := v.(time.Time); err == nil && ok {
			boardReadAt = t
		}
	}
	if snaps[1].Exists() {
		encounterUpdatedAt = snaps[1].UpdateTime
	}
	return boardReadAt, encounterUpdatedAt, nil
}

// WriteBoard stores b unless the stored board was built from a read at least as
// recent (b.SourceReadAt). The check and the write are one transaction on the board
// document only; the new version is the stored version plus one. It returns the board
// now stored and whether b was written.
func (s *Store) WriteBoard(ctx context.Context, b Board) (stored Board, written bool, err error) {
	stored, written, _, err = s.writeBoard(ctx, b, 0)
	return stored, written, err
}

// writeBoard is WriteBoard that also leaves the board alone when it was written less
// than gap before (by the document's update time and the transaction's read time, both
// Firestore's clock): wait is then the rest of the gap, and nothing is written.
func (s *Store) writeBoard(ctx context.Context, b Board, gap time.Duration) (stored Board, written bool, wait time.Duration, err error) {
	if !docid.Valid(b.ClinicID) || b.SourceReadAt.IsZero() {
		return Board{}, false, 0, events.Permanent(errors.New("queue: a board needs a clinic id and a source read time"))
	}
	ref := s.BoardRef(b.ClinicID)
	err = s.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		written, wait = false, 0
		var cur Board
		snap, err := tx.Get(ref)
		switch {
		case status.Code(err) == codes.NotFound:
		case err != nil:
			return err
		default:
			if cur, err = DecodeBoard(snap); err != nil {
				return err
			}
		}
		if snap != nil && snap.Exists() {
			if !cur.SourceReadAt.Before(b.SourceReadAt) {
				stored = cur
				return nil
			}
			if since := snap.ReadTime.Sub(snap.UpdateTime); gap > 0 && since < gap {
				stored, wait = cur, gap-since
				return nil
			}
		}
		next := b
		next.Version = cur.Version + 1
		if err := tx.Set(ref, next); err != nil {
			return err
		}
		stored, written = next, true
		return nil
	}, firestore.MaxAttempts(5))
	if err != nil {
		return Board{}, false, 0, fmt.Errorf("queue: writing the board: %w", err)
	}
	return stored, written, wait, nil
}

// ClinicIDs lists every clinic (including clinics that only have sub-collections), for
// the full rebuild.
func (s *Store) ClinicIDs(ctx context.Context) ([]string, error) {
	it := s.fs.Collection(clinicsCollection).DocumentRefs(ctx)
	var ids []string
	for {
		ref, err := it.Next()
		if errors.Is(err, iterator.Done) {
			return ids, nil
		}
		if err != nil {
			return nil, fmt.Errorf("queue: listing clinics: %w", err)
		}
		ids = append(ids, ref.ID)
	}
}

package queue

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strings"
	"sync"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/medi-os/medi/shared/docid"
	"github.com/medi-os/medi/shared/events"
	"github.com/medi-os/medi/shared/logging"
)

// TypeRebuildRequested asks the projector to rebuild boards whatever their freshness:
// the clinic's board when the envelope has a clinic id, every clinic's board when it
// has none. Cloud Scheduler publishes it on encounter-events every minute (waited
// minutes, over-target flags and estimates change with time alone), and an operator
// can publish it to recover a board.
const TypeRebuildRequested = "queue.rebuild_requested"

// Projector defaults.
const (
	// DefaultHistoryTTL is how long an instance reuses a clinic's learned history.
	DefaultHistoryTTL = 5 * time.Minute
	// DefaultRebuildTimeout bounds one rebuild.
	DefaultRebuildTimeout = 45 * time.Second
	// DefaultBoardWriteInterval is the least time between two writes of a clinic's board:
	// Firestore sustains about one write per second to one document.
	DefaultBoardWriteInterval = time.Second
	// estimatesMaxAge is how long estimates of an unchanged queue are carried onto new
	// boards before they are made again (time alone changes them; the minute tick
	// rebuilds every board).
	estimatesMaxAge = 50 * time.Second
	// inlineEstimateWork bounds the estimator's work (Estimator.work) made within a
	// rebuild, before the board is written: about 10-20 ms of one core (a queue of about ten).
	inlineEstimateWork = 300_000
)

// ProjectorOptions configure a Projector. The zero value works.
type ProjectorOptions struct {
	Estimator Estimator
	// HistoryTTL is how long learned history is cached per clinic (DefaultHistoryTTL
	// when 0; negative: never cached).
	HistoryTTL time.Duration
	// RebuildTimeout bounds one rebuild (DefaultRebuildTimeout when 0).
	RebuildTimeout time.Duration
	// BoardWriteInterval is the least time between two writes of one board, across
	// instances (DefaultBoardWriteInterval when 0; negative: none).
	BoardWriteInterval time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Projector keeps clinics/{c}/boards/queue current: on every encounter event it
// rebuilds the clinic's board from the source of truth (the open encounters) and
// writes it if no board built from a newer read is stored. Rebuilding from the source
// makes the projection indifferent to duplicate, lost and reordered events.
//
// Cost control: an event whose encounter changed before the stored board's source
// read is already reflected and is skipped (two document reads); rebuilds of one clinic
// never run concurrently in an instance, start at least BoardWriteInterval apart, and a
// burst is folded into one follow-up rebuild; the encounters are read in a lock-free
// read-only transaction, and the only read-write transaction touches the board document
// alone. That transaction also keeps the board's writes BoardWriteInterval apart across
// instances (by the document's update time on Firestore's clock): a rebuild that comes too
// soon waits out the rest and rebuilds from a new read.
type Projector struct {
	store         *Store
	est           Estimator
	historyTTL    time.Duration
	writeInterval time.Duration
	now           func() time.Time
	flights       *coalescer

	mu        sync.Mutex
	history   map[string]cachedHistory
	estimates map[string]clinicEstimates
	// pending is, per clinic, the estimator input of the newest board written with
	// estimates that do not fit its queue.
	pending map[string]estimateInput
	// estimating holds the clinics whose estimates a caller is making.
	estimating map[string]struct{}
}

// clinicEstimates are the latest estimates made for a clinic and the queue they fit.
type clinicEstimates struct {
	Estimates
	fit uint64
}

// estimateInput is what the estimator needs for a board, and the fit of its queue.
type estimateInput struct {
	in  Snapshot
	fit uint64
}

type cachedHistory struct {
	h        History
	loadedAt time.Time
}

// NewProjector returns a projector over fs (owned by the caller).
func NewProjector(fs *firestore.Client, o ProjectorOptions) *Projector {
	if o.HistoryTTL == 0 {
		o.HistoryTTL = DefaultHistoryTTL
	}
	if o.RebuildTimeout <= 0 {
		o.RebuildTimeout = DefaultRebuildTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.BoardWriteInterval == 0 {
		o.BoardWriteInterval = DefaultBoardWriteInterval
	}
	o.BoardWriteInterval = max(o.BoardWriteInterval, 0)
	return &Projector{
		store:         NewStore(fs),
		est:           o.Estimator,
		historyTTL:    o.HistoryTTL,
		writeInterval: o.BoardWriteInterval,
		now:           o.Now,
		flights:       newCoalescer(o.RebuildTimeout, o.BoardWriteInterval),
		history:       map[string]cachedHistory{},
		estimates:     map[string]clinicEstimates{},
		pending:       map[string]estimateInput{},
		estimating:    map[string]struct{}{},
	}
}

// Store returns the projector's store.
func (p *Projector) Store() *Store { return p.store }

// encounterRef is the part of an encounter event's data the projector uses.
type encounterRef struct {
	EncounterID string `json:"encounterId"`
}

// Apply handles one event from encounter-events. Errors marked events.Permanent mean
// the event can never be applied; other errors should be retried.
func (p *Projector) Apply(ctx context.Context, env events.Envelope) error {
	if env.Type == TypeRebuildRequested {
		if env.ClinicID == "" {
			return p.RebuildAll(ctx)
		}
		if !docid.Valid(env.ClinicID) {
			return events.Permanent(fmt.Errorf("queue: event %q has an invalid clinic id", env.EventID))
		}
		_, err := p.Rebuild(ctx, env.ClinicID)
		return err
	}
	if !docid.Valid(env.ClinicID) {
		return events.Permanent(fmt.Errorf("queue: event %q has no valid clinic id", env.EventID))
	}
	if !strings.HasPrefix(env.Type, "encounter.") {
		logging.FromContext(ctx).LogAttrs(ctx, slog.LevelDebug, "ignoring an event that is not about encounters")
		return nil
	}
	if p.flights.requested(env.ClinicID) {
		// A rebuild that starts after this event is already requested: nothing to read.
		logging.FromContext(ctx).LogAttrs(ctx, slog.LevelDebug, "event joined a requested rebuild")
		return nil
	}
	var ref encounterRef
	// Data that does not decode only loses the freshness shortcut.
	_ = json.Unmarshal(env.Data, &ref)
	if ref.EncounterID != "" && docid.Valid(ref.EncounterID) {
		boardReadAt, updatedAt, err := p.store.Freshness(ctx, env.ClinicID, ref.EncounterID)
		if err != nil {
			return err
		}
		if !boardReadAt.IsZero() && !updatedAt.IsZero() && !boardReadAt.Before(updatedAt) {
			logging.FromContext(ctx).LogAttrs(ctx, slog.LevelInfo, "board already reflects the event",
				slog.String("encounterId", ref.EncounterID))
			return nil
		}
	}
	return p.rebuildForEvent(ctx, env.ClinicID)
}

// RebuildResult says what a rebuild did.
type RebuildResult struct {
	// Board is the board stored after the rebuild (the rebuilt one, or a newer one
	// another rebuild wrote first).
	Board Board
	// Written is true when this rebuild wrote the board.
	Written bool
}

// Rebuild rebuilds the clinic's board from the source of truth now. Concurrent calls
// for one clinic in this instance are coalesced: the caller gets the result of a
// rebuild that started after its call.
//
// A rebuild writes the board's entries (who waits, in which order) without waiting for
// the wait estimates, which cost far more than the rest on a long queue: each entry keeps
// the estimate last made for it (counted from the new board's time), and a patient the
// last estimates do not know yet has none. When the estimates did not fit the board's
// queue, one caller then makes them (one estimation per clinic at a time in an
// instance; the other callers do not wait for it) and rebuilds again, so that the board
// carries them at its next write.
func (p *Projector) Rebuild(ctx context.Context, clinicID string) (RebuildResult, error) {
	if !docid.Valid(clinicID) {
		return RebuildResult{}, events.Permanent(errors.New("queue: invalid clinic id"))
	}
	res, _, err := p.rebuildCoalesced(ctx, clinicID, false)
	return p.finishRebuild(ctx, clinicID, res, err)
}

// rebuildForEvent is Rebuild for an encounter event: when the clinic's next rebuild is
// already requested and waited for (a burst), the event joins it and returns at once,
// so that a push delivery is acknowledged without holding a slot of the push endpoint
// for a rebuild it does not need to see (that rebuild starts after this call, so after
// the event's change was committed, and its own caller is delivered again if it fails).
func (p *Projector) rebuildForEvent(ctx context.Context, clinicID string) error {
	res, joined, err := p.rebuildCoalesced(ctx, clinicID, true)
	if joined {
		logging.FromContext(ctx).LogAttrs(ctx, slog.LevelDebug, "event joined a requested rebuild")
		return nil
	}
	_, err = p.finishRebuild(ctx, clinicID, res, err)
	return err
}

// finishRebuild makes the clinic's pending estimates when no other caller is making
// them, and rebuilds with them.
func (p *Projector) finishRebuild(ctx context.Context, clinicID string, res RebuildResult, err error) (RebuildResult, error) {
	// One caller per clinic makes the estimates; the others return at once (a push
	// delivery held for seconds would slow Pub/Sub's deliveries of the whole burst). The
	// one that does goes on while its rebuilds leave the estimates behind the queue.
	for round := 0; err == nil && round < maxEstimateRounds && p.claimEstimation(clinicID); round++ {
		p.estimate(clinicID)
		p.mu.Lock()
		delete(p.estimating, clinicID)
		p.mu.Unlock()
		res, _, err = p.rebuildCoalesced(ctx, clinicID, false)
	}
	return res, err
}

// maxEstimateRounds bounds the estimations one Rebuild makes for a queue that keeps
// changing; what is left is made by the next event's Rebuild (or the minute tick).
const maxEstimateRounds = 10

// claimEstimation reports whether the caller is to make the clinic's pending estimates:
// there are some, and nobody in this instance is making any.
func (p *Projector) claimEstimation(clinicID string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, busy := p.estimating[clinicID]; busy {
		return false
	}
	if _, ok := p.pending[clinicID]; !ok {
		return false
	}
	p.estimating[clinicID] = struct{}{}
	return true
}

// rebuildCoalesced rebuilds through the coalescer; with join, it returns at once with
// joined true when the clinic's next rebuild is already requested and waited for.
func (p *Projector) rebuildCoalesced(ctx context.Context, clinicID string, join bool) (_ RebuildResult, joined bool, _ error) {
	var res RebuildResult
	var mu sync.Mutex
	joined, err := p.flights.do(ctx, clinicID, func(ctx context.Context) error {
		r, err := p.rebuild(ctx, clinicID)
		mu.Lock()
		res = r
		mu.Unlock()
		return err
	}, join)
	if joined {
		return RebuildResult{}, true, nil
	}
	mu.Lock()
	defer mu.Unlock()
	if err != nil {
		return RebuildResult{}, false, err
	}
	if res.Board.ClinicID == "" {
		// Served by a rebuild another caller started: report the stored board.
		b, ok, err := p.store.Board(ctx, clinicID)
		if err != nil {
			return RebuildResult{}, false, err
		}
		if !ok {
			b = EmptyBoard(clinicID)
		}
		return RebuildResult{Board: b}, false, nil
	}
	return res, false, nil
}

// estimate makes the estimates of the clinic's pending input, unless estimates that
// fit it have been made meanwhile.
func (p *Projector) estimate(clinicID string) {
	p.mu.Lock()
	pend, ok := p.pending[clinicID]
	delete(p.pending, clinicID)
	cur, have := p.estimates[clinicID]
	p.mu.Unlock()
	if !ok || (have && cur.fits(pend)) {
		return
	}
	est := Estimates{ByEncounter: p.est.Estimate(pend.in), At: pend.in.Now, Runs: p.est.RunsFor(len(pend.in.Queue))}
	p.mu.Lock()
	if cur, have := p.estimates[clinicID]; !have || !cur.At.After(est.At) {
		p.estimates[clinicID] = clinicEstimates{Estimates: est, fit: pend.fit}
	}
	p.mu.Unlock()
}

// fits reports whether the estimates were made for in's queue, recently enough.
func (e clinicEstimates) fits(in estimateInput) bool {
	return e.fit == in.fit && !e.At.After(in.in.Now) && in.in.Now.Sub(e.At) < estimatesMaxAge
}

// fitOf identifies what the estimates of a board depend on besides time and history:
// the doctors, the queue in board order with levels and arrivals, and the consultations
// in progress.
func fitOf(in Snapshot) uint64 {
	h := fnv.New64a()
	var buf [8]byte
	num := func(x int64) {
		binary.LittleEndian.PutUint64(buf[:], uint64(x))
		_, _ = h.Write(buf[:])
	}
	str := func(s string) {
		num(int64(len(s)))
		_, _ = h.Write([]byte(s))
	}
	num(int64(in.DoctorsOnDuty))
	num(int64(len(in.Queue)))
	for _, w := range in.Queue {
		str(w.EncounterID)
		num(int64(w.Level))
		num(w.ArrivedAt.UnixNano())
		if w.Seen {
			num(1)
		} else {
			num(0)
		}
	}
	num(int64(len(in.InConsultation)))
	for _, c := range in.InConsultation {
		str(c.EncounterID)
		num(int64(c.Level))
		num(c.StartedAt.UnixNano())
	}
	return h.Sum64()
}

// maxTooSoon bounds the rebuilds one flight repeats because another instance wrote the
// board less than the write interval before.
const maxTooSoon = 5

func (p *Projector) rebuild(ctx context.Context, clinicID string) (RebuildResult, error) {
	for attempt := 1; ; attempt++ {
		res, wait, err := p.rebuildOnce(ctx, clinicID)
		if err != nil || wait <= 0 || attempt == maxTooSoon {
			return res, err
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return RebuildResult{}, ctx.Err()
		}
	}
}

// rebuildOnce builds the board from a new read and writes it; wait > 0 when the board was
// written less than the write interval before (nothing written: rebuild after wait).
func (p *Projector) rebuildOnce(ctx context.Context, clinicID string) (RebuildResult, time.Duration, error) {
	src, err := p.store.ReadSource(ctx, clinicID)
	if err != nil {
		return RebuildResult{}, 0, err
	}
	now := p.now()
	h, err := p.historyOf(ctx, clinicID, now)
	if err != nil {
		return RebuildResult{}, 0, err
	}
	b, in := orderBoard(clinicID, NewSnapshot(now, src, h))
	b.SourceReadAt = src.ReadAt
	pend := estimateInput{in: in, fit: fitOf(in)}
	p.mu.Lock()
	cur := p.estimates[clinicID]
	fits := cur.fits(pend)
	p.mu.Unlock()
	if !fits && p.est.work(in) <= inlineEstimateWork {
		// A short queue: estimated at once, the board is not held up.
		cur = clinicEstimates{Estimates: Estimates{ByEncounter: p.est.Estimate(in), At: in.Now, Runs: p.est.RunsFor(len(in.Queue))}, fit: pend.fit}
		fits = true
	}
	p.mu.Lock()
	if fits {
		p.estimates[clinicID] = cur
		delete(p.pending, clinicID)
	} else {
		p.pending[clinicID] = pend
	}
	p.mu.Unlock()
	SetEstimates(&b, cur.Estimates)

	stored, written, wait, err := p.store.writeBoard(ctx, b, p.writeInterval)
	if err != nil {
		return RebuildResult{}, 0, err
	}
	if wait > 0 {
		return RebuildResult{}, wait, nil
	}
	logging.FromContext(ctx).LogAttrs(ctx, slog.LevelInfo, "queue board rebuilt", slog.Bool("written", written),
		slog.Int64("version", stored.Version), slog.Int("entries", len(b.Entries)),
		slog.Bool("estimatesFit", fits))
	return RebuildResult{Board: stored, Written: written}, 0, nil
}

// historyOf returns the clinic's learned history, cached per instance for the TTL.
func (p *Projector) historyOf(ctx context.Context, clinicID string, now time.Time) (History, error) {
	p.mu.Lock()
	c, ok := p.history[clinicID]
	p.mu.Unlock()
	if ok && p.historyTTL > 0 && now.Sub(c.loadedAt) < p.historyTTL {
		return c.h, nil
	}
	h, err := p.store.ReadHistory(ctx, clinicID, now)
	if err != nil {
		return History{}, err
	}
	if p.historyTTL > 0 {
		p.mu.Lock()
		p.history[clinicID] = cachedHistory{h: h, loadedAt: now}
		p.mu.Unlock()
	}
	return h, nil
}

// RebuildAll rebuilds the board of every clinic (the periodic and recovery path). It
// continues past a failing clinic and returns the failures joined.
func (p *Projector) RebuildAll(ctx context.Context) error {
	ids, err := p.store.ClinicIDs(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, id := range ids {
		if !docid.Valid(id) {
			continue
		}
		cctx := logging.WithLogger(ctx, logging.FromContext(ctx).With(slog.String("clinicId", id)))
		if _, err := p.Rebuild(cctx, id); err != nil {
			errs = append(errs, fmt.Errorf("clinic %s: %w", id, err))
		}
	}
	return errors.Join(errs...)
}

package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/iterator"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Tamper evidence. Each clinic's audit records form a hash chain: record n stores
// seq = n, prevHash = hash of record n-1 and hash = SHA-256 over its own content, seq and
// prevHash. The chain's head (seq and hash of the last record) is
// clinics/{clinicId}/auditChain/head.
//
// Writers cannot chain a record in their own transaction: Firestore transactions read
// before they write, and callers add their audit record after their writes (and several
// per transaction). So records are written unsealed (sealed=false) and a Sealer appends
// them to the chain in batches, in one transaction per batch that reads the head and the
// unsealed records and writes them all. The head is thus written once per batch instead
// of once per audited action: with the emulator's slow single-document contention this
// keeps audited writes at full speed (docs/deployment.md has the measurement). Sealing
// runs before every audit listing and verification, and on a schedule (the audit-seal
// function, SealAll, every 5 minutes in production and every minute on the local stack).
//
// Verify recomputes the chain from the latest anchor (anchor.go) to the head and reports
// the first break: an edited record (hash mismatch), a removed one (sequence gap or head
// ahead of the records), a re-linked one (prevHash mismatch), or a chain that no longer
// reaches its anchored position (rewritten or cut back after it was anchored).

// ChainCollection holds the chain head of a clinic.
const ChainCollection = "auditChain"

// sealBatch bounds the records chained per transaction (Firestore allows 500 writes).
const sealBatch = 200

// Head is the chain head of a clinic.
type Head struct {
	Seq       int64     `firestore:"seq" json:"seq"`
	Hash      string    `firestore:"hash" json:"hash"`
	UpdatedAt time.Time `firestore:"updatedAt" json:"updatedAt"`
}

// Chain seals and verifies clinics' audit chains.
type Chain struct {
	fs      *firestore.Client
	anchors AnchorStore
	maxTail int
	now     func() time.Time
}

// DefaultVerifyTail bounds the records one verification recomputes (from the latest
// anchor); the scheduled seal anchors far more often than that many records accrue.
const DefaultVerifyTail = 20000

// NewChain returns a Chain over fs, without anchors (WithAnchors adds them).
func NewChain(fs *firestore.Client) *Chain {
	return &Chain{fs: fs, maxTail: DefaultVerifyTail, now: time.Now}
}

// WithAnchors returns c verifying from, and checkpointing to, anchors.
func (c *Chain) WithAnchors(a AnchorStore) *Chain {
	cc := *c
	cc.anchors = a
	return &cc
}

func (c *Chain) records(clinicID string) *firestore.CollectionRef {
	return c.fs.Collection("clinics").Doc(clinicID).Collection(Collection)
}

func (c *Chain) head(clinicID string) *firestore.DocumentRef {
	return c.fs.Collection("clinics").Doc(clinicID).Collection(ChainCollection).Doc("head")
}

// canonical is what a record's hash covers, in a fixed order.
type canonical struct {
	ID           string `json:"id"`
	Seq          int64  `json:"seq"`
	PrevHash     string `json:"prevHash"`
	ClinicID     string `json:"clinicId"`
	ActorUID     string `json:"actorUid"`
	ActorRole    string `json:"actorRole"`
	Action       string `json:"action"`
	ResourceType string `json:"resourceType"`
	ResourceID   string `json:"resourceId"`
	PatientID    string `json:"patientId"`
	Outcome      string `json:"outcome"`
	Reason       string `json:"reason"`
	RequestID    string `json:"requestId"`
	// TraceID is left out when empty, so that records written before it existed keep
	// their hash.
	TraceID string `json:"traceId,omitempty"`
	Time    string `json:"time"`
}

// ComputeHash returns the hash of r (with its ID, Seq and PrevHash) as hex.
func ComputeHash(r Record) string {
	b, _ := json.Marshal(canonical{
		ID: r.ID, Seq: r.Seq, PrevHash: r.PrevHash, ClinicID: r.ClinicID, ActorUID: r.ActorUID,
		ActorRole: r.ActorRole, Action: r.Action, ResourceType: r.ResourceType, ResourceID: r.ResourceID,
		PatientID: r.PatientID, Outcome: r.Outcome, Reason: r.Reason, RequestID: r.RequestID,
		TraceID: r.TraceID, Time: r.Time.UTC().Format(time.RFC3339Nano),
	})
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// Seal appends clinicID's unsealed records to its chain (oldest id first) and returns how
// many it chained. Concurrent sealers of one clinic serialize on the head document.
func (c *Chain) Seal(ctx context.Context, clinicID string) (int, error) {
	return c.SealUpTo(ctx, clinicID, 0)
}

// SealUpTo is Seal chaining at most max records (max <= 0: no bound), for callers that
// must bound their work (the scheduled sealer); the rest wait for the next call. Each
// batch commits on its own, so an error leaves the records chained before it chained.
func (c *Chain) SealUpTo(ctx context.Context, clinicID string, max int) (int, error) {
	total := 0
	for {
		limit := sealBatch
		if max > 0 {
			limit = min(limit, max-total)
		}
		if limit <= 0 {
			return total, nil
		}
		n, more, err := c.sealBatch(ctx, clinicID, limit)
		total += n
		if err != nil || !more {
			return total, err
		}
	}
}

// sealBatch chains up to limit (at most sealBatch) unsealed records in one transaction.
//
// The unsealed records are found by a query outside the transaction and read again by
// reference inside it: a query inside a transaction locks its whole range, so every
// audit record written meanwhile for the clinic (an audited read, a denied attempt) waited
// on the sealer and could fail its request. Read by reference, the transaction locks only
// the chain head and the records it chains. A record sealed by a concurrent run between
// the query and the transaction is skipped (that run also moved the head, which this
// transaction reads, so the two cannot both chain it); one written after the query waits
// for the next batch. more reports that the query found a full batch (more may wait).
func (c *Chain) sealBatch(ctx context.Context, clinicID string, limit int) (n int, more bool, err error) {
	q := c.records(clinicID).Where("sealed", "==", false).OrderBy(firestore.DocumentID, firestore.Asc).Limit(limit)
	found, err := q.Documents(ctx).GetAll()
	if err != nil {
		return 0, false, fmt.Errorf("audit: sealing chain: %w", err)
	}
	if len(found) == 0 {
		return 0, false, nil
	}
	more = len(found) == limit
	refs := make([]*firestore.DocumentRef, len(found))
	for i, d := range found {
		refs[i] = d.Ref
	}
	err = c.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		n = 0
		var h Head
		snap, err := tx.Get(c.head(clinicID))
		switch {
		case status.Code(err) == codes.NotFound:
		case err != nil:
			return err
		default:
			if err := snap.DataTo(&h); err != nil {
				return err
			}
		}
		docs, err := tx.GetAll(refs)
		if err != nil {
			return err
		}
		for _, d := range docs {
			if !d.Exists() {
				continue
			}
			var r Record
			if err := d.DataTo(&r); err != nil {
				return fmt.Errorf("audit record %s: %w", d.Ref.ID, err)
			}
			if r.Sealed {
				continue
			}
			r.ID = d.Ref.ID
			r.Seq, r.PrevHash = h.Seq+1, h.Hash
			r.Hash = ComputeHash(r)
			if err := tx.Update(d.Ref, []firestore.Update{
				{Path: "sealed", Value: true}, {Path: "seq", Value: r.Seq},
				{Path: "prevHash", Value: r.PrevHash}, {Path: "hash", Value: r.Hash},
			}); err != nil {
				return err
			}
			h.Seq, h.Hash = r.Seq, r.Hash
			n++
		}
		if n == 0 {
			return nil
		}
		h.UpdatedAt = c.now().UTC()
		return tx.Set(c.head(clinicID), h)
	})
	if err != nil {
		return 0, false, fmt.Errorf("audit: sealing chain: %w", err)
	}
	return n, more, nil
}

// Break kinds reported by Verify.
const (
	BreakHashMismatch     = "hash_mismatch"      // the record's content changed after sealing
	BreakPrevHashMismatch = "prev_hash_mismatch" // the record does not follow its predecessor
	BreakSequenceGap      = "sequence_gap"       // a record is missing
	BreakHeadMismatch     = "head_mismatch"      // the last records are missing or the head was altered
	BreakAnchorMismatch   = "anchor_mismatch"    // the chain no longer reaches its anchored position
)

// ChainBreak is the first inconsistency of a chain.
type ChainBreak struct {
	Seq      int64  `json:"seq"`
	RecordID string `json:"recordId,omitempty"`
	Kind     string `json:"kind"`
}

// Verification is the result of Verify.
type Verification struct {
	ClinicID string `json:"clinicId"`
	// Valid is true when no break was found in the records checked.
	Valid bool `json:"valid"`
	// Checked counts the records recomputed (the anchored one included).
	Checked int64 `json:"checked"`
	HeadSeq int64 `json:"headSeq"`
	// Checkpoint is the anchor verification started from, trusted for every record up to
	// it (nil: from the first record; no anchor yet, or anchors not configured).
	Checkpoint *Anchor `json:"checkpoint"`
	// VerifiedSeq is the last record verified; Complete is false when the tail after the
	// checkpoint was longer than the bound and verification stopped before the head.
	VerifiedSeq  int64       `json:"verifiedSeq"`
	Complete     bool        `json:"complete"`
	FirstBreak   *ChainBreak `json:"firstBreak"`
	VerifiedAt   time.Time   `json:"verifiedAt"`
	verifiedHash string
}

// Verify recomputes clinicID's chain from its latest anchor (or from the first record
// when it has none) to the head, at most the chain's bound of records, and reports the
// first break.
func (c *Chain) Verify(ctx context.Context, clinicID string) (Verification, error) {
	start, err := c.latestAnchor(ctx, clinicID)
	if err != nil {
		return Verification{ClinicID: clinicID, VerifiedAt: c.now().UTC()}, err
	}
	return c.verifyFrom(ctx, clinicID, start, c.maxTail)
}

func (c *Chain) latestAnchor(ctx context.Context, clinicID string) (*Anchor, error) {
	if c.anchors == nil {
		return nil, nil
	}
	a, ok, err := c.anchors.Latest(ctx, clinicID)
	if err != nil || !ok {
		return nil, err
	}
	return &a, nil
}

// ErrNoAnchors is returned by Checkpoint on a chain without an anchor store.
var ErrNoAnchors = errors.New("audit: no anchor store configured")

// Checkpoint verifies clinicID's chain from its latest anchor (at most limit records)
// and, when no break was found, anchors the last record verified: the next
// verifications start there. It returns the verification and whether it anchored.
func (c *Chain) Checkpoint(ctx context.Context, clinicID string, limit int) (Verification, bool, error) {
	if c.anchors == nil {
		return Verification{}, false, ErrNoAnchors
	}
	start, err := c.latestAnchor(ctx, clinicID)
	if err != nil {
		return Verification{}, false, err
	}
	if limit <= 0 {
		limit = c.maxTail
	}
	v, err := c.verifyFrom(ctx, clinicID, start, limit)
	if err != nil || !v.Valid || v.VerifiedSeq == 0 || (start != nil && v.VerifiedSeq <= start.Seq) {
		return v, false, err
	}
	a := Anchor{ClinicID: clinicID, Seq: v.VerifiedSeq, Hash: v.verifiedHash, At: c.now().UTC()}
	if err := c.anchors.Put(ctx, a); err != nil {
		return v, false, err
	}
	return v, true, nil
}

func (c *Chain) readHead(ctx context.Context, clinicID string) (Head, error) {
	var h Head
	snap, err := c.head(clinicID).Get(ctx)
	switch {
	case status.Code(err) == codes.NotFound:
		return h, nil
	case err != nil:
		return h, fmt.Errorf("audit: reading chain head: %w", err)
	}
	if err := snap.DataTo(&h); err != nil {
		return h, fmt.Errorf("audit: chain head: %w", err)
	}
	return h, nil
}

// verifyFrom recomputes the chain from start (the anchored record itself is recomputed
// and must carry the anchored hash) or from the first record, over at most limit records
// after it.
func (c *Chain) verifyFrom(ctx context.Context, clinicID string, start *Anchor, limit int) (Verification, error) {
	v := Verification{ClinicID: clinicID, VerifiedAt: c.now().UTC(), Checkpoint: start}
	h, err := c.readHead(ctx, clinicID)
	if err != nil {
		return v, err
	}
	v.HeadSeq = h.Seq
	from, n := int64(1), limit
	if start != nil {
		if start.Seq > h.Seq {
			v.FirstBreak = &ChainBreak{Seq: start.Seq, Kind: BreakAnchorMismatch}
			return v, nil
		}
		from, n = start.Seq, limit+1
	}
	it := c.records(clinicID).Where("seq", ">=", from).OrderBy("seq", firestore.Asc).Limit(n + 1).Documents(ctx)
	defer it.Stop()
	var prevSeq int64
	prevHash := ""
	seen := 0
	for {
		d, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			return v, fmt.Errorf("audit: reading chain: %w", err)
		}
		if seen == n {
			v.VerifiedSeq, v.verifiedHash, v.Valid = prevSeq, prevHash, true
			return v, nil // the bound: the head is further on
		}
		seen++
		var r Record
		if err := d.DataTo(&r); err != nil {
			v.FirstBreak = &ChainBreak{Seq: prevSeq + 1, RecordID: d.Ref.ID, Kind: BreakHashMismatch}
			return v, nil
		}
		r.ID = d.Ref.ID
		v.Checked++
		if start != nil && seen == 1 {
			// The anchored record: its content must still hash to the anchored hash.
			if r.Seq != start.Seq || r.Hash != start.Hash || ComputeHash(r) != r.Hash {
				v.FirstBreak = &ChainBreak{Seq: start.Seq, RecordID: r.ID, Kind: BreakAnchorMismatch}
				return v, nil
			}
			prevSeq, prevHash = r.Seq, r.Hash
			continue
		}
		switch {
		case r.Seq != prevSeq+1:
			v.FirstBreak = &ChainBreak{Seq: prevSeq + 1, RecordID: r.ID, Kind: BreakSequenceGap}
		case r.PrevHash != prevHash:
			v.FirstBreak = &ChainBreak{Seq: r.Seq, RecordID: r.ID, Kind: BreakPrevHashMismatch}
		case ComputeHash(r) != r.Hash:
			v.FirstBreak = &ChainBreak{Seq: r.Seq, RecordID: r.ID, Kind: BreakHashMismatch}
		}
		if v.FirstBreak != nil {
			return v, nil
		}
		prevSeq, prevHash = r.Seq, r.Hash
	}
	if start != nil && seen == 0 {
		v.FirstBreak = &ChainBreak{Seq: start.Seq, Kind: BreakAnchorMismatch}
		return v, nil
	}
	if prevSeq != h.Seq || prevHash != h.Hash {
		// A seal may have moved the head while the records were read: compare with it again.
		if h, err = c.readHead(ctx, clinicID); err != nil {
			return v, err
		}
		v.HeadSeq = h.Seq
		if prevSeq != h.Seq || prevHash != h.Hash {
			v.FirstBreak = &ChainBreak{Seq: prevSeq + 1, Kind: BreakHeadMismatch}
			return v, nil
		}
	}
	v.VerifiedSeq, v.verifiedHash, v.Valid, v.Complete = prevSeq, prevHash, true, true
	return v, nil
}

package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"cloud.google.com/go/storage"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/iterator"
)

// Anchors. The chain head lives in Firestore, which every function's service account can
// write, so a holder of such credentials could rewrite records and rebuild the chain and
// its head. An anchor is a copy of a verified chain position (clinic, seq, hash, time)
// kept outside Firestore, in a store those identities can add to but not rewrite: a Cloud
// Storage bucket with a retention policy, where the sealing function's account may only
// create objects that do not exist yet (roles/storage.objectCreator, every write with an
// if-generation-match=0 precondition) and the admin function's account may only read
// them. Anchors are also the checkpoints of incremental verification: the scheduled seal
// (Chain.Checkpoint) verifies the chain from the latest anchor to the head and only then
// anchors the head, so every record up to the latest anchor was verified once, and a
// chain rebuilt afterwards no longer reaches the anchored hash.

// Anchor is a verified position of a clinic's chain, kept outside Firestore.
type Anchor struct {
	ClinicID string    `json:"clinicId"`
	Seq      int64     `json:"seq"`
	Hash     string    `json:"hash"`
	At       time.Time `json:"at"`
}

// AnchorStore keeps anchors append-only.
type AnchorStore interface {
	// Put adds a; an anchor of the same clinic and seq with the same hash already there
	// is success, one with another hash is an error (ErrAnchorConflict).
	Put(ctx context.Context, a Anchor) error
	// Latest returns the anchor of clinicID with the highest seq (false when none).
	Latest(ctx context.Context, clinicID string) (Anchor, bool, error)
}

// ErrAnchorConflict reports an anchor that differs from the one already stored for the
// same position: the chain was rewritten after that position was anchored.
var ErrAnchorConflict = errors.New("audit: a different anchor is stored for this position")

// GCSAnchors keeps anchors as objects of a Cloud Storage bucket, one per anchored
// position: clinics/{clinicId}/anchors/{inverted seq}.json, where the inverted seq
// (anchorSeqBase - seq, 19 digits) makes the newest anchor the first object listed.
type GCSAnchors struct {
	Bucket *storage.BucketHandle
}

// anchorSeqBase is above any seq a chain reaches.
const anchorSeqBase = int64(1) << 62

func anchorPrefix(clinicID string) string { return "clinics/" + clinicID + "/anchors/" }

func anchorName(clinicID string, seq int64) string {
	return fmt.Sprintf("%s%019d.json", anchorPrefix(clinicID), anchorSeqBase-seq)
}

// Put writes a only if no object has its name (if-generation-match=0): the writer needs
// no permission to replace or delete objects.
func (g GCSAnchors) Put(ctx context.Context, a Anchor) error {
	body, err := json.Marshal(a)
	if err != nil {
		return err
	}
	obj := g.Bucket.Object(anchorName(a.ClinicID, a.Seq))
	w := obj.If(storage.Conditions{DoesNotExist: true}).NewWriter(ctx)
	w.ContentType = "application/json"
	if _, err := w.Write(body); err != nil {
		w.Close()
		return fmt.Errorf("audit: writing anchor: %w", err)
	}
	err = w.Close()
	var ge *googleapi.Error
	if errors.As(err, &ge) && ge.Code == http.StatusPreconditionFailed {
		stored, rerr := g.read(ctx, obj)
		if rerr != nil {
			return rerr
		}
		if stored.Hash != a.Hash || stored.Seq != a.Seq {
			return fmt.Errorf("%w: clinic %s seq %d", ErrAnchorConflict, a.ClinicID, a.Seq)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("audit: writing anchor: %w", err)
	}
	return nil
}

// Latest lists the clinic's anchors and reads the first (the newest).
func (g GCSAnchors) Latest(ctx context.Context, clinicID string) (Anchor, bool, error) {
	it := g.Bucket.Objects(ctx, &storage.Query{Prefix: anchorPrefix(clinicID)})
	it.PageInfo().MaxSize = 1
	for {
		attrs, err := it.Next()
		if errors.Is(err, iterator.Done) {
			return Anchor{}, false, nil
		}
		if err != nil {
			return Anchor{}, false, fmt.Errorf("audit: listing anchors: %w", err)
		}
		inv, perr := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(attrs.Name, anchorPrefix(clinicID)), ".json"), 10, 64)
		if perr != nil {
			continue // not an anchor
		}
		a, err := g.read(ctx, g.Bucket.Object(attrs.Name))
		if err != nil {
			return Anchor{}, false, err
		}
		if a.ClinicID != clinicID || a.Seq != anchorSeqBase-inv {
			return Anchor{}, false, fmt.Errorf("audit: anchor %s does not match its name", attrs.Name)
		}
		return a, true, nil
	}
}

func (g GCSAnchors) read(ctx context.Context, obj *storage.ObjectHandle) (Anchor, error) {
	r, err := obj.NewReader(ctx)
	if err != nil {
		return Anchor{}, fmt.Errorf("audit: reading anchor: %w", err)
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, 4096))
	if err != nil {
		return Anchor{}, fmt.Errorf("audit: reading anchor: %w", err)
	}
	var a Anchor
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		return Anchor{}, fmt.Errorf("audit: anchor %s: %w", obj.ObjectName(), err)
	}
	return a, nil
}

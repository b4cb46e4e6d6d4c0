package audit_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/storage"
	"github.com/fsouza/fake-gcs-server/fakestorage"
	"google.golang.org/api/option"

	"github.com/medi-os/medi/shared/audit"
)

// anchors is an anchor store on an in-test Cloud Storage server (fake-gcs-server).
func anchors(t *testing.T) audit.GCSAnchors { t.Helper(); return anchorsB(t) }

func anchorsB(t testing.TB) audit.GCSAnchors {
	t.Helper()
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{NoListener: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: "anchors", VersioningEnabled: true})
	gcs, err := storage.NewClient(context.Background(), option.WithHTTPClient(srv.HTTPClient()),
		option.WithEndpoint("https://storage.googleapis.com/storage/v1/"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gcs.Close() })
	return audit.GCSAnchors{Bucket: gcs.Bucket("anchors")}
}

// rebuild does what a holder of a function's Firestore credentials could: edit record
// seq `edit` and recompute every later hash and the head, so that the chain is
// consistent again.
func rebuild(t *testing.T, fs *firestore.Client, clinic string, edit int64) {
	t.Helper()
	ctx := context.Background()
	records := fs.Collection("clinics").Doc(clinic).Collection(audit.Collection)
	docs, err := records.Where("seq", ">", 0).OrderBy("seq", firestore.Asc).Documents(ctx).GetAll()
	if err != nil {
		t.Fatal(err)
	}
	prev := ""
	var last audit.Record
	for _, d := range docs {
		var r audit.Record
		if err := d.DataTo(&r); err != nil {
			t.Fatal(err)
		}
		r.ID = d.Ref.ID
		if r.Seq >= edit {
			if r.Seq == edit {
				r.ActorUID = "someone-else"
			}
			r.PrevHash = prev
			r.Hash = audit.ComputeHash(r)
			if _, err := d.Ref.Update(ctx, []firestore.Update{{Path: "actorUid", Value: r.ActorUID},
				{Path: "prevHash", Value: r.PrevHash}, {Path: "hash", Value: r.Hash}}); err != nil {
				t.Fatal(err)
			}
		}
		prev, last = r.Hash, r
	}
	if _, err := fs.Collection("clinics").Doc(clinic).Collection(audit.ChainCollection).Doc("head").
		Set(ctx, audit.Head{Seq: last.Seq, Hash: last.Hash, UpdatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
}

func TestAnchorsDetectARebuiltChain(t *testing.T) {
	t.Parallel()
	fs := client(t)
	ctx := context.Background()
	const clinic = "c1"
	store := anchors(t)
	chain := audit.NewChain(fs).WithAnchors(store)

	writeRecords(t, fs, clinic, 5)
	if _, err := chain.Seal(ctx, clinic); err != nil {
		t.Fatal(err)
	}
	v, anchored, err := chain.Checkpoint(ctx, clinic, 0)
	if err != nil || !anchored || !v.Valid || v.VerifiedSeq != 5 {
		t.Fatalf("first checkpoint: %+v anchored=%v %v", v, anchored, err)
	}
	a, ok, err := store.Latest(ctx, clinic)
	if err != nil || !ok || a.Seq != 5 || a.ClinicID != clinic || a.Hash == "" {
		t.Fatalf("latest anchor = %+v %v %v", a, ok, err)
	}
	if _, again, err := chain.Checkpoint(ctx, clinic, 0); err != nil || again {
		t.Errorf("idle checkpoint anchored=%v %v, want nothing new", again, err)
	}

	// Verification starts from the checkpoint: the anchored record and the tail.
	writeRecords(t, fs, clinic, 2)
	if _, err := chain.Seal(ctx, clinic); err != nil {
		t.Fatal(err)
	}
	v, err = chain.Verify(ctx, clinic)
	if err != nil || !v.Valid || !v.Complete || v.Checkpoint == nil || v.Checkpoint.Seq != 5 || v.Checked != 3 || v.HeadSeq != 7 {
		t.Fatalf("verify from the checkpoint: %+v %v", v, err)
	}
	if _, anchored, err := chain.Checkpoint(ctx, clinic, 0); err != nil || !anchored {
		t.Fatalf("second checkpoint: anchored=%v %v", anchored, err)
	}

	// A chain rebuilt after an edit is consistent in Firestore alone, but no longer
	// reaches the anchored hash.
	rebuild(t, fs, clinic, 2)
	if v, err := audit.NewChain(fs).Verify(ctx, clinic); err != nil || !v.Valid {
		t.Fatalf("the rebuilt chain is consistent without anchors (%+v %v): the test does not rebuild it", v, err)
	}
	v, err = chain.Verify(ctx, clinic)
	if err != nil || v.Valid || v.FirstBreak == nil || v.FirstBreak.Kind != audit.BreakAnchorMismatch || v.FirstBreak.Seq != 7 {
		t.Errorf("verify a rebuilt chain: %+v %v; want anchor_mismatch at 7", v, err)
	}
	// The seal job does not anchor a broken chain, and the store refuses another hash at
	// an anchored position.
	if v, anchored, err := chain.Checkpoint(ctx, clinic, 0); err != nil || anchored || v.Valid {
		t.Errorf("checkpoint of a broken chain: %+v anchored=%v %v", v, anchored, err)
	}
	if err := store.Put(ctx, audit.Anchor{ClinicID: clinic, Seq: 7, Hash: "rebuilt", At: time.Now()}); !errors.Is(err, audit.ErrAnchorConflict) {
		t.Errorf("overwriting an anchor: %v, want ErrAnchorConflict", err)
	}
	latest, _, _ := store.Latest(ctx, clinic)
	if err := store.Put(ctx, latest); err != nil {
		t.Errorf("re-putting the same anchor: %v", err)
	}
}

func TestAnchorsDetectAChainCutBack(t *testing.T) {
	t.Parallel()
	fs := client(t)
	ctx := context.Background()
	const clinic = "c1"
	chain := audit.NewChain(fs).WithAnchors(anchors(t))
	writeRecords(t, fs, clinic, 4)
	if _, err := chain.Seal(ctx, clinic); err != nil {
		t.Fatal(err)
	}
	if _, anchored, err := chain.Checkpoint(ctx, clinic, 0); err != nil || !anchored {
		t.Fatalf("checkpoint: %v %v", anchored, err)
	}
	// The last two records removed and the head moved back to the second.
	ids := chainIDs(t, fs, clinic)
	records := fs.Collection("clinics").Doc(clinic).Collection(audit.Collection)
	var second audit.Record
	snap, err := records.Doc(ids[1]).Get(ctx)
	if err != nil || snap.DataTo(&second) != nil {
		t.Fatal(err)
	}
	for _, id := range ids[2:] {
		if _, err := records.Doc(id).Delete(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := fs.Collection("clinics").Doc(clinic).Collection(audit.ChainCollection).Doc("head").
		Set(ctx, audit.Head{Seq: 2, Hash: second.Hash, UpdatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	v, err := chain.Verify(ctx, clinic)
	if err != nil || v.Valid || v.FirstBreak == nil || v.FirstBreak.Kind != audit.BreakAnchorMismatch {
		t.Errorf("verify a cut-back chain: %+v %v; want anchor_mismatch", v, err)
	}
}

func TestVerifyIsBoundedAndCheckpointsAdvanceInSteps(t *testing.T) {
	t.Parallel()
	fs := client(t)
	ctx := context.Background()
	const clinic = "c1"
	chain := audit.NewChain(fs).WithAnchors(anchors(t))
	writeRecords(t, fs, clinic, 7)
	if _, err := chain.Seal(ctx, clinic); err != nil {
		t.Fatal(err)
	}
	for i, want := range []int64{3, 6, 7} {
		v, anchored, err := chain.Checkpoint(ctx, clinic, 3)
		if err != nil || !anchored || v.VerifiedSeq != want || v.Complete != (want == 7) {
			t.Fatalf("checkpoint %d: %+v anchored=%v %v; want verified to %d", i, v, anchored, err, want)
		}
	}
}

func TestSealAllAdvancesCheckpoints(t *testing.T) {
	t.Parallel()
	fs := client(t)
	ctx := context.Background()
	clinic := "sweep-" + audit.NewID(time.Now())
	store := anchors(t)
	chain := audit.NewChain(fs).WithAnchors(store)
	writeRecords(t, fs, clinic, 3)
	rep, err := chain.SealAll(ctx, audit.SweepOptions{})
	if err != nil || rep.Anchored < 1 || rep.Broken != 0 {
		t.Fatalf("SealAll = %+v, %v; want the clinic anchored", rep, err)
	}
	if a, ok, err := store.Latest(ctx, clinic); err != nil || !ok || a.Seq != 3 {
		t.Errorf("latest anchor after the sweep = %+v %v %v, want seq 3", a, ok, err)
	}
	rebuild(t, fs, clinic, 1)
	if rep, err := chain.SealAll(ctx, audit.SweepOptions{}); err != nil || rep.Broken < 1 {
		t.Errorf("SealAll over a rebuilt chain = %+v, %v; want it reported broken", rep, err)
	}
}

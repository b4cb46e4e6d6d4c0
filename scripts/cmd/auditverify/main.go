// Command auditverify measures the verification of one clinic's audit chain with many
// records (the figure of docs/performance.md, "Audit verification"). Against the
// Firestore emulator only (it refuses to run without FIRESTORE_EMULATOR_HOST):
//
//	FIRESTORE_EMULATOR_HOST=127.0.0.1:8086 go run ./scripts/cmd/auditverify -records 1000000 -tail 5000
//
// It seeds -records sealed records of one clinic directly (a valid hash chain, written
// with a BulkWriter, and its head), anchors the record -tail records before the head in
// an anchor store on an in-process fake Cloud Storage (as audit-seal's checkpoints
// would), then times audit.Chain.Verify, the call GET /v1/audit/verify makes after
// sealing pending records: the anchored record's hash, the tail after it and the head.
// It also times a verification without anchors (from the first record, stopped at the
// bound of audit.DefaultVerifyTail records), and one Checkpoint step (how audit-seal
// advances the anchor). Nothing is asserted: it prints the figures.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/fsouza/fake-gcs-server/fakestorage"

	"github.com/medi-os/medi/shared/audit"
)

func main() {
	records := flag.Int("records", 1000000, "sealed records to seed in the clinic")
	tail := flag.Int("tail", 5000, "records after the anchored checkpoint")
	runs := flag.Int("runs", 3, "timed verifications")
	flag.Parse()
	if err := run(*records, *tail, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "auditverify:", err)
		os.Exit(1)
	}
}

func run(n, tail, runs int) error {
	if os.Getenv("FIRESTORE_EMULATOR_HOST") == "" {
		return fmt.Errorf("FIRESTORE_EMULATOR_HOST is not set: this command seeds data and runs against the emulator only")
	}
	if n < 2 || tail < 1 || tail >= n {
		return fmt.Errorf("need 1 <= tail < records")
	}
	ctx := context.Background()
	fs, err := firestore.NewClient(ctx, "demo-audit-verify")
	if err != nil {
		return err
	}
	defer fs.Close()
	clinic := "verify-" + time.Now().UTC().Format("20060102t150405")

	start := time.Now()
	anchorAt, err := seed(ctx, fs, clinic, n, int64(n-tail))
	if err != nil {
		return err
	}
	fmt.Printf("seeded %d records in clinic %s in %v\n", n, clinic, time.Since(start).Round(time.Second))

	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{NoListener: true})
	if err != nil {
		return err
	}
	defer srv.Stop()
	srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: "anchors"})
	anchors := audit.GCSAnchors{Bucket: srv.Client().Bucket("anchors")}
	if err := anchors.Put(ctx, anchorAt); err != nil {
		return err
	}
	chain := audit.NewChain(fs).WithAnchors(anchors)
	for i := range runs {
		t := time.Now()
		v, err := chain.Verify(ctx, clinic)
		if err != nil {
			return err
		}
		fmt.Printf("verify from the checkpoint, run %d: %v (valid %v, complete %v, checked %d, checkpoint seq %d, head %d)\n",
			i+1, time.Since(t).Round(time.Millisecond), v.Valid, v.Complete, v.Checked, v.Checkpoint.Seq, v.HeadSeq)
	}
	t := time.Now()
	v, err := audit.NewChain(fs).Verify(ctx, clinic)
	if err != nil {
		return err
	}
	fmt.Printf("verify without anchors (from record 1, bound %d): %v (valid %v, complete %v, checked %d)\n",
		audit.DefaultVerifyTail, time.Since(t).Round(time.Millisecond), v.Valid, v.Complete, v.Checked)
	t = time.Now()
	v, anchored, err := chain.Checkpoint(ctx, clinic, 0)
	if err != nil {
		return err
	}
	fmt.Printf("checkpoint step (verify the tail, anchor the head): %v (anchored %v at seq %d)\n",
		time.Since(t).Round(time.Millisecond), anchored, v.VerifiedSeq)
	return nil
}

// seed writes n sealed records chained from seq 1 and the head, and returns the anchor
// of the record at seq anchorSeq.
func seed(ctx context.Context, fs *firestore.Client, clinic string, n int, anchorSeq int64) (audit.Anchor, error) {
	records := fs.Collection("clinics").Doc(clinic).Collection(audit.Collection)
	bw := fs.BulkWriter(ctx)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	prev := ""
	var anchor audit.Anchor
	var jobs []*firestore.BulkWriterJob
	for i := 1; i <= n; i++ {
		at := t0.Add(time.Duration(i) * time.Millisecond)
		r := audit.Record{ClinicID: clinic, ActorUID: "nurse-1", ActorRole: "nurse", Action: "patient.read",
			ResourceType: "patient", ResourceID: fmt.Sprintf("p%d", i%5000), PatientID: fmt.Sprintf("p%d", i%5000),
			Outcome: audit.OutcomeSuccess, RequestID: fmt.Sprintf("%032x", i), Time: at,
			ID: audit.NewID(at), Sealed: true, Seq: int64(i), PrevHash: prev}
		r.Hash = audit.ComputeHash(r)
		prev = r.Hash
		if r.Seq == anchorSeq {
			anchor = audit.Anchor{ClinicID: clinic, Seq: r.Seq, Hash: r.Hash, At: time.Now().UTC()}
		}
		j, err := bw.Create(records.Doc(r.ID), r)
		if err != nil {
			return anchor, err
		}
		jobs = append(jobs, j)
		if len(jobs) == 10000 {
			bw.Flush()
			if err := results(jobs); err != nil {
				return anchor, err
			}
			jobs = jobs[:0]
			if i%100000 == 0 {
				fmt.Printf("  %d records\n", i)
			}
		}
	}
	bw.End()
	if err := results(jobs); err != nil {
		return anchor, err
	}
	_, err := fs.Collection("clinics").Doc(clinic).Collection(audit.ChainCollection).Doc("head").
		Set(ctx, audit.Head{Seq: int64(n), Hash: prev, UpdatedAt: time.Now().UTC()})
	return anchor, err
}

func results(jobs []*firestore.BulkWriterJob) error {
	for _, j := range jobs {
		if _, err := j.Results(); err != nil {
			return err
		}
	}
	return nil
}

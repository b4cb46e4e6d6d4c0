package audit_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/shared/audit"
)

// writeRecords writes n records for clinic, each in its own transaction as callers do.
func writeRecords(t *testing.T, fs *firestore.Client, clinic string, n int) {
	t.Helper()
	ctx := principalCtx()
	for i := 0; i < n; i++ {
		rec := audit.New(ctx, clinic, "patient.read", "patient", fmt.Sprintf("p%d", i)).ForPatient(fmt.Sprintf("p%d", i))
		if err := rec.Write(ctx, fs); err != nil {
			t.Fatal(err)
		}
	}
}

func chainIDs(t *testing.T, fs *firestore.Client, clinic string) []string {
	t.Helper()
	docs, err := fs.Collection("clinics").Doc(clinic).Collection(audit.Collection).OrderBy("seq", firestore.Asc).
		Documents(context.Background()).GetAll()
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(docs))
	for i, d := range docs {
		ids[i] = d.Ref.ID
	}
	return ids
}

func TestChainVerifiesAndDetectsTampering(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, fs *firestore.Client, clinic string, ids []string)
		want   *audit.ChainBreak
	}{
		{"untouched", nil, nil},
		{"edited record", func(t *testing.T, fs *firestore.Client, clinic string, ids []string) {
			_, err := fs.Collection("clinics").Doc(clinic).Collection(audit.Collection).Doc(ids[2]).
				Update(context.Background(), []firestore.Update{{Path: "actorUid", Value: "someone-else"}})
			if err != nil {
				t.Fatal(err)
			}
		}, &audit.ChainBreak{Seq: 3, Kind: audit.BreakHashMismatch}},
		{"deleted record", func(t *testing.T, fs *firestore.Client, clinic string, ids []string) {
			if _, err := fs.Collection("clinics").Doc(clinic).Collection(audit.Collection).Doc(ids[1]).Delete(context.Background()); err != nil {
				t.Fatal(err)
			}
		}, &audit.ChainBreak{Seq: 2, Kind: audit.BreakSequenceGap}},
		{"last record deleted", func(t *testing.T, fs *firestore.Client, clinic string, ids []string) {
			if _, err := fs.Collection("clinics").Doc(clinic).Collection(audit.Collection).Doc(ids[len(ids)-1]).Delete(context.Background()); err != nil {
				t.Fatal(err)
			}
		}, &audit.ChainBreak{Seq: 5, Kind: audit.BreakHeadMismatch}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fs := client(t)
			ctx := context.Background()
			const clinic = "c1"
			chain := audit.NewChain(fs)
			writeRecords(t, fs, clinic, 3)
			if n, err := chain.Seal(ctx, clinic); err != nil || n != 3 {
				t.Fatalf("Seal = %d, %v; want 3", n, err)
			}
			writeRecords(t, fs, clinic, 2) // a second batch appends to the same chain
			if n, err := chain.Seal(ctx, clinic); err != nil || n != 2 {
				t.Fatalf("second Seal = %d, %v; want 2", n, err)
			}
			if n, err := chain.Seal(ctx, clinic); err != nil || n != 0 {
				t.Fatalf("idle Seal = %d, %v; want 0", n, err)
			}
			ids := chainIDs(t, fs, clinic)
			if len(ids) != 5 {
				t.Fatalf("chained %d records, want 5", len(ids))
			}
			if tc.tamper != nil {
				tc.tamper(t, fs, clinic, ids)
			}
			v, err := chain.Verify(ctx, clinic)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.want == nil, tc.want.Kind == audit.BreakHeadMismatch:
			case tc.want.Kind == audit.BreakSequenceGap:
				tc.want.RecordID = ids[tc.want.Seq] // the record found where seq was expected
			default:
				tc.want.RecordID = ids[tc.want.Seq-1]
			}
			if diff := cmp.Diff(tc.want, v.FirstBreak); diff != "" {
				t.Errorf("first break (-want +got):\n%s", diff)
			}
			if got, want := v.Valid, tc.want == nil; got != want {
				t.Errorf("valid = %v, want %v", got, want)
			}
			if v.HeadSeq != 5 {
				t.Errorf("head seq = %d, want 5", v.HeadSeq)
			}
		})
	}
}

func TestListFiltersAndPages(t *testing.T) {
	t.Parallel()
	fs := client(t)
	ctx := principalCtx()
	for i := 0; i < 5; i++ {
		if err := audit.New(ctx, "c1", "patient.read", "patient", "p1").ForPatient("p1").Write(ctx, fs); err != nil {
			t.Fatal(err)
		}
	}
	if err := audit.New(ctx, "c1", "staff.update", "staff", "u1").Write(ctx, fs); err != nil {
		t.Fatal(err)
	}
	if err := audit.New(ctx, "c2", "patient.read", "patient", "p1").ForPatient("p1").Write(ctx, fs); err != nil {
		t.Fatal(err)
	}
	var got []string
	token := ""
	for pages := 0; ; pages++ {
		page, err := audit.List(ctx, fs, audit.Filter{ClinicID: "c1", PatientID: "p1", PageSize: 2, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Records {
			if r.ClinicID != "c1" || r.PatientID != "p1" || r.ID == "" {
				t.Errorf("record %+v does not match the filter", r)
			}
			got = append(got, r.ID)
		}
		if token = page.NextPageToken; token == "" {
			break
		}
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
	}
	if len(got) != 5 {
		t.Fatalf("listed %d records of patient p1 in c1, want 5", len(got))
	}
	for i := 1; i < len(got); i++ {
		if got[i-1] <= got[i] {
			t.Errorf("not newest first: %v", got)
		}
	}
	page, err := audit.List(ctx, fs, audit.Filter{ClinicID: "c1", Action: "staff.update"})
	if err != nil || len(page.Records) != 1 {
		t.Errorf("action filter: %d records, %v", len(page.Records), err)
	}
	if _, err := audit.List(ctx, fs, audit.Filter{ClinicID: "c1", PageToken: "garbage"}); err == nil {
		t.Error("garbage page token accepted")
	}
}

// TestHashOfRecordsWithoutTraceIsUnchanged: records sealed before they carried a trace id
// keep the hash they were sealed with (the value was computed by the code of that time).
func TestHashOfRecordsWithoutTraceIsUnchanged(t *testing.T) {
	t.Parallel()
	r := audit.Record{ID: "0000000000000001-abcdef", Seq: 7, PrevHash: "00", ClinicID: "c1", ActorUID: "u1", ActorRole: "nurse",
		Action: "patient.read", ResourceType: "patient", ResourceID: "p1", PatientID: "p1", Outcome: "success",
		RequestID: "0123456789abcdef0123456789abcdef", Time: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)}
	if got, want := audit.ComputeHash(r), "24386ed2f9f5edbc4cb2069940a466a64d5302e2cf1a4d523e0f6bc0ff519ca8"; got != want {
		t.Errorf("hash %s, want %s", got, want)
	}
	r.TraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	if audit.ComputeHash(r) == "24386ed2f9f5edbc4cb2069940a466a64d5302e2cf1a4d523e0f6bc0ff519ca8" {
		t.Error("the trace id is not covered by the hash")
	}
}

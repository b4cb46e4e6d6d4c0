package auditseal_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/functions/auditseal"
	"github.com/medi-os/medi/shared/audit"
	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/tasks"
	"github.com/medi-os/medi/shared/testenv"
)

const secret = "sched-s3cret"

// sealer builds the function for project (dev tier, the local stack's shared secret).
func sealer(t *testing.T, project string) http.Handler {
	t.Helper()
	h, err := auditseal.Function.Handler(context.Background(), &auditseal.Config{
		Base:      config.Base{ProjectID: project, Tier: config.Dev, Version: "test"},
		DevSecret: secret, MaxPerClinic: 2000, MaxPerRun: 20000, TimeBudget: time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// run calls the function as the scheduler does and returns the status and the report.
func run(t *testing.T, h http.Handler, hdr string) (int, audit.SweepReport) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/", nil)
	req.Header.Set("Content-Type", "application/json")
	if hdr != "" {
		req.Header.Set(tasks.SecretHeader, hdr)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var env struct{ Data audit.SweepReport }
	if rec.Code == http.StatusOK {
		if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
			t.Fatalf("report: %v: %s", err, rec.Body)
		}
	}
	return rec.Code, env.Data
}

func firestoreClient(t *testing.T, project string) *firestore.Client {
	t.Helper()
	fs, err := firestore.NewClient(context.Background(), project)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fs.Close() })
	return fs
}

func auditRef(fs *firestore.Client, clinic, id string) *firestore.DocumentRef {
	return fs.Collection("clinics").Doc(clinic).Collection(audit.Collection).Doc(id)
}

func TestRunRequiresSchedulerCredentials(t *testing.T) {
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST")
	t.Parallel()
	h := sealer(t, testenv.ProjectID(t))
	for _, tc := range []struct {
		name, secret string
		want         int
	}{{"no secret", "", http.StatusUnauthorized}, {"wrong secret", "guess", http.StatusUnauthorized}, {"scheduler", secret, http.StatusOK}} {
		if got, _ := run(t, h, tc.secret); got != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, got, tc.want)
		}
	}
}

// The scheduled run closes the gap lazy sealing leaves: a record sealed by it and edited
// afterwards is detected by verification although nobody listed the trail in between,
// and a record written after a run is sealed by the next one.
func TestScheduledRunMakesEditsDetectable(t *testing.T) {
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST")
	t.Parallel()
	project := testenv.ProjectID(t)
	fs := firestoreClient(t, project)
	ctx := context.Background()
	h := sealer(t, project)
	const clinic, other = "clinic-a", "clinic-b"
	if _, err := fs.Collection("clinics").Doc(clinic).Set(ctx, map[string]any{"name": "A"}); err != nil {
		t.Fatal(err)
	}
	var ids []string
	write := func(c string) string {
		t.Helper()
		rec := audit.New(ctx, c, "patient.read", "patient", "p-1").ForPatient("p-1")
		rec.ID = audit.NewID(time.Now())
		if _, err := auditRef(fs, c, rec.ID).Create(ctx, rec); err != nil {
			t.Fatal(err)
		}
		return rec.ID
	}
	for i := 0; i < 3; i++ {
		ids = append(ids, write(clinic))
	}
	write(other) // a clinic known only by its audit trail

	status, rep := run(t, h, secret)
	if status != http.StatusOK {
		t.Fatalf("first run: status %d", status)
	}
	if diff := cmp.Diff(audit.SweepReport{Clinics: 2, ClinicsSealed: 2, Sealed: 4}, rep); diff != "" {
		t.Errorf("first run (-want +got):\n%s", diff)
	}

	// Written after the run: unsealed until the next run chains it as record 4.
	late := write(clinic)
	status, rep = run(t, h, secret)
	if status != http.StatusOK || rep.Sealed != 1 || rep.ClinicsSealed != 1 {
		t.Fatalf("second run: status %d, %+v; want the late record sealed", status, rep)
	}
	snap, err := auditRef(fs, clinic, late).Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var r audit.Record
	if err := snap.DataTo(&r); err != nil {
		t.Fatal(err)
	}
	if !r.Sealed || r.Seq != 4 || r.Hash == "" {
		t.Errorf("late record: sealed %v seq %d; want sealed as record 4", r.Sealed, r.Seq)
	}

	// Someone with database access rewrites who read the patient.
	if _, err := auditRef(fs, clinic, ids[1]).Update(ctx, []firestore.Update{{Path: "actorUid", Value: "someone-else"}}); err != nil {
		t.Fatal(err)
	}
	v, err := audit.NewChain(fs).Verify(ctx, clinic)
	if err != nil {
		t.Fatal(err)
	}
	want := &audit.ChainBreak{Seq: 2, RecordID: ids[1], Kind: audit.BreakHashMismatch}
	if diff := cmp.Diff(want, v.FirstBreak); diff != "" || v.Valid {
		t.Errorf("verify after the edit: valid %v, first break (-want +got):\n%s", v.Valid, diff)
	}
	if v, err := audit.NewChain(fs).Verify(ctx, other); err != nil || !v.Valid || v.Checked != 1 {
		t.Errorf("untouched clinic: %+v, %v", v, err)
	}
}

// chainEntry is what identifies a record's place in its chain.
type chainEntry struct {
	Clinic, ID, PrevHash, Hash string
	Seq                        int64
}

func chainOf(t *testing.T, fs *firestore.Client, clinics []string) []chainEntry {
	t.Helper()
	var out []chainEntry
	for _, c := range clinics {
		docs, err := fs.Collection("clinics").Doc(c).Collection(audit.Collection).OrderBy("seq", firestore.Asc).Documents(context.Background()).GetAll()
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range docs {
			var r audit.Record
			if err := d.DataTo(&r); err != nil {
				t.Fatal(err)
			}
			out = append(out, chainEntry{Clinic: c, ID: d.Ref.ID, Seq: r.Seq, PrevHash: r.PrevHash, Hash: r.Hash})
		}
	}
	return out
}

// Cloud Scheduler delivers at least once and runs may overlap: three runs at the same
// time build exactly the chains one run builds, and seal each record exactly once.
func TestOverlappingRunsBuildTheSameChainAsOne(t *testing.T) {
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST")
	t.Parallel()
	ctx := context.Background()
	once, thrice := testenv.ProjectID(t), testenv.ProjectID(t)
	fsOnce, fsThrice := firestoreClient(t, once), firestoreClient(t, thrice)
	// The same records (ids, content, times) in both projects; clinic-a needs two
	// batches of the sealer's transactions.
	counts := map[string]int{"clinic-a": 230, "clinic-b": 17, "clinic-c": 1}
	clinics := []string{"clinic-a", "clinic-b", "clinic-c"}
	base := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	total := 0
	for _, fs := range []*firestore.Client{fsOnce, fsThrice} {
		bw := fs.BulkWriter(ctx)
		for _, c := range clinics {
			for i := 0; i < counts[c]; i++ {
				at := base.Add(time.Duration(i) * time.Second)
				rec := audit.Record{ClinicID: c, ActorUID: "nurse-1", ActorRole: "nurse", Action: "patient.read",
					ResourceType: "patient", ResourceID: fmt.Sprintf("p-%d", i%7), PatientID: fmt.Sprintf("p-%d", i%7),
					Outcome: audit.OutcomeSuccess, RequestID: fmt.Sprintf("req-%d", i), Time: at}
				if _, err := bw.Create(auditRef(fs, c, fmt.Sprintf("%016x-%06d", at.UnixNano(), i)), rec); err != nil {
					t.Fatal(err)
				}
			}
		}
		bw.End()
	}
	for _, n := range counts {
		total += n
	}

	status, rep := run(t, sealer(t, once), secret)
	if status != http.StatusOK || rep.Sealed != total {
		t.Fatalf("single run: status %d, %+v; want %d sealed", status, rep, total)
	}

	h := sealer(t, thrice)
	var wg sync.WaitGroup
	statuses := make([]int, 3)
	reports := make([]audit.SweepReport, 3)
	for i := range statuses {
		wg.Add(1)
		go func() { defer wg.Done(); statuses[i], reports[i] = run(t, h, secret) }()
	}
	wg.Wait()
	sealed := 0
	for i, st := range statuses {
		if st != http.StatusOK {
			t.Errorf("overlapping run %d: status %d", i, st)
		}
		sealed += reports[i].Sealed
	}
	if sealed != total {
		t.Errorf("overlapping runs sealed %d records in all (%+v), want each of the %d exactly once", sealed, reports, total)
	}

	want, got := chainOf(t, fsOnce, clinics), chainOf(t, fsThrice, clinics)
	if len(want) != total {
		t.Fatalf("single run chained %d records, want %d", len(want), total)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("chains of three overlapping runs differ from one run's (-once +thrice):\n%s", diff)
	}
	for _, c := range clinics {
		if v, err := audit.NewChain(fsThrice).Verify(ctx, c); err != nil || !v.Valid || v.Checked != int64(counts[c]) {
			t.Errorf("clinic %s after overlapping runs: %+v, %v", c, v, err)
		}
	}
}

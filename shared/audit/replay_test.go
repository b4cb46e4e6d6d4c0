package audit_test

import (
	"context"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/shared/audit"
	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/logging"
)

// A replay is audited as what the replayed requests disclosed: one ".replay" record per
// distinct success record with a patient that they wrote in the caller's clinic, by the
// replay's caller and request; records without a patient, refusals, other requests' and
// other clinics' records are not repeated.
func TestReplayAuditor(t *testing.T) {
	t.Parallel()
	fs := client(t)
	ctx := context.Background()
	first := func(clinic, requestID string) context.Context {
		c := logging.WithTrace(ctx, logging.Trace{Request: requestID})
		return auth.WithPrincipal(c, auth.Principal{UID: "recep-1", Role: auth.RoleReceptionist, ClinicID: clinic})
	}
	for _, r := range []audit.Record{
		audit.New(first("c1", "r-first"), "c1", "patient.create", "patient", "p1").ForPatient("p1"),
		audit.New(first("c1", "r-first"), "c1", "patient.create", "patient", "p1").ForPatient("p1"), // same disclosure twice
		audit.New(first("c1", "r-first"), "c1", "encounter.checkin", "encounter", "e1").ForPatient("p1"),
		audit.New(first("c1", "r-first"), "c1", "staff.read", "staff", "u1"),                                            // no patient
		audit.New(first("c1", "r-first"), "c1", "patient.read", "patient", "p2").ForPatient("p2").WithOutcome("denied"), // refused
		audit.New(first("c1", "r-other"), "c1", "patient.read", "patient", "p3").ForPatient("p3"),                       // another request
		audit.New(first("c2", "r-first"), "c2", "patient.read", "patient", "p4").ForPatient("p4"),                       // another clinic
		audit.New(first("c1", "r-taken-over"), "c1", "triage.confirm", "triage", "t1").ForPatient("p1"),
	} {
		if err := r.Write(ctx, fs); err != nil {
			t.Fatal(err)
		}
	}
	replayCtx := principalCtx() // nurse-1 of c1, request fedcba...
	if err := audit.ReplayAuditor(fs)(replayCtx, []string{"r-first", "r-taken-over"}); err != nil {
		t.Fatal(err)
	}
	type row struct{ Action, Resource, Patient, Actor, Request string }
	var got []row
	for _, r := range records(t, fs, "c1") {
		if r.RequestID == "fedcba9876543210fedcba9876543210" {
			got = append(got, row{r.Action, r.ResourceType + "/" + r.ResourceID, r.PatientID, r.ActorUID, r.RequestID})
		}
	}
	sort.Slice(got, func(i, j int) bool { return got[i].Action < got[j].Action })
	const req = "fedcba9876543210fedcba9876543210"
	want := []row{
		{"encounter.checkin.replay", "encounter/e1", "p1", "nurse-1", req},
		{"patient.create.replay", "patient/p1", "p1", "nurse-1", req},
		{"triage.confirm.replay", "triage/t1", "p1", "nurse-1", req},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("replay records (-want +got):\n%s", diff)
	}
	if err := audit.ReplayAuditor(fs)(ctx, []string{"r-first"}); err == nil {
		t.Error("a replay without a caller was audited as nobody's")
	}
}

package audit_test

import (
	"context"
	"errors"
	"testing"

	"cloud.google.com/go/firestore"

	"github.com/medi-os/medi/shared/audit"
	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/logging"
	"github.com/medi-os/medi/shared/testenv"
)

func client(t *testing.T) *firestore.Client {
	t.Helper()
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST")
	fs, err := firestore.NewClient(context.Background(), testenv.ProjectID(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fs.Close() })
	return fs
}

func principalCtx() context.Context {
	ctx := logging.WithTrace(context.Background(), logging.Trace{TraceID: "0123456789abcdef0123456789abcdef", Request: "fedcba9876543210fedcba9876543210"})
	return auth.WithPrincipal(ctx, auth.Principal{UID: "nurse-1", Role: auth.RoleNurse, ClinicID: "c1"})
}

func records(t *testing.T, fs *firestore.Client, clinic string) []audit.Record {
	t.Helper()
	docs, err := fs.Collection("clinics").Doc(clinic).Collection(audit.Collection).Documents(context.Background()).GetAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []audit.Record
	for _, d := range docs {
		var r audit.Record
		if err := d.DataTo(&r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

func TestNewTakesActorAndRequestID(t *testing.T) {
	t.Parallel()
	r := audit.New(principalCtx(), "c1", "patient.read", "patient", "p1").ForPatient("p1")
	if r.ActorUID != "nurse-1" || r.ActorRole != "nurse" || r.RequestID != "fedcba9876543210fedcba9876543210" ||
		r.TraceID != "0123456789abcdef0123456789abcdef" ||
		r.Outcome != audit.OutcomeSuccess || r.PatientID != "p1" || r.Time.IsZero() {
		t.Errorf("record = %+v", r)
	}
	sys := audit.New(context.Background(), "c1", "retention.delete", "upload", "u1")
	if sys.ActorUID != "system" || sys.ActorRole != "system" {
		t.Errorf("worker record actor = %q/%q, want system", sys.ActorUID, sys.ActorRole)
	}
}

func TestRecordCommitsWithTheChangeOrNotAtAll(t *testing.T) {
	t.Parallel()
	fs := client(t)
	ctx := principalCtx()
	doc := fs.Collection("clinics").Doc("c1").Collection("patients").Doc("p1")

	err := fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		if err := tx.Create(doc, map[string]any{"version": 1}); err != nil {
			return err
		}
		return audit.New(ctx, "c1", "patient.create", "patient", "p1").ForPatient("p1").InTransaction(fs, tx)
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := records(t, fs, "c1"); len(got) != 1 || got[0].Action != "patient.create" {
		t.Fatalf("after committed change: %+v", got)
	}

	boom := errors.New("validation failed after the audit was staged")
	err = fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		if err := audit.New(ctx, "c1", "patient.update", "patient", "p1").InTransaction(fs, tx); err != nil {
			return err
		}
		if err := tx.Update(doc, []firestore.Update{{Path: "version", Value: 2}}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
	if got := records(t, fs, "c1"); len(got) != 1 {
		t.Errorf("a rolled-back change left %d audit records, want 1", len(got))
	}
}

func TestWriteStandaloneAndValidation(t *testing.T) {
	t.Parallel()
	fs := client(t)
	ctx := principalCtx()
	if err := audit.New(ctx, "c2", "patient.read", "patient", "p9").ForPatient("p9").Write(ctx, fs); err != nil {
		t.Fatal(err)
	}
	if err := audit.New(ctx, "c2", "patient.read", "patient", "p9").WithOutcome(audit.OutcomeDenied).Write(ctx, fs); err != nil {
		t.Fatal(err)
	}
	got := records(t, fs, "c2")
	if len(got) != 2 {
		t.Fatalf("records = %d, want 2 (ids must not collide)", len(got))
	}
	if err := audit.New(ctx, "", "patient.read", "patient", "p9").Write(ctx, fs); err == nil {
		t.Error("record without clinic accepted")
	}
}

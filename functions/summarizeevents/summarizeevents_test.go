package summarizeevents

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/shared/events"
	"github.com/medi-os/medi/shared/summary"
)

type call struct{ clinic, patient string }

type fakeInvalidator struct {
	calls []call
	err   error
}

func (f *fakeInvalidator) Invalidate(_ context.Context, clinicID, patientID string) error {
	f.calls = append(f.calls, call{clinicID, patientID})
	return f.err
}

func envelope(t *testing.T, typ, clinic string, data any) events.Envelope {
	t.Helper()
	env, err := events.NewEnvelope(context.Background(), typ, 1, clinic, data)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func TestApply(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		env       events.Envelope
		err       error
		wantCalls []call
		wantErr   string // "", "retry" or "permanent"
	}{
		{name: "note approved", env: envelope(t, "note.approved", "c1", map[string]any{"noteId": "n1", "patientId": "p1", "version": 2}),
			wantCalls: []call{{"c1", "p1"}}},
		{name: "note drafted is ignored", env: envelope(t, "note.drafted", "c1", map[string]any{"noteId": "n1", "patientId": "p1"})},
		{name: "encounter transitioned", env: envelope(t, "encounter.transitioned", "c1", map[string]any{"encounterId": "e1", "patientId": "p2"}),
			wantCalls: []call{{"c1", "p2"}}},
		{name: "encounter triaged", env: envelope(t, "encounter.triaged", "c1", map[string]any{"encounterId": "e1", "patientId": "p3", "level": 2}),
			wantCalls: []call{{"c1", "p3"}}},
		{name: "no patient", env: envelope(t, "note.approved", "c1", map[string]any{"noteId": "n1"}), wantErr: "permanent"},
		{name: "patient gone", env: envelope(t, "note.approved", "c1", map[string]any{"patientId": "p9"}), err: summary.ErrPatientNotFound,
			wantCalls: []call{{"c1", "p9"}}, wantErr: "permanent"},
		{name: "firestore down", env: envelope(t, "encounter.checked_in", "c1", map[string]any{"patientId": "p1"}), err: errors.New("unavailable"),
			wantCalls: []call{{"c1", "p1"}}, wantErr: "retry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			inv := &fakeInvalidator{err: tt.err}
			err := Apply(context.Background(), inv, tt.env)
			got := ""
			switch {
			case err == nil:
			case events.IsPermanent(err):
				got = "permanent"
			default:
				got = "retry"
			}
			if got != tt.wantErr {
				t.Errorf("Apply error %v (%q), want %q", err, got, tt.wantErr)
			}
			if d := cmp.Diff(inv.calls, tt.wantCalls, cmp.AllowUnexported(call{})); d != "" {
				t.Errorf("invalidations (-got +want):\n%s", d)
			}
		})
	}
}

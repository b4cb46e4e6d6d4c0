package triagerecord

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/commitmark"
	"github.com/medi-os/medi/shared/encounter"
	"github.com/medi-os/medi/shared/logging"
	"github.com/medi-os/medi/shared/triage"
)

func TestSLABreached(t *testing.T) {
	t.Parallel()
	arrived := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		level  triage.Level
		waited time.Duration
		want   bool
	}{
		// triage-rules.md section 4, both sides of every target.
		{1, 0, false},
		{1, time.Second, true},
		{2, 15 * time.Minute, false},
		{2, 15*time.Minute + time.Second, true},
		{3, 30 * time.Minute, false},
		{3, 30*time.Minute + time.Second, true},
		{4, 60 * time.Minute, false},
		{4, 60*time.Minute + time.Second, true},
		{5, 120 * time.Minute, false},
		{5, 120*time.Minute + time.Second, true},
	} {
		c := SLACheck{Level: tc.level, ArrivedAt: arrived, At: arrived.Add(tc.waited)}
		if got := c.Breached(); got != tc.want {
			t.Errorf("level %d waited %s: breached = %v, want %v", tc.level, tc.waited, got, tc.want)
		}
	}
	if (SLACheck{Level: 2, At: arrived}).Breached() {
		t.Error("unknown arrival counted as a breach")
	}
	if (SLACheck{Level: 0, ArrivedAt: arrived, At: arrived.Add(time.Hour)}).Breached() {
		t.Error("invalid level counted as a breach")
	}
}

// capture returns a context whose logger writes JSON lines to the returned buffer.
func capture() (context.Context, *bytes.Buffer) {
	var buf bytes.Buffer
	return logging.WithLogger(context.Background(), logging.New(&buf, slog.LevelInfo)), &buf
}

func slaLines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if m["message"] == SLABreachMessage {
			out = append(out, m)
		}
	}
	return out
}

func TestLogSLA(t *testing.T) {
	t.Parallel()
	ctx, buf := capture()
	arrived := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	if LogSLA(ctx, SLACheck{ClinicID: "c1", EncounterID: "e1", Level: 2, ArrivedAt: arrived, At: arrived.Add(10 * time.Minute), Stage: SLAStageAssessment}) {
		t.Error("10 minutes at level 2 logged as a breach")
	}
	if !LogSLA(ctx, SLACheck{ClinicID: "c1", EncounterID: "e1", Level: 2, ArrivedAt: arrived, At: arrived.Add(22*time.Minute + 30*time.Second), Stage: SLAStageConsultation}) {
		t.Error("22 minutes at level 2 not logged as a breach")
	}
	lines := slaLines(t, buf)
	if len(lines) != 1 {
		t.Fatalf("%d breach lines, want 1: %s", len(lines), buf)
	}
	want := map[string]any{
		"message": SLABreachMessage, "severity": "WARNING", "slaBreach": true, "esiLevel": float64(2),
		"targetMinutes": float64(15), "waitedMinutes": float64(22), "stage": "consultation",
		"clinicId": "c1", "encounterId": "e1",
	}
	got := lines[0]
	delete(got, "time")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("breach line (-want +got):\n%s", diff)
	}
}

func TestRecordLogsSLABreach(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	late := f.seedEncounter(t, encounter.StatusWaiting, 45*time.Minute, nil)        // level 3 target 30 min
	onTime := f.seedEncounter(t, encounter.StatusWaiting, 5*time.Minute, nil)       // within 30 min
	lateConfirm := f.seedEncounter(t, encounter.StatusWaiting, 20*time.Minute, nil) // 3 on time, 2 late
	ctx, buf := capture()
	ctx = auth.WithPrincipal(ctx, f.nurse)
	for _, id := range []string{late, onTime, lateConfirm} {
		if _, err := f.svc.Record(ctx, f.clinic, id, adultInput(), commitmark.Marker{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.svc.Confirm(ctx, ConfirmRequest{ClinicID: f.clinic, EncounterID: lateConfirm, Level: 2}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range slaLines(t, buf) {
		got = append(got, l["encounterId"].(string)+"/"+l["stage"].(string))
		if strings.Contains(buf.String(), "twisted ankle") {
			t.Error("patient data (the complaint) in the log")
		}
	}
	want := []string{late + "/assessment", lateConfirm + "/confirmation"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("breaches (-want +got):\n%s", diff)
	}
}

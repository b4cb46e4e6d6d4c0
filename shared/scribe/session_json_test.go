package scribe

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// A stage not reached yet is left out of the JSON, never a zero time.
func TestSessionJSONLeavesUnsetTimesOut(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 27, 9, 46, 0, 0, time.UTC)
	b, err := json.Marshal(Session{ID: "s", Status: StatusDrafted, CreatedAt: at, UpdatedAt: at,
		Timings: Timings{UploadedAt: at, DraftedAt: at}})
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	for _, absent := range []string{"0001-01-01", "failedAt", "transcribingAt", "purgedAt"} {
		if strings.Contains(got, absent) {
			t.Errorf("JSON has %q: %s", absent, got)
		}
	}
	if !strings.Contains(got, `"draftedAt":"2026-11-27T09:46:00Z"`) {
		t.Errorf("JSON lost a stage that was reached: %s", got)
	}
}

package scribe

import (
	"testing"
	"time"
)

func TestFormatBound(t *testing.T) {
	for d, want := range map[time.Duration]string{
		2 * time.Hour:    "2 hours",
		time.Hour:        "1 hour",
		90 * time.Minute: "90 minutes",
		30 * time.Minute: "30 minutes",
		45 * time.Second: "45s", // test configurations: never "0 minutes"
	} {
		if got := formatBound(d); got != want {
			t.Errorf("formatBound(%v) = %q, want %q", d, got, want)
		}
	}
}

package main

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	t.Parallel()
	var d []time.Duration
	for i := 1; i <= 20; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	if got := pct(d, 50); got != 10*time.Millisecond {
		t.Errorf("p50 = %v", got)
	}
	if got := pct(d, 95); got != 19*time.Millisecond {
		t.Errorf("p95 = %v", got)
	}
}

// TestMeasure runs the measurement inside scripts/test (MEDI_SCRIBE_BENCH=1); it reports,
// never asserts on timings.
func TestMeasure(t *testing.T) {
	if os.Getenv("MEDI_SCRIBE_BENCH") != "1" {
		t.Skip("set MEDI_SCRIBE_BENCH=1 and run inside scripts/test")
	}
	minutes, _ := strconv.Atoi(os.Getenv("MEDI_SCRIBE_BENCH_MINUTES"))
	res, err := Measure(context.Background(), 20, minutes)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res)
}

package stack

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestRunParallelReportsEachTaskAndKeepsErrorsInOrder(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	boom := errors.New("boom")
	errs := runParallel(&out, []string{"first", "second"}, []func() error{
		func() error { return nil },
		func() error { return boom },
	})
	if len(errs) != 2 || errs[0] != nil || !errors.Is(errs[1], boom) {
		t.Fatalf("errs = %v, want [nil boom]", errs)
	}
	for _, want := range []string{"] first ready in ", "] second failed in "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestClockCountsFromTheCommandStart(t *testing.T) {
	t.Setenv("MEDI_STARTED", strconv.FormatInt(time.Now().Unix()-125, 10))
	if got := Clock(); !strings.HasPrefix(got, "2:0") {
		t.Errorf("Clock() = %q, want 2:05 (MEDI_STARTED 125 s ago)", got)
	}
	t.Setenv("MEDI_STARTED", "")
	if got := Clock(); !strings.HasPrefix(got, "0:") {
		t.Errorf("Clock() = %q without MEDI_STARTED, want the time since this process started", got)
	}
}

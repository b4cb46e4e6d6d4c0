package main

import (
	"bytes"
	"testing"
)

// Lines arrive in pieces; the filter shortens coverage lines, drops the partial-run
// warnings and leaves every other line as it is.
func TestCoverageLineFilter(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	f := newCoverageLineFilter(&out)
	in := "ok  \tgithub.com/medi-os/medi/shared/routes\t0.006s\tcoverage: 97.2% of statements in github.com/a, github.com/b\n" +
		"warning: no packages being tested depend on matches for pattern github.com/medi-os/medi/shared/mail\n" +
		"--- FAIL: TestX (0.00s)\n" +
		"unfinished"
	for i := 0; i < len(in); i += 7 {
		end := min(i+7, len(in))
		if _, err := f.Write([]byte(in[i:end])); err != nil {
			t.Fatal(err)
		}
	}
	f.Flush()
	want := "ok  \tgithub.com/medi-os/medi/shared/routes\t0.006s\tcoverage: 97.2% of statements in the measured packages\n" +
		"--- FAIL: TestX (0.00s)\n" +
		"unfinished\n"
	if got := out.String(); got != want {
		t.Errorf("filtered:\n%q\nwant\n%q", got, want)
	}
}

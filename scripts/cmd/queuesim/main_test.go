package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestSimulationIsDeterministicAndPrintsATable(t *testing.T) {
	t.Parallel()
	args := []string{"-seed", "7", "-days", "1", "-runs", "30", "-doctors", "3,shifts", "-by-level"}
	var first, second, errs bytes.Buffer
	if code := run(args, &first, &errs); code != 0 {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	if code := run(args, &second, &errs); code != 0 {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	if first.String() != second.String() {
		t.Errorf("same seed, different output:\n%s\n---\n%s", first.String(), second.String())
	}
	out := first.String()
	for _, want := range []string{"MAE P50", "> P90", "\n        3 ", "\n   shifts "} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	var other bytes.Buffer
	otherArgs := append([]string{}, args...)
	otherArgs[1] = "8"
	if run(otherArgs, &other, &errs); strings.SplitN(other.String(), "\n", 2)[1] == strings.SplitN(first.String(), "\n", 2)[1] {
		t.Error("another seed gave the same output")
	}
}

func TestRejectsBadFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"-days", "0"}, {"-load", "0"}, {"-doctors", "many"}, {"-doctors", "0"}, {"-nope"}} {
		var out, errs bytes.Buffer
		if code := run(args, &out, &errs); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

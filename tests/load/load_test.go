package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/shared/testenv"
)

// TestMixedWorkloadReconciles runs the same workload as scripts/load, briefly and at low
// rates, against the stack scripts/test started, so that the tool cannot rot. It asserts
// correctness only (every endpoint answered 2xx at least once, no 5xx, Firestore agrees
// with the answers), never timings.
func TestMixedWorkloadReconciles(t *testing.T) {
	testenv.Require(t, "MEDI_BASE_URL", "FIREBASE_AUTH_EMULATOR_HOST", "FIRESTORE_EMULATOR_HOST", "MEDI_STACK_PROJECT")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var progress strings.Builder
	out, err := run(ctx, envFromOS(), Options{
		Duration: 5 * time.Second,
		Rates:    Rates{epRegister: 1, epCheckIn: 1, epTriage: 1, epTransition: 2, epQueue: 4, epNoteEdit: 1},
		Buffer:   4 * time.Second, NoteFixtures: 1, Floor: true, Progress: &progress,
	})
	if err != nil {
		t.Fatalf("run: %v\n%s", err, progress.String())
	}
	for _, ep := range endpointOrder {
		m := out.API[ep]
		if m == nil {
			t.Errorf("%s: no metrics", ep)
			continue
		}
		ok := 0
		for code, n := range m.StatusCodes {
			if strings.HasPrefix(code, "2") {
				ok += n
			}
		}
		if ok == 0 {
			t.Errorf("%s: no 2xx answer (status codes %v, errors %v)", ep, m.StatusCodes, m.Errors)
		}
		if f := out.Floor[ep]; f == nil || f.Requests == 0 {
			t.Errorf("%s: the floor client made no call", ep)
		}
	}
	if diff := cmp.Diff(map[string]int{}, out.ServerErrors()); diff != "" {
		t.Errorf("5xx or transport errors per endpoint (-want +got):\n%s", diff)
	}
	for _, c := range out.Reconciliation.Checks {
		if !c.OK() {
			t.Errorf("reconciliation: %s: %d 2xx answers, %d in Firestore", c.What, c.API, c.Firestore)
		}
	}
	for _, d := range out.Reconciliation.Details {
		t.Errorf("reconciliation: %s", d)
	}
	if len(out.Reconciliation.Checks) < 10 {
		t.Errorf("only %d reconciliation checks ran", len(out.Reconciliation.Checks))
	}
}

func TestParseStatus(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		in      string
		want    procMemory
		wantErr bool
	}{
		{"both", "Name:\tfnserve\nVmHWM:\t   52000 kB\nVmRSS:\t   48000 kB\nThreads:\t9\n", procMemory{RSS: 48000, HWM: 52000}, false},
		{"missing HWM", "VmRSS:\t 1 kB\n", procMemory{}, true},
		{"other unit", "VmHWM:\t 1 MB\nVmRSS:\t 1 kB\n", procMemory{}, true},
		{"kernel thread", "Name:\tkthreadd\nState:\tS\n", procMemory{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseStatus([]byte(tc.in))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if !tc.wantErr && got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestPoolIsFIFO(t *testing.T) {
	t.Parallel()
	var p pool[string]
	if _, ok := p.take(); ok {
		t.Fatal("take from an empty pool succeeded")
	}
	for _, s := range []string{"a", "b", "c"} {
		p.put(s)
	}
	var got []string
	for {
		s, ok := p.take()
		if !ok {
			break
		}
		got = append(got, s)
	}
	if diff := cmp.Diff([]string{"a", "b", "c"}, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

func TestEditBodyKeepsSentenceIDs(t *testing.T) {
	t.Parallel()
	n := note{ID: "n1", Version: 3, Content: noteContent{
		"subjective": {{ID: "s1", Text: "Cough for three days."}, {ID: "s2", Text: "Fever."}},
		"plan":       {{ID: "p1", Text: "Review in two days."}},
	}}
	got := editBody(n)
	want := map[string]any{"baseVersion": 3, "content": map[string]any{
		"subjective": []map[string]any{{"id": "s1", "text": "History as given (load edit 4)."}, {"id": "s2", "text": "Fever."}},
		"objective":  []map[string]any{},
		"assessment": []map[string]any{},
		"plan":       []map[string]any{{"id": "p1", "text": "Review in two days."}},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("edit body (-want +got):\n%s", diff)
	}
}

func TestPathTemplateHidesIDs(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"/v1/patients":                     "/v1/patients",
		"/v1/triage/abc123":                "/v1/triage/{id}",
		"/v1/encounters/abc/transitions":   "/v1/encounters/{id}/transitions",
		"/v1/scribe/sessions/5f1c-22":      "/v1/scribe/sessions/{id}",
		"/v1/notes/xyz":                    "/v1/notes/{id}",
		"/v1/encounters/abc/transitions/x": "/v1/encounters/{id}/transitions/{id}",
	} {
		if got := pathTemplate(in); got != want {
			t.Errorf("pathTemplate(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRatio(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b time.Duration
		want string
	}{
		{300 * time.Millisecond, 100 * time.Millisecond, "3.0×"},
		{150 * time.Millisecond, 100 * time.Millisecond, "1.5×"},
		{time.Second, 0, "n/a"},
	} {
		if got := ratio(tc.a, tc.b); got != tc.want {
			t.Errorf("ratio(%s, %s) = %q, want %q", tc.a, tc.b, got, tc.want)
		}
	}
}

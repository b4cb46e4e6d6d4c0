package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/shared/testenv"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	ok := config{BaseURL: "http://127.0.0.1:8080", AuthEmulator: "127.0.0.1:9099", Wait: time.Minute}
	tests := []struct {
		name    string
		change  func(*config)
		wantErr string // "" = valid
	}{
		{"defaults", func(*config) {}, ""},
		{"localhost and a trailing slash", func(c *config) { c.BaseURL = "http://localhost:8080/"; c.AuthEmulator = "localhost:9099" }, ""},
		{"IPv6 loopback", func(c *config) { c.BaseURL = "http://[::1]:8080"; c.AuthEmulator = "[::1]:9099" }, ""},
		{"remote gateway", func(c *config) { c.BaseURL = "https://api.example.org" }, "-allow-remote"},
		{"remote gateway allowed", func(c *config) { c.BaseURL = "https://api.example.org"; c.AllowRemote = true }, ""},
		{"remote Auth emulator", func(c *config) { c.AuthEmulator = "10.0.0.8:9099" }, "-auth-emulator 10.0.0.8:9099 is not this machine"},
		{"not a URL", func(c *config) { c.BaseURL = "127.0.0.1:8080" }, "want an http(s) URL"},
		{"URL with a path", func(c *config) { c.BaseURL = "http://127.0.0.1:8080/v1" }, "without a path"},
		{"Auth host without port", func(c *config) { c.AuthEmulator = "127.0.0.1" }, "want host:port"},
		{"no wait", func(c *config) { c.Wait = 0 }, "-wait"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := ok
			tt.change(&c)
			err := c.validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("validate() = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("validate() = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestAgeOn(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		now  string
		want int
	}{
		{"2026-05-16", 41}, {"2026-05-17", 42}, {"2026-12-31", 42}, {"2027-01-01", 42},
	} {
		now, _ := time.Parse(time.DateOnly, tt.now)
		if got := ageOn("1984-05-17", now); got != tt.want {
			t.Errorf("ageOn(1984-05-17, %s) = %d, want %d", tt.now, got, tt.want)
		}
	}
}

// With nothing listening at the base URL the tour says to start the stack.
func TestRunWithoutStack(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	var out bytes.Buffer
	err = run(context.Background(), config{BaseURL: "http://" + addr, AuthEmulator: addr, Wait: time.Second}, &out)
	if err == nil || !strings.Contains(err.Error(), "start the local stack first with scripts/dev") {
		t.Errorf("run() = %v, want the hint to start scripts/dev", err)
	}
	if out.Len() != 0 {
		t.Errorf("printed %q before the stack was found", out.String())
	}
}

// The steps of the tour as printed: who, method, path (ids replaced by {id}) and status.
var wantSteps = []string{
	"receptionist POST Auth emulator accounts:signInWithPassword 200",
	"receptionist POST /v1/patients 201",
	"receptionist POST /v1/encounters 201",
	"nurse POST Auth emulator accounts:signInWithPassword 200",
	"nurse POST /v1/triage/{id} 201",
	"nurse POST /v1/triage/{id}/confirm 200",
	"nurse GET /v1/queue 200",
	"doctor POST Auth emulator accounts:signInWithPassword 200",
	"doctor POST /v1/encounters/{id}/transitions 200",
	"doctor POST /v1/scribe/sessions 201",
	"doctor PUT signed URL on {host} 200",
	"doctor GET /v1/scribe/sessions/{id} 200",
	"doctor GET /v1/notes/{id} 200",
	"doctor POST /v1/notes/{id}/submit 200",
	"doctor POST Auth emulator accounts:signInWithPassword 200",
	"doctor POST /v1/notes/{id}/approve 200",
	"doctor POST /v1/encounters/{id}/transitions 200",
	"doctor GET /v1/summaries/{id} 200",
}

// The key result each step reports, by step number.
var wantResults = map[int]*regexp.Regexp{
	2:  regexp.MustCompile(`^patient \S+ \(Robin Example, synthetic\), MRN TOUR-[0-9a-f]{8}$`),
	3:  regexp.MustCompile(`^encounter \S+, status waiting$`),
	5:  regexp.MustCompile(`^assessment 000001: level [1-5] proposed at point [A-DLMP], [1-9]\d* reasons; status triaged$`),
	6:  regexp.MustCompile(`^level [1-5] confirmed \(unchanged\)$`),
	7:  regexp.MustCompile(`^position [1-9]\d* of [1-9]\d* at level [1-5], wait P50 \d+ min / P90 \d+ min \(board v\d+, after .+\)$`),
	9:  regexp.MustCompile(`^status in_consultation \(encounter version \d+\)$`),
	10: regexp.MustCompile(`^session \S+, status awaiting_upload; signed upload URL valid until \d\d:\d\d:\d\d$`),
	11: regexp.MustCompile(`^transcript uploaded: \d+ bytes of text/plain$`),
	12: regexp.MustCompile(`^status drafted after .+, note \S+$`),
	13: regexp.MustCompile(`^status draft v1 by \S+: ([1-9]\d*) sentences, ([1-9]\d*) with evidence, [1-9]\d* evidence links$`),
	14: regexp.MustCompile(`^status pending_review v1$`),
	16: regexp.MustCompile(`^status approved v1, signed sha256 [0-9a-f]{12}\.\.\.$`),
	17: regexp.MustCompile(`^status completed \(encounter version \d+\)$`),
	18: regexp.MustCompile(`^fresh by the \S+ engine after .+ \(first answer 20[02]\), [1-9]\d* citations, the approved note among them$`),
}

var stepLine = regexp.MustCompile(`^\s*(\d+)\. (\S+)\s+(\S+)\s+(.+?)\s+(\d{3})  (.*)$`)

// Runs the whole tour against the stack scripts/test started, twice at once: each run
// has its own patient, so runs never get in each other's way.
func TestTourOnLocalStack(t *testing.T) {
	t.Parallel()
	testenv.Require(t, "MEDI_BASE_URL", "FIREBASE_AUTH_EMULATOR_HOST")
	cfg := config{BaseURL: os.Getenv("MEDI_BASE_URL"), AuthEmulator: os.Getenv("FIREBASE_AUTH_EMULATOR_HOST"), Wait: 90 * time.Second}
	mrns := make(chan string, 2)
	t.Run("runs", func(t *testing.T) {
		for _, name := range []string{"first", "second"} {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				var out bytes.Buffer
				start := time.Now()
				if err := run(context.Background(), cfg, &out); err != nil {
					t.Fatalf("run: %v\noutput:\n%s", err, out.String())
				}
				t.Logf("tour took %s:\n%s", time.Since(start).Round(100*time.Millisecond), out.String())
				mrns <- checkTourOutput(t, out.String())
			})
		}
	})
	close(mrns)
	var got []string
	for m := range mrns {
		got = append(got, m)
	}
	if len(got) == 2 && got[0] == got[1] {
		t.Errorf("both runs registered MRN %s, want one MRN per run", got[0])
	}
}

// checkTourOutput checks that every step was printed, in order, with its key result and
// without clinical content, and returns the MRN the run registered.
func checkTourOutput(t *testing.T, out string) (mrn string) {
	t.Helper()
	var steps []string
	results := map[int]string{}
	for _, line := range strings.Split(out, "\n") {
		m := stepLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if n := len(steps) + 1; m[1] != strconv.Itoa(n) {
			t.Errorf("step numbered %s, want %d: %q", m[1], n, line)
		}
		steps = append(steps, strings.Join([]string{m[2], m[3], shape(m[4]), m[5]}, " "))
		results[len(steps)] = m[6]
	}
	if diff := cmp.Diff(wantSteps, steps); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
	for n, re := range wantResults {
		if !re.MatchString(results[n]) {
			t.Errorf("step %d result %q does not match %s", n, results[n], re)
		}
	}
	if m := wantResults[13].FindStringSubmatch(results[13]); m != nil && m[1] != m[2] {
		t.Errorf("draft: %s sentences but only %s with evidence", m[1], m[2])
	}
	if !strings.Contains(out, "Visit complete in ") {
		t.Errorf("no closing line in:\n%s", out)
	}
	// Ids, statuses and counts only: nothing of the consultation, the complaint or the
	// birth date.
	for _, private := range []string{"cough", "fever", "penicillin", "pneumonia", "clarithromycin", "crackles", patientBirthDate} {
		if strings.Contains(strings.ToLower(out), private) {
			t.Errorf("the output shows %q: it must show no clinical content", private)
		}
	}
	if m := regexp.MustCompile(`MRN (TOUR-[0-9a-f]+)`).FindStringSubmatch(out); m != nil {
		mrn = m[1]
	}
	return mrn
}

// shape replaces the ids in a printed path with {id} (and the storage host with {host}).
func shape(path string) string {
	if strings.HasPrefix(path, "signed URL on ") {
		return "signed URL on {host}"
	}
	if !strings.HasPrefix(path, "/") {
		return path
	}
	words := map[string]bool{"v1": true, "patients": true, "encounters": true, "transitions": true, "triage": true, "confirm": true,
		"queue": true, "scribe": true, "sessions": true, "notes": true, "submit": true, "approve": true, "summaries": true}
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if p != "" && !words[p] {
			parts[i] = "{id}"
		}
	}
	return strings.Join(parts, "/")
}

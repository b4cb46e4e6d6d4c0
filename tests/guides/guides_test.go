package guides

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/medi-os/medi/scripts/repo"
	"github.com/medi-os/medi/scripts/stack"
	"github.com/medi-os/medi/shared/testenv"
)

// guideOrder is the order the guides run in, one after another on the same stack: they
// chain (the receptionist checks in the patient the nurse triages and the doctor sees).
// Every guide with a runnable block must be listed.
var guideOrder = []string{"receptionist.md", "nurse.md", "triage.md", "doctor.md", "admin.md"}

// guideTimeout bounds one guide's run: its waits (a draft, a summary) are bounded loops
// in the guide itself; this only stops a run that hangs.
const guideTimeout = 6 * time.Minute

func guidesDir(t *testing.T) string {
	t.Helper()
	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "docs", "user-guides")
}

// readSteps reads every guide's runnable blocks, in guideOrder.
func readSteps(t *testing.T) map[string][]step {
	t.Helper()
	dir := guidesDir(t)
	files, err := filepath.Glob(filepath.Join(dir, "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]step{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(f)
		s, err := steps(string(b))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(s) == 0 {
			continue
		}
		if !slices.Contains(guideOrder, name) {
			t.Errorf("%s has runnable blocks but is not in guideOrder: add it where it chains", name)
		}
		out[name] = s
	}
	return out
}

// The guides' blocks follow the rules (runs without a stack, under -short too): every
// role guide has runnable blocks, every answer block follows a command block and is
// well formed.
func TestGuidesAreRunnable(t *testing.T) {
	all := readSteps(t)
	for _, name := range []string{"receptionist.md", "nurse.md", "doctor.md", "admin.md"} {
		n := 0
		for _, s := range all[name] {
			n += len(s.answers)
		}
		if n == 0 {
			t.Errorf("%s: no runnable block with a shown answer", name)
		}
	}
}

var blockMarker = regexp.MustCompile(`(?m)^@@guide-block (\d+) done@@$`)

// Runs every guide's commands, as written, in order, against a fresh seeded stack, and
// checks the answers they print against the answers the guides show.
func TestGuidesRunAsWritten(t *testing.T) {
	testenv.Require(t) // skips under -short
	for _, tool := range []string{"bash", "curl", "jq", "node"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the guides' commands need %s on PATH (scripts/setup installs jq as root; see docs/setup.md)", tool)
		}
	}
	all := readSteps(t)
	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	s, logDir := startStack(t, root)

	for _, name := range guideOrder {
		ok := t.Run(name, func(t *testing.T) {
			runGuide(t, root, s, logDir, name, all[name])
		})
		if !ok {
			// The guides chain: what follows a failed one cannot run as written.
			t.Fatalf("%s failed: the guides after it were not run", name)
		}
	}
}

// startStack starts a seeded stack of the test's own on free ports, as scripts/dev does
// on its fixed ones: the guides sign in as the demo accounts and end sessions, which
// would disturb other tests sharing scripts/test's stack.
func startStack(t *testing.T, root string) (*stack.Stack, string) {
	t.Helper()
	// stack.Start points this process at its emulators; restore the environment after.
	for _, k := range []string{"FIRESTORE_EMULATOR_HOST", "PUBSUB_EMULATOR_HOST", "FIREBASE_AUTH_EMULATOR_HOST",
		"STORAGE_EMULATOR_HOST", "GOOGLE_CLOUD_PROJECT", "MEDI_STACK_PROJECT"} {
		t.Setenv(k, os.Getenv(k))
	}
	stateDir := t.TempDir()
	started := time.Now()
	s, err := stack.Start(context.Background(), stack.Config{
		Root: root, StateDir: stateDir, ProjectID: "demo-medi-guides", Functions: true, Seed: true,
	})
	if err != nil {
		t.Fatalf("starting the stack: %v", err)
	}
	t.Cleanup(s.Stop)
	t.Logf("stack ready in %s at %s", time.Since(started).Round(100*time.Millisecond), s.BaseURL())
	return s, filepath.Join(stateDir, "logs")
}

// runGuide runs one guide's blocks in one bash, as a user pasting them into a terminal
// opened at the repository root, with API and AUTH set as the guides tell a user whose
// stack is not on the default ports.
func runGuide(t *testing.T, root string, s *stack.Stack, logDir, name string, steps []step) {
	if len(steps) == 0 {
		t.Skipf("%s has no runnable blocks", name)
	}
	var script strings.Builder
	// -e stops at the first failing command, -u at an unset variable (a guide using one it
	// never set), pipefail at a failing command inside a pipe.
	script.WriteString("set -euo pipefail\n")
	for i, st := range steps {
		fmt.Fprintf(&script, "%s\nprintf '\\n@@guide-block %d done@@\\n'\n", st.script, i)
	}
	ctx, cancel := context.WithTimeout(context.Background(), guideTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "--noprofile", "--norc", "-s")
	cmd.Dir = root
	cmd.Stdin = strings.NewReader(script.String())
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TMPDIR=" + t.TempDir(), "LANG=C.UTF-8",
		"API=" + s.BaseURL(), fmt.Sprintf("AUTH=http://127.0.0.1:%d", s.Ports().Auth),
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	started := time.Now()
	runErr := cmd.Run()
	t.Logf("%s ran in %s", name, time.Since(started).Round(100*time.Millisecond))

	// Split the output at the markers: output[i] is what block i printed.
	out := stdout.String()
	var outputs []string
	last := 0
	for _, m := range blockMarker.FindAllStringSubmatchIndex(out, -1) {
		outputs = append(outputs, out[last:m[0]])
		last = m[1]
	}
	if runErr != nil || len(outputs) != len(steps) {
		failed := steps[min(len(outputs), len(steps)-1)]
		dumpLogs(t, logDir)
		t.Fatalf("%s: the block at line %d failed (%v)\nits output:\n%s\nstderr:\n%s", name, failed.line, runErr,
			strings.TrimSpace(out[last:]), tail(stderr.String(), 4000))
	}
	for i, st := range steps {
		real, err := parseAnswers(strings.TrimSpace(outputs[i]))
		if err != nil {
			t.Errorf("%s: the block at line %d printed something that is not answers: %v\n%s", name, st.line, err, outputs[i])
			continue
		}
		if st.answerAt == 0 {
			if len(real) > 0 {
				t.Errorf("%s: the block at line %d printed %d answers, but no ```http block shows them", name, st.line, len(real))
			}
			continue
		}
		if len(real) != len(st.answers) {
			t.Errorf("%s: the block at line %d printed %d answers, the guide shows %d (line %d)\nprinted:\n%s",
				name, st.line, len(real), len(st.answers), st.answerAt, outputs[i])
			continue
		}
		for j, want := range st.answers {
			got := real[j]
			where := fmt.Sprintf("%s: answer %d of the block at line %d (shown at line %d)", name, j+1, st.line, st.answerAt)
			if got.status != want.status {
				t.Errorf("%s: status %d, the guide shows %d\nreal answer: %s", where, got.status, want.status, tail(got.raw, 2000))
				continue
			}
			if want.body == nil {
				continue
			}
			if diffs := mismatches("$", want.body, got.body); len(diffs) > 0 {
				t.Errorf("%s differs from the real one:\n  %s\nreal answer: %s", where, strings.Join(diffs, "\n  "), tail(got.raw, 3000))
			}
		}
	}
	if t.Failed() {
		dumpLogs(t, logDir)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

func dumpLogs(t *testing.T, dir string) {
	// The functions' logs: the emulators' own are long and rarely the cause.
	files, _ := filepath.Glob(filepath.Join(dir, "fn-*.log"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if len(b) == 0 {
			continue
		}
		// Warnings and errors first (the cause is often long before the tail), then the tail.
		var problems []string
		for _, l := range strings.Split(string(b), "\n") {
			if strings.Contains(l, `"severity":"WARNING"`) || strings.Contains(l, `"severity":"ERROR"`) {
				problems = append(problems, tail(l, 600))
			}
		}
		if len(problems) > 30 {
			problems = problems[len(problems)-30:]
		}
		t.Logf("---- %s: %d warnings and errors (the last 30)\n%s\n---- %s (tail)\n%s", filepath.Base(f), len(problems),
			strings.Join(problems, "\n"), filepath.Base(f), tail(string(b), 2000))
	}
}

// Package scripts tests the shell entry points a newcomer meets first (scripts/test,
// scripts/tfcheck, scripts/lib/phase.bash) on a copy of scripts/ with stand-in go and
// terraform programs on PATH: what they say when something is missing, how fast they
// say it, and that nothing they start outlives them.
package scripts

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/medi-os/medi/scripts/repo"
)

// sandbox is a copy of the repository's scripts/ (without the sibling stand-in provider
// folder) and a bin/ of stand-in programs that go first on PATH.
type sandbox struct {
	root, bin, pids string
}

func newSandbox(t *testing.T) *sandbox {
	t.Helper()
	src, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sb := &sandbox{root: filepath.Join(dir, "repo"), bin: filepath.Join(dir, "bin"), pids: filepath.Join(dir, "pids")}
	for _, d := range []string{sb.root, sb.bin, sb.pids} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.Command("cp", "-r", filepath.Join(src, "scripts"), sb.root+"/").CombinedOutput(); err != nil {
		t.Fatalf("copying scripts/: %v\n%s", err, out)
	}
	return sb
}

// tool writes a stand-in program on the sandbox's PATH.
func (sb *sandbox) tool(t *testing.T, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(sb.bin, name), []byte("#!/usr/bin/env bash\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
}

// slowGo is a stand-in go whose `go install` records its pid and runs for five minutes,
// like a first build of tflint; everything else succeeds at once.
func (sb *sandbox) slowGo(t *testing.T) {
	sb.tool(t, "go", `case "$1" in
install) echo $$ > "`+sb.pids+`/$$"; exec sleep 300 ;;
env) echo /nonexistent ;;
esac
exit 0`)
}

func (sb *sandbox) cmd(name string, args []string, env ...string) *exec.Cmd {
	c := exec.Command(filepath.Join(sb.root, name), args...)
	c.Dir = sb.root
	c.Env = append([]string{
		"PATH=" + sb.bin + ":/usr/bin:/bin",
		"HOME=" + filepath.Dir(sb.root),
		"MEDI_CACHE_DIR=" + filepath.Join(filepath.Dir(sb.root), "cache"),
	}, env...)
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return c
}

// run runs a script to its end (at most a minute) and returns its output and exit code.
func (sb *sandbox) run(t *testing.T, name string, args []string, env ...string) (string, int) {
	t.Helper()
	c := sb.cmd(name, args, env...)
	timer := time.AfterFunc(time.Minute, func() { _ = syscall.Kill(-c.Process.Pid, syscall.SIGKILL) })
	defer timer.Stop()
	out, err := c.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return string(out), exit.ExitCode()
	case err != nil:
		t.Fatalf("%s: %v", name, err)
	}
	return string(out), 0
}

// started lists the pids the stand-in go recorded.
func (sb *sandbox) started(t *testing.T) []int {
	t.Helper()
	entries, err := os.ReadDir(sb.pids)
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// requireStopped fails when a recorded process is still alive a few seconds on.
func requireStopped(t *testing.T, pids []int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for _, pid := range pids {
		for syscall.Kill(pid, 0) == nil {
			if time.Now().After(deadline) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
				t.Errorf("process %d that tfcheck started outlived it", pid)
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

func needBash(t *testing.T) {
	for _, tool := range []string{"bash", "setsid", "awk", "sleep"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
}

const terraformVersion = `[ "$1" = version ] && { echo "Terraform v1.11.4"; exit 0; }`

func TestTFCheckSaysWhatIsMissingAndTheWayAround(t *testing.T) {
	t.Parallel()
	needBash(t)
	for _, tc := range []struct {
		name      string
		terraform bool
		env       []string
		want      []string
	}{
		{"no terraform", false, nil, []string{"terraform is not on PATH", "MEDI_SKIP_TFCHECK=1"}},
		{"no provider", true, nil, []string{
			"no hashicorp/google provider", "TF_PLUGIN_DIR", "shared/tools/tf-google-schema-provider", "MEDI_SKIP_TFCHECK=1",
		}},
		{"a mirror that is not there", true, []string{"TF_PLUGIN_DIR=/nonexistent/mirror"}, []string{
			"TF_PLUGIN_DIR=/nonexistent/mirror is not a directory", "MEDI_SKIP_TFCHECK=1",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sb := newSandbox(t)
			sb.slowGo(t)
			sb.tool(t, "curl", "exit 6") // the registry is unreachable
			if tc.terraform {
				sb.tool(t, "terraform", terraformVersion)
			}
			out, code := sb.run(t, "scripts/tfcheck", nil, tc.env...)
			if code == 0 {
				t.Fatalf("tfcheck passed without what it needs:\n%s", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output does not say %q:\n%s", w, out)
				}
			}
			if pids := sb.started(t); len(pids) > 0 {
				t.Errorf("tfcheck started %d builds before finding that it cannot run", len(pids))
				requireStopped(t, pids)
			}
		})
	}
}

// scripts/test checks the Terraform prerequisites before anything long: without
// terraform it stops before installing or compiling anything.
func TestTestCommandStopsFirstWhenTerraformIsMissing(t *testing.T) {
	t.Parallel()
	needBash(t)
	sb := newSandbox(t)
	calls := filepath.Join(sb.pids, "calls")
	for _, name := range []string{"go", "npm", "java", "node", "gcloud"} {
		sb.tool(t, name, `echo "`+name+` $*" >> "`+calls+`"`)
	}
	out, code := sb.run(t, "scripts/test", nil)
	if code == 0 || !strings.Contains(out, "terraform is not on PATH") || !strings.Contains(out, "MEDI_SKIP_TFCHECK=1") {
		t.Fatalf("exit %d, want a failure naming terraform and MEDI_SKIP_TFCHECK=1:\n%s", code, out)
	}
	if b, err := os.ReadFile(calls); err == nil {
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if !strings.HasPrefix(line, "go version") && !strings.HasPrefix(line, "go env") {
				t.Errorf("scripts/test ran %q before the prerequisites check stopped it", line)
			}
		}
	}
}

// The linter builds tfcheck starts in the background stop with it: when a later check
// fails, and when tfcheck itself is stopped.
func TestTFCheckStopsItsBuildsOnEveryExit(t *testing.T) {
	t.Parallel()
	needBash(t)
	mirror := t.TempDir()
	t.Run("a check fails", func(t *testing.T) {
		t.Parallel()
		sb := newSandbox(t)
		sb.slowGo(t)
		// fmt fails once both builds are under way (at most 30 s on).
		sb.tool(t, "terraform", terraformVersion+`
if [ "$1" = fmt ]; then
  for i in $(seq 300); do [ "$(ls '`+sb.pids+`' | wc -l)" -ge 2 ] && break; sleep 0.1; done
  echo main.tf; exit 3
fi
exit 0`)
		if err := os.MkdirAll(filepath.Join(sb.root, "terraform"), 0o755); err != nil {
			t.Fatal(err)
		}
		out, code := sb.run(t, "scripts/tfcheck", nil, "TF_PLUGIN_DIR="+mirror)
		if code == 0 || !strings.Contains(out, "terraform fmt") {
			t.Fatalf("exit %d, want the fmt check to fail:\n%s", code, out)
		}
		pids := sb.started(t)
		if len(pids) != 2 {
			t.Fatalf("%d builds recorded, want tflint and tfsec:\n%s", len(pids), out)
		}
		requireStopped(t, pids)
	})
	t.Run("tfcheck is stopped", func(t *testing.T) {
		t.Parallel()
		sb := newSandbox(t)
		sb.slowGo(t)
		sb.tool(t, "terraform", terraformVersion)
		c := sb.cmd("scripts/tfcheck", []string{"--tools"}, "TF_PLUGIN_DIR="+mirror)
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(30 * time.Second)
		for len(sb.started(t)) < 2 && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		pids := sb.started(t)
		// SIGTERM to tfcheck alone (not its group), as a parent stopping it would.
		if err := c.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		_ = c.Wait()
		if len(pids) != 2 {
			t.Fatalf("%d builds recorded before the stop, want 2", len(pids))
		}
		requireStopped(t, pids)
	})
}

// Every phase line carries the time since the command started, and a phase that runs
// longer than the progress interval reports progress while it runs.
func TestPhasesPrintElapsedTimeAndProgress(t *testing.T) {
	t.Parallel()
	needBash(t)
	sb := newSandbox(t)
	script := `. scripts/lib/phase.bash
count() { echo "step $(ls "$1" | wc -l)"; }
phase "slow part" --progress "count ` + sb.pids + `" -- bash -c 'for i in 1 2 3; do touch ` + sb.pids + `/$i; sleep 1; done'
phase "failing part" -- false || echo "exit kept: $?"`
	c := exec.Command("bash", "-c", script)
	c.Dir, c.Env = sb.root, []string{"PATH=/usr/bin:/bin", "MEDI_PROGRESS_EVERY=1"}
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !regexp.MustCompile(`(?m)^== \[\d+:\d\d\] slow part$`).Match(out) {
		t.Errorf("no phase line with the elapsed time:\n%s", out)
	}
	for _, want := range []string{"] slow part: step ", "] slow part: done in ", "] failing part: failed after ", "exit kept: 1"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

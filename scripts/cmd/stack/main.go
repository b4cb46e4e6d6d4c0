// Command stack runs the Medi OS local stack.
//
//	stack dev            start everything on the fixed dev ports, seed, wait for Ctrl-C
//	stack test [args]    start everything on free ports, run `go test ./...` against it
//	                     (extra args go to go test), stop everything, exit with its status
//
// scripts/dev and scripts/test call it after installing the pinned npm packages.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/medi-os/medi/scripts/devports"
	"github.com/medi-os/medi/scripts/repo"
	"github.com/medi-os/medi/scripts/stack"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: stack dev | stack test [go test args]")
		os.Exit(2)
	}
	var err error
	code := 0
	switch os.Args[1] {
	case "dev":
		err = dev(ctx)
	case "test":
		code, err = test(ctx, os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "stack:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func dev(ctx context.Context) error {
	root, err := repo.Root()
	if err != nil {
		return err
	}
	ports, err := devports.FromEnv(os.Getenv)
	if err != nil {
		return err
	}
	started := time.Now()
	stack.Phasef(os.Stdout, "Medi OS local stack: starting (logs in .stack/dev/logs)")
	s, err := stack.Start(ctx, stack.Config{
		Root: root, StateDir: filepath.Join(root, ".stack", "dev"), ProjectID: "demo-medi",
		Ports: ports, Functions: true, Seed: true, Out: os.Stdout,
	})
	if err != nil {
		return err
	}
	defer s.Stop()
	printWelcome(s, time.Since(started))
	<-ctx.Done()
	fmt.Println("\nstopping the local stack ...")
	return nil
}

func printWelcome(s *stack.Stack, took time.Duration) {
	p := s.Ports()
	fmt.Printf("\nMedi OS is ready in %s\n\n  Open the web app:    %s/   (pick a demo account)\n  API:                 %s/v1/...\n\n", took.Round(100*time.Millisecond), s.BaseURL(), s.BaseURL())
	fmt.Printf("  Firestore emulator   127.0.0.1:%d\n  Pub/Sub emulator     127.0.0.1:%d\n  Auth emulator        127.0.0.1:%d\n  Cloud Storage (fake) http://127.0.0.1:%d\n\n",
		p.Firestore, p.PubSub, p.Auth, p.Storage)
	fmt.Println("Demo accounts (emulator only; demo-north is a second clinic of the organisation, for emergency access):")
	for _, a := range s.Accounts {
		fmt.Printf("  %-11s %-13s %-36s password %s\n", a.ClinicID, a.Role, a.Email, a.Password)
	}
	if len(s.Accounts) > 0 {
		a := s.Accounts[0]
		fmt.Printf("\nTry it (gets an ID token from the Auth emulator, then calls /v1/me):\n\n")
		fmt.Printf("  TOKEN=$(curl -s -H 'Content-Type: application/json' \\\n"+
			"    -d '{\"email\":\"%s\",\"password\":\"%s\",\"returnSecureToken\":true}' \\\n"+
			"    'http://127.0.0.1:%d/identitytoolkit.googleapis.com/v1/accounts:signInWithPassword?key=demo-key' \\\n"+
			"    | jq -r .idToken)\n", a.Email, a.Password, p.Auth)
		fmt.Printf("  curl -s -H \"Authorization: Bearer $TOKEN\" %s/v1/me\n\n", s.BaseURL())
	}
	// The user guides' examples find the stack by API and AUTH (docs/user-guides/README.md).
	fmt.Printf("Run the user guides' examples (docs/user-guides/README.md) in another terminal after:\n\n"+
		"  export API=%s AUTH=http://127.0.0.1:%d\n\n", s.BaseURL(), p.Auth)
	// The tour and the tools in another terminal find this stack by the same variables.
	fmt.Printf("Take the tour of one visit in another terminal:\n\n  %s\n\n",
		strings.Join(append(devports.Set(os.Getenv), "scripts/demo"), " "))
	fmt.Println("Press Ctrl-C to stop everything.")
}

func test(ctx context.Context, args []string) (int, error) {
	root, err := repo.Root()
	if err != nil {
		return 0, err
	}
	started := time.Now()
	stateDir := filepath.Join(root, ".stack", "test-"+strconv.Itoa(os.Getpid()))
	defer os.RemoveAll(stateDir)

	// Coverage (unless MEDI_COVERAGE=0): the tests' own counters and those of the stack's
	// function processes (instrumented binaries), merged at the end.
	var cov *coverage
	if os.Getenv("MEDI_COVERAGE") != "0" {
		if cov, err = newCoverage(ctx, root); err != nil {
			return 0, err
		}
	}

	stack.Phasef(os.Stdout, "starting the local stack for tests (free ports)")
	cfg := stack.Config{
		Root: root, StateDir: stateDir, ProjectID: "demo-medi-test",
		Functions: true, Seed: true, Out: os.Stdout,
	}
	if cov != nil {
		cfg.CoverDir = cov.functions
	}
	s, err := stack.Start(ctx, cfg)
	if err != nil {
		return 0, err
	}
	defer s.Stop()
	stack.Phasef(os.Stdout, "stack ready in %s at %s", time.Since(started).Round(100*time.Millisecond), s.BaseURL())

	goArgs := []string{"test", "-count=1", "-timeout=20m"}
	if os.Getenv("MEDI_VETTED") == "1" {
		// scripts/test has just run go vet ./... over everything: go test skips its own
		// (narrower) vet pass.
		goArgs = append(goArgs, "-vet=off")
	}
	if cov != nil {
		goArgs = append(goArgs, "-coverpkg="+strings.Join(cov.pkgs, ","))
	}
	if len(args) == 0 {
		args = []string{"./..."}
	}
	goArgs = append(goArgs, args...)
	if cov != nil {
		if slices.Contains(args, "-args") {
			goArgs = append(goArgs, "-test.gocoverdir="+cov.tests)
		} else {
			goArgs = append(goArgs, "-args", "-test.gocoverdir="+cov.tests)
		}
	}
	stack.Phasef(os.Stdout, "go %s", strings.Join(shortArgs(goArgs), " "))
	cmd := exec.CommandContext(ctx, "go", goArgs...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), s.Env()...)
	cmd.Env = append(cmd.Env, "MEDI_STACK_LOGS="+filepath.Join(stateDir, "logs"))
	out, errOut := io.Writer(os.Stdout), io.Writer(os.Stderr)
	if cov != nil {
		cmd.Env = append(cmd.Env, stack.EnvCoverDir+"="+cov.functions)
		out, errOut = newCoverageLineFilter(os.Stdout), newCoverageLineFilter(os.Stderr)
	}
	cmd.Stdout, cmd.Stderr = out, errOut
	runErr := cmd.Run()
	for _, w := range []io.Writer{out, errOut} {
		if f, ok := w.(*coverageLineFilter); ok {
			f.Flush()
		}
	}
	code := 0
	var exitErr *exec.ExitError
	switch {
	case errors.As(runErr, &exitErr):
		code = exitErr.ExitCode()
		dumpLogs(filepath.Join(stateDir, "logs"))
	case runErr != nil:
		return 1, runErr
	}
	// The functions write their counters when they exit.
	s.Stop()
	if cov != nil {
		if err := cov.report(ctx, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "stack: coverage:", err)
		}
	}
	stack.Phasef(os.Stdout, "tests finished in %s (exit %d)", time.Since(started).Round(time.Second), code)
	return code, nil
}

// shortArgs abbreviates the long -coverpkg list for printing.
func shortArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.HasPrefix(a, "-coverpkg=") {
			a = fmt.Sprintf("-coverpkg=<%d packages of functions/ and shared/>", strings.Count(a, ",")+1)
		}
		out[i] = a
	}
	return out
}

// dumpLogs prints the tail of each function log, so a CI failure shows what the
// functions said.
func dumpLogs(dir string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "fn-") {
			continue
		}
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		if len(b) > 4000 {
			b = b[len(b)-4000:]
		}
		fmt.Printf("---- %s (tail)\n%s\n", e.Name(), b)
	}
}

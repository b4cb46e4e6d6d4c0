package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"

	"github.com/medi-os/medi/scripts/stack"
)

// module is the repository's module path.
const module = "github.com/medi-os/medi"

// coverage is where a test run collects its coverage counters: dir/tests for the test
// binaries (go test -test.gocoverdir), dir/functions for the stack's function processes
// (GOCOVERDIR), and the merged profile dir/coverage.out.
type coverage struct {
	dir, tests, functions string
	pkgs                  []string
}

// newCoverage empties .stack/coverage and lists the packages to measure.
func newCoverage(ctx context.Context, root string) (*coverage, error) {
	dir := filepath.Join(root, ".stack", "coverage")
	c := &coverage{dir: dir, tests: filepath.Join(dir, "tests"), functions: filepath.Join(dir, "functions")}
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	for _, d := range []string{c.tests, c.functions} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	pkgs, err := stack.CoverPackages(ctx, root)
	if err != nil {
		return nil, err
	}
	c.pkgs = pkgs
	return c, nil
}

// report merges the counters and prints per-package and total statement coverage, with
// the commands that print them again.
func (c *coverage) report(ctx context.Context, w io.Writer) error {
	root := filepath.Dir(filepath.Dir(c.dir))
	profile := filepath.Join(c.dir, "coverage.out")
	report, total, err := stack.CoverageReport(ctx, root, []string{c.tests, c.functions}, c.pkgs, profile)
	if err != nil {
		return err
	}
	stack.WriteCoverageReport(w, report, total, module)
	fmt.Fprintf(w, "   again: go tool covdata percent -i=.stack/coverage/tests,.stack/coverage/functions; profile: .stack/coverage/coverage.out (go tool cover -html=.stack/coverage/coverage.out)\n")
	return nil
}

// coverageLineFilter shortens go test's "coverage: N% of statements in <every measured
// package>" lines, which -coverpkg makes a few kilobytes long, and drops its warnings
// that a measured package is not a dependency of the packages tested (a partial run).
type coverageLineFilter struct {
	w   io.Writer
	buf bytes.Buffer
}

func newCoverageLineFilter(w io.Writer) *coverageLineFilter { return &coverageLineFilter{w: w} }

var statementsIn = regexp.MustCompile(`(coverage: [0-9.]+% of statements) in .*`)

func (f *coverageLineFilter) Write(p []byte) (int, error) {
	f.buf.Write(p)
	for {
		line, err := f.buf.ReadBytes('\n')
		if err != nil {
			// An incomplete line: keep it for the next write.
			rest := append([]byte(nil), line...)
			f.buf.Reset()
			f.buf.Write(rest)
			return len(p), nil
		}
		if bytes.HasPrefix(line, []byte("warning: no packages being tested depend on matches for pattern")) {
			continue
		}
		if _, err := f.w.Write(statementsIn.ReplaceAll(line, []byte("${1} in the measured packages"))); err != nil {
			return 0, err
		}
	}
}

// Flush writes what is left of an unfinished last line.
func (f *coverageLineFilter) Flush() {
	if f.buf.Len() > 0 {
		sc := bufio.NewScanner(&f.buf)
		for sc.Scan() {
			fmt.Fprintln(f.w, sc.Text())
		}
		f.buf.Reset()
	}
}

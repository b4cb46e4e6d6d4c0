package stack

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// EnvCoverDir names the directory where the function processes of any stack started
// without Config.CoverDir write their coverage counters: scripts/test sets it for the
// tests that start a stack of their own (tests/faults), so that their functions count too.
const EnvCoverDir = "MEDI_STACK_COVERDIR"

// CoverPackages lists the import paths whose statement coverage the test command
// measures: the root package and every package of functions/ and shared/, except test
// support (packages whose name ends in "test", and shared/testenv).
func CoverPackages(ctx context.Context, root string) ([]string, error) {
	cmd := exec.CommandContext(ctx, "go", "list", ".", "./functions/...", "./shared/...")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("listing the packages to measure: %v\n%s", err, stderr.String())
	}
	var pkgs []string
	for _, p := range strings.Fields(string(out)) {
		if IsTestSupport(p) {
			continue
		}
		pkgs = append(pkgs, p)
	}
	return pkgs, nil
}

// IsTestSupport reports whether import path pkg is a helper package for tests, not code
// that is deployed.
func IsTestSupport(pkg string) bool {
	name := pkg[strings.LastIndex(pkg, "/")+1:]
	return strings.HasSuffix(name, "test") || name == "testenv"
}

// PackageCoverage is the statement coverage of one package.
type PackageCoverage struct {
	Package string
	// Percent of the package's statements run by some test or function process;
	// NotBuilt when no binary of the run contained the package.
	Percent float64
}

// NotBuilt is the Percent of a package no binary of the run contained (a partial run).
const NotBuilt = -1

// covdataLine matches a line of `go tool covdata percent`.
var covdataLine = regexp.MustCompile(`^\s*(\S+)\s+coverage:\s+([0-9.]+)% of statements`)

// CoverageReport merges the counters in dirs and returns each measured package's
// statement coverage and the total over the statements of the packages the run built. It writes the merged profile, in the text format of
// `go test -coverprofile`, to profile.
func CoverageReport(ctx context.Context, root string, dirs []string, pkgs []string, profile string) ([]PackageCoverage, float64, error) {
	var present []string
	for _, d := range dirs {
		if entries, err := os.ReadDir(d); err == nil && len(entries) > 0 {
			present = append(present, d)
		}
	}
	if len(present) == 0 {
		return nil, 0, fmt.Errorf("no coverage counters in %s", strings.Join(dirs, ", "))
	}
	in := "-i=" + strings.Join(present, ",")
	pkgFlag := "-pkg=" + strings.Join(pkgs, ",")
	run := func(args ...string) ([]byte, error) {
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = root
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		return out, nil
	}
	out, err := run("tool", "covdata", "percent", in, pkgFlag)
	if err != nil {
		return nil, 0, err
	}
	byPkg := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if m := covdataLine.FindStringSubmatch(sc.Text()); m != nil {
			byPkg[m[1]], _ = strconv.ParseFloat(m[2], 64)
		}
	}
	var report []PackageCoverage
	for _, p := range pkgs {
		pct, ok := byPkg[p]
		if !ok {
			pct = NotBuilt
		}
		report = append(report, PackageCoverage{Package: p, Percent: pct})
	}
	slices.SortFunc(report, func(a, b PackageCoverage) int { return strings.Compare(a.Package, b.Package) })

	if _, err := run("tool", "covdata", "textfmt", in, pkgFlag, "-o", profile); err != nil {
		return nil, 0, err
	}
	total, err := profileTotal(profile)
	if err != nil {
		return nil, 0, err
	}
	return report, total, nil
}

// profileTotal is the share of statements covered in a text coverage profile, in
// percent: each block counts its statements once, covered when any run reached it.
func profileTotal(profile string) (float64, error) {
	f, err := os.Open(profile)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	covered := map[string]bool{}
	stmts := map[string]int{}
	sc := bufio.NewScanner(f)
	first := true
	for sc.Scan() {
		line := sc.Text()
		if first {
			first = false
			if strings.HasPrefix(line, "mode:") {
				continue
			}
		}
		// file.go:l.c,l.c numStmts count
		fields := strings.Fields(line)
		if len(fields) != 3 {
			continue
		}
		n, err1 := strconv.Atoi(fields[1])
		c, err2 := strconv.Atoi(fields[2])
		if err1 != nil || err2 != nil {
			continue
		}
		stmts[fields[0]] = n
		if c > 0 {
			covered[fields[0]] = true
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	var all, hit int
	for b, n := range stmts {
		all += n
		if covered[b] {
			hit += n
		}
	}
	if all == 0 {
		return 0, nil
	}
	return 100 * float64(hit) / float64(all), nil
}

// WriteCoverageReport prints report and total as the test command does.
func WriteCoverageReport(w io.Writer, report []PackageCoverage, total float64, module string) {
	fmt.Fprintln(w, "== statement coverage (unit, integration and black-box tests, and the stack's functions)")
	for _, c := range report {
		name := strings.TrimPrefix(strings.TrimPrefix(c.Package, module), "/")
		if name == "" {
			name = "(root: functions.go)"
		}
		if c.Percent == NotBuilt {
			fmt.Fprintf(w, "         -  %s (not built by the tests run)\n", name)
			continue
		}
		fmt.Fprintf(w, "   %6.1f%%  %s\n", c.Percent, name)
	}
	fmt.Fprintf(w, "   %6.1f%%  total (statements of the packages above that the run built)\n", total)
}

// coverageBuildArgs are the go build flags of an instrumented main package: the measured
// packages and main itself, whose instrumentation installs the hook that writes the
// counters at exit (without it the binary writes nothing).
func coverageBuildArgs(pkgs []string, main string) []string {
	return []string{"-cover", "-coverpkg=" + strings.Join(append(slices.Clone(pkgs), main), ",")}
}

// coverDir is where this stack's function processes write their counters ("" for none).
func (s *Stack) coverDir() string {
	if s.cfg.CoverDir != "" {
		return s.cfg.CoverDir
	}
	return os.Getenv(EnvCoverDir)
}

// absDir makes dir absolute (function processes run with the repository as their
// working directory, tests with their package's).
func absDir(dir string) string {
	if a, err := filepath.Abs(dir); err == nil {
		return a
	}
	return dir
}

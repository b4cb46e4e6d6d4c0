// Command fnserve serves one Medi OS function the way the Cloud Run functions Go
// buildpack does: a main that imports the root package (whose init registers every
// function) and starts the functions framework, which serves the function named by
// FUNCTION_TARGET at "/". The local stack runs one fnserve process per function.
//
// With MEDI_CPUPROFILE_DIR set (measurements only, e.g. `MEDI_CPUPROFILE_DIR=/tmp/prof
// scripts/load`), the process records its CPU profile in 10-second parts,
// <dir>/<FUNCTION_TARGET>.<n>.pprof (an instance exits at once on SIGTERM once drained, so
// at most the last part is lost); `go tool pprof -top <dir>/queue.*.pprof` merges them.
// The deployed functions never run this main.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"time"

	"github.com/GoogleCloudPlatform/functions-framework-go/funcframework"

	_ "github.com/medi-os/medi"
)

func main() {
	// The local stack sets MEDI_EXIT_WITH_PARENT: a function server whose launcher died
	// (a test binary killed or timed out before its cleanup ran) is re-parented, and exits
	// instead of living on as an orphan holding its port.
	if os.Getenv("MEDI_EXIT_WITH_PARENT") == "1" {
		go exitWithParent(os.Getppid())
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	if dir := os.Getenv("MEDI_CPUPROFILE_DIR"); dir != "" {
		if err := profileInParts(dir, os.Getenv("FUNCTION_TARGET")); err != nil {
			fmt.Fprintln(os.Stderr, "fnserve:", err)
			os.Exit(1)
		}
	}
	// MEDI_LISTEN_HOST keeps the local stack on loopback; Cloud Run leaves it empty.
	if err := funcframework.StartHostPort(os.Getenv("MEDI_LISTEN_HOST"), port); err != nil {
		fmt.Fprintln(os.Stderr, "fnserve:", err)
		os.Exit(1)
	}
}

// profileInParts records the CPU profile in parts of profilePart each, written to
// dir/<name>.<n>.pprof.
func profileInParts(dir, name string) error {
	if name == "" {
		name = "fnserve"
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	start := func(n int) (*os.File, error) {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%s.%d.pprof", filepath.Base(name), n)))
		if err != nil {
			return nil, err
		}
		return f, pprof.StartCPUProfile(f)
	}
	f, err := start(1)
	if err != nil {
		return err
	}
	go func() {
		for n := 2; ; n++ {
			time.Sleep(profilePart)
			pprof.StopCPUProfile()
			f.Close()
			if f, err = start(n); err != nil {
				fmt.Fprintln(os.Stderr, "fnserve: CPU profile:", err)
				return
			}
		}
	}()
	return nil
}

// exitWithParent ends the process once its parent is no longer parent.
func exitWithParent(parent int) {
	for range time.Tick(time.Second) {
		if os.Getppid() != parent {
			fmt.Fprintln(os.Stderr, "fnserve: the process that started it has exited; exiting")
			os.Exit(1)
		}
	}
}

// profilePart is the length of one part of the CPU profile.
const profilePart = 10 * time.Second

// Command fnserve serves one Medi OS function the way the Cloud Run functions Go
// buildpack does: a main that imports the root package (whose init registers every
// function) and starts the functions framework, which serves the function named by
// FUNCTION_TARGET at "/". The local stack runs one fnserve process per function.
//
// With MEDI_CPUPROFILE_DIR set (measurements only, e.g. `MEDI_CPUPROFILE_DIR=/tmp/prof
// scripts/load`), the process records a CPU profile from its start until it is told to
// stop (SIGTERM or SIGINT) and writes it to <dir>/<FUNCTION_TARGET>.pprof, for
// `go tool pprof`. The deployed functions never run this main.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"syscall"
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
		if err := profileUntilStopped(dir, os.Getenv("FUNCTION_TARGET")); err != nil {
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

// profileUntilStopped starts a CPU profile written to dir/<name>.pprof when the process
// receives SIGTERM or SIGINT, and then exits.
func profileUntilStopped(dir, name string) error {
	if name == "" {
		name = "fnserve"
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, filepath.Base(name)+".pprof"))
	if err != nil {
		return err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		pprof.StopCPUProfile()
		f.Close()
		os.Exit(0)
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

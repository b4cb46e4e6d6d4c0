// Command load runs a mixed workload against the Medi OS local stack and reports, per
// endpoint, latency percentiles, throughput, success ratio and status codes (vegeta as a
// library, constant rates, all endpoints at once):
//
//	register     POST /v1/patients                       receptionist, unique synthetic patients
//	check-in     POST /v1/encounters                     receptionist, patients the run registered
//	triage       POST /v1/triage/{id}                    nurse, encounters the run checked in
//	transition   POST /v1/encounters/{id}/transitions    doctor: complete a consultation, else start one
//	queue        GET  /v1/queue                          nurse
//	note-edit    PUT  /v1/notes/{id}                     doctor, drafted notes at their current version
//
// Each target is generated when it is sent, from pools that the previous step's 2xx
// answers fill, so a transition is only ever asked of an encounter in the right state.
// The run uses a fresh clinic with its own staff accounts. In the same run a floor client
// performs each endpoint's Firestore transaction directly against the emulator at the
// same rate, so the report gives the API's overhead as a ratio. Afterwards the tool
// reconciles the 2xx answers with what Firestore holds and exits non-zero on any
// difference. With the stack it starts itself, it also samples every function
// process's resident memory (idle, under load, after); -coldstart N adds the cold-start
// figures of scripts/cmd/coldstart.
//
//	scripts/load                              # own stack on free ports, 60 s, Markdown on stdout
//	scripts/load -duration 30s -out /tmp/load.md -coldstart 9
//	scripts/load -board                       # the live board: check-in -> entry on an SSE client, then a burst
//	scripts/load -board -clinics 10 -board-rate 0.5 -burst 0   # ten clinics at once
//	MEDI_BASE_URL=... go run ./tests/load      # against a running stack (scripts/dev or scripts/test)
//
// Loopback only; figures go into docs/performance.md, never into test assertions.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/medi-os/medi/scripts/repo"
	"github.com/medi-os/medi/scripts/stack"
)

// maxDuration bounds a run: this is a measurement, not a soak test.
const maxDuration = 10 * time.Minute

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := realMain(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

// errMismatch is returned when the run completed but Firestore disagrees with the answers.
var errMismatch = errors.New("the reconciliation with Firestore found differences (see the report)")

func realMain(ctx context.Context, args []string) (err error) {
	fset := flag.NewFlagSet("load", flag.ContinueOnError)
	o := Options{Rates: Rates{}, Progress: os.Stderr}
	fset.DurationVar(&o.Duration, "duration", 60*time.Second, "measured duration (at most 10m)")
	defaults := []struct {
		ep   string
		rate float64
	}{{epRegister, 2}, {epCheckIn, 2}, {epTriage, 2}, {epTransition, 2}, {epQueue, 10}, {epNoteEdit, 1}}
	rates := map[string]*float64{}
	for _, d := range defaults {
		rates[d.ep] = fset.Float64(d.ep, d.rate, fmt.Sprintf("%s requests per second (%s; 0 leaves it out)", d.ep, endpointPaths[d.ep]))
	}
	fset.DurationVar(&o.Buffer, "buffer", 10*time.Second, "work prepared per pool before the run, in seconds at the endpoint's rate")
	fset.IntVar(&o.NoteFixtures, "note-fixtures", 6, "drafted notes the edits rotate over")
	fset.BoolVar(&o.Floor, "floor", true, "run the direct-Firestore floor client in the same run")
	board := fset.Bool("board", false, "measure the live board instead of the mixed workload: check-in -> entry on a stream client, then a burst")
	bo := BoardOptions{}
	fset.Float64Var(&bo.Rate, "board-rate", 2, "with -board: sustained check-ins per second")
	fset.DurationVar(&bo.Sustained, "board-duration", 60*time.Second, "with -board: how long the sustained check-ins last")
	fset.IntVar(&bo.Burst, "burst", 400, "with -board: check-ins of the burst (at most 2000)")
	fset.IntVar(&bo.BurstClients, "burst-clients", 20, "with -board: concurrent clients of the burst")
	fset.DurationVar(&bo.Settle, "settle", 90*time.Second, "with -board: how long to wait for the board to show the check-ins")
	fset.IntVar(&bo.Clinics, "clinics", 1, "with -board: clinics measured at once, each with its own staff, patients, board and stream (at most 100)")
	coldN := fset.Int("coldstart", 0, "also run scripts/cmd/coldstart with -n N after the load (0: skip)")
	outPath := fset.String("out", "", "also write the Markdown report to this file")
	if err := fset.Parse(args); err != nil {
		return err
	}
	for ep, r := range rates {
		if *r < 0 || *r > 200 {
			return fmt.Errorf("-%s must be between 0 and 200 per second", ep)
		}
		o.Rates[ep] = *r
	}
	if o.Duration <= 0 || o.Duration > maxDuration {
		return fmt.Errorf("-duration must be in (0, %s]", maxDuration)
	}
	if *board && (bo.Rate <= 0 || bo.Rate > 50 || bo.Sustained <= 0 || bo.Sustained > maxDuration ||
		bo.Burst < 0 || bo.Burst > 2000 || bo.BurstClients <= 0 || bo.BurstClients > 100 || bo.Settle <= 0 || bo.Settle > maxDuration || bo.Clinics < 1 || bo.Clinics > 100) {
		return errors.New("-board-rate in (0, 50], -board-duration and -settle in (0, 10m], -burst in [0, 2000], -burst-clients and -clinics in [1, 100]")
	}
	root, err := repo.Root()
	if err != nil {
		return err
	}
	rep := Report{Command: "scripts/load " + strings.Join(args, " ")}
	rep.Command = strings.TrimSpace(rep.Command)

	env := envFromOS()
	stopStack := func() {}
	if env.BaseURL == "" {
		started := time.Now()
		fmt.Fprintln(os.Stderr, "load: starting the local stack on free ports (logs in .stack/load-*/logs)")
		stateDir := filepath.Join(root, ".stack", "load-"+strconv.Itoa(os.Getpid()))
		defer func() {
			if err != nil {
				fmt.Fprintf(os.Stderr, "load: the stack's logs are kept in %s\n", filepath.Join(stateDir, "logs"))
				return
			}
			os.RemoveAll(stateDir)
		}()
		// Free ports are picked before they are bound: on a machine where other stacks
		// start at the same time, one may be taken in between. Start again then.
		var s *stack.Stack
		for attempt := 1; ; attempt++ {
			s, err = stack.Start(ctx, stack.Config{Root: root, StateDir: stateDir, ProjectID: "demo-medi-load", Functions: true, Out: os.Stderr})
			if err == nil {
				break
			}
			if attempt == 3 || !portTaken(err, filepath.Join(stateDir, "logs")) {
				return err
			}
			fmt.Fprintf(os.Stderr, "load: a port was taken while the stack started (%v); starting again\n", err)
		}
		defer s.Stop()
		stopStack = s.Stop
		fmt.Fprintf(os.Stderr, "load: stack ready in %s at %s\n", time.Since(started).Round(100*time.Millisecond), s.BaseURL())
		for _, kv := range s.Env() {
			k, v, _ := strings.Cut(kv, "=")
			os.Setenv(k, v)
		}
		env = envFromOS()
		o.PIDs = s.FunctionPIDs()
		rep.Stack = "its own local stack on free ports: emulators, every function as its own process, the gateway"
	} else {
		rep.Stack = "the running stack at " + env.BaseURL + "; instance memory not sampled"
	}

	if *board {
		bout, err := runBoard(ctx, env, bo, os.Stderr)
		if err != nil {
			return err
		}
		w, closeOut, err := reportWriter(*outPath)
		if err != nil {
			return err
		}
		defer closeOut()
		writeBoardReport(w, bout, rep.Command)
		return nil
	}
	out, err := run(ctx, env, o)
	if err != nil {
		return err
	}
	stopStack() // cold starts are measured on a quieter machine
	if *coldN > 0 {
		fmt.Fprintf(os.Stderr, "load: measuring cold starts (scripts/cmd/coldstart -n %d)\n", *coldN)
		cmd := exec.CommandContext(ctx, "go", "run", "./scripts/cmd/coldstart", "-n", strconv.Itoa(*coldN))
		cmd.Dir = root
		var buf bytes.Buffer
		cmd.Stdout, cmd.Stderr = &buf, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("coldstart: %w", err)
		}
		rep.ColdStart = buf.String()
	}
	w, closeOut, err := reportWriter(*outPath)
	if err != nil {
		return err
	}
	defer closeOut()
	writeReport(w, out, rep)
	if !out.Reconciliation.OK() {
		return errMismatch
	}
	return nil
}

// reportWriter is stdout, and also the file at path when there is one.
func reportWriter(path string) (io.Writer, func(), error) {
	if path == "" {
		return os.Stdout, func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, err
	}
	return io.MultiWriter(os.Stdout, f), func() { f.Close() }, nil
}

// portTaken reports whether a failed start met a port taken by someone else, in the
// error itself or in the log of a process that exited before it was ready.
func portTaken(err error, logDir string) bool {
	const inUse = "address already in use"
	if strings.Contains(err.Error(), inUse) {
		return true
	}
	logs, _ := filepath.Glob(filepath.Join(logDir, "*.log"))
	for _, l := range logs {
		if b, err := os.ReadFile(l); err == nil && bytes.Contains(b, []byte(inUse)) {
			return true
		}
	}
	return false
}

// Package stack runs the Medi OS local stack: the Firestore, Pub/Sub and Firebase Auth
// emulators, fake-gcs-server, every function as its own functions-framework process (as
// Cloud Run runs them), a gateway that routes like the production load balancer, the
// Pub/Sub and storage wiring, and seed data. scripts/dev and scripts/test both use it.
package stack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/fsouza/fake-gcs-server/fakestorage"

	"github.com/medi-os/medi/scripts/devports"
)

// Ports of the stack's servers; 0 means "pick a free port".
type Ports = devports.Ports

// Config configures a stack.
type Config struct {
	Root          string // repository root
	StateDir      string // logs, binaries, emulator config
	ProjectID     string
	Ports         Ports
	Functions     bool // start the functions and the gateway
	Seed          bool // seed the demo clinic and accounts
	UploadsBucket string
	Out           io.Writer // progress messages
	// BoardTickInterval is how often the board rebuild request is published
	// (BoardTickInterval when 0, as Cloud Scheduler's queue-board-tick does).
	BoardTickInterval time.Duration
	// EventTimeout is the event functions' (Pub/Sub and storage triggers) deadline per
	// delivery, their MEDI_REQUEST_TIMEOUT: DefaultEventTimeout when 0. It stays under the
	// subscriptions' 60s ack deadline so a hung backend fails the delivery and Pub/Sub
	// redelivers it; the fault test shortens it to see that within its outage.
	EventTimeout time.Duration
	// CoverDir, when set (or else $MEDI_STACK_COVERDIR), makes the function binaries
	// coverage-instrumented (go build -cover, the packages of CoverPackages) and their
	// processes write their counters there (GOCOVERDIR) when they exit.
	CoverDir string
	// SchedulerEvery overrides how often scheduler jobs run, by function name (the fault
	// test runs the scribe sweeper every few seconds).
	SchedulerEvery map[string]time.Duration
	// FunctionEnv adds environment variables (NAME=value) to functions, by function name
	// (the fault test shortens the scribe sweeper's bounds).
	FunctionEnv map[string][]string
	// DeadLetterCheckInterval is how often the dead-letter alert looks at the hold
	// subscriptions (DeadLetterCheckInterval when 0).
	DeadLetterCheckInterval time.Duration
}

// DefaultEventTimeout is the local event functions' deadline per delivery, below the push
// subscriptions' 60s ack deadline (Terraform gives them their Cloud Run timeout less a
// second, under the same ack deadline).
const DefaultEventTimeout = 50 * time.Second

// Stack is a running local stack.
type Stack struct {
	cfg        Config
	ports      Ports
	procs      []*Process
	gcs        *fakestorage.Server
	gateway    *http.Server
	fnPorts    map[string]int
	portPicker portPicker
	taskSecret string
	bridge     *Bridge
	ticker     *Ticker
	scheduler  *Scheduler
	dlAlert    *DeadLetterAlert
	fnBin      string // the function server, for restarts
	stopOnce   sync.Once
	Accounts   []Account
}

// Start brings the stack up. On error everything already started is stopped.
func Start(ctx context.Context, cfg Config) (s *Stack, err error) {
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	if cfg.ProjectID == "" {
		cfg.ProjectID = "demo-medi"
	}
	if cfg.UploadsBucket == "" {
		cfg.UploadsBucket = cfg.ProjectID + "-uploads"
	}
	if err := os.MkdirAll(cfg.StateDir, 0o755); err != nil {
		return nil, err
	}
	st := &Stack{cfg: cfg, fnPorts: map[string]int{}}
	s = st
	var secret [16]byte
	_, _ = rand.Read(secret[:])
	s.taskSecret = hex.EncodeToString(secret[:])
	defer func() {
		if err != nil {
			st.Stop() // s itself is nil on error returns
		}
	}()
	if err := s.allocatePorts(); err != nil {
		return nil, err
	}
	// The launcher's own clients (fake-gcs notifications, seeding, setup) use the emulators.
	setEnv(s.emulatorEnv())
	os.Setenv("GOOGLE_CLOUD_PROJECT", cfg.ProjectID)

	start := time.Now()
	names := []string{"Firestore emulator", "Pub/Sub emulator", "Auth emulator"}
	tasks := []func() error{
		func() error { return s.startFirestore(ctx) },
		func() error { return s.startPubSub(ctx) },
		func() error { return s.startAuth(ctx) },
	}
	var bin string
	if cfg.Functions {
		names = append(names, "function server build (go build ./scripts/cmd/fnserve)")
		tasks = append(tasks, func() (err error) { bin, err = s.buildFunctions(ctx); return err })
	}
	what := "starting the emulators"
	if cfg.Functions {
		what += " and building the functions"
	}
	Phasef(cfg.Out, "%s", what)
	if err := errors.Join(runParallel(cfg.Out, names, tasks)...); err != nil {
		return nil, err
	}
	Phasef(cfg.Out, "emulators ready in %s", time.Since(start).Round(100*time.Millisecond))

	if cfg.Functions {
		if err := s.allocateFunctionPorts(); err != nil {
			return nil, err
		}
	}
	if err := s.startStorage(); err != nil {
		return nil, err
	}
	if err := s.setupPubSub(ctx); err != nil {
		return nil, err
	}
	if cfg.Functions {
		Phasef(cfg.Out, "starting %d functions, each its own process, and the gateway", len(Functions))
		if err := s.startFunctions(ctx, bin); err != nil {
			return nil, err
		}
		if err := s.startGateway(); err != nil {
			return nil, err
		}
		if err := s.startBridge(ctx); err != nil {
			return nil, err
		}
		tick := cfg.BoardTickInterval
		if tick <= 0 {
			tick = BoardTickInterval
		}
		if s.ticker, err = StartTicker(cfg.ProjectID, "encounter-events", tick); err != nil {
			return nil, err
		}
		jobs := SchedulerJobs(tick)
		for i, j := range jobs {
			if every, ok := cfg.SchedulerEvery[j.Function]; ok {
				jobs[i].Every = every
			}
		}
		s.scheduler = StartScheduler(jobs, s.FunctionURL, s.taskSecret, cfg.Out)
		every := cfg.DeadLetterCheckInterval
		if every <= 0 {
			every = DeadLetterCheckInterval
		}
		if s.dlAlert, err = StartDeadLetterAlert(cfg.ProjectID, append(append([]string{}, Topics...), UploadsNotificationTopic),
			every, s.logDir(), cfg.Out); err != nil {
			return nil, err
		}
	}
	if cfg.Seed {
		Phasef(cfg.Out, "seeding the demo clinic")
		// The seed is idempotent; emulators that have just started sometimes refuse the
		// first writes, so it is tried a few times before the start fails.
		var seedErr error
		for attempt := 1; attempt <= 3; attempt++ {
			if seedErr = s.seed(ctx); seedErr == nil {
				break
			}
			fmt.Fprintf(cfg.Out, "seeding failed (attempt %d of 3): %v\n", attempt, seedErr)
			time.Sleep(time.Duration(attempt) * time.Second)
		}
		if seedErr != nil {
			return nil, fmt.Errorf("seeding: %w", seedErr)
		}
	}
	return s, nil
}

func (s *Stack) logDir() string { return filepath.Join(s.cfg.StateDir, "logs") }

func (s *Stack) allocatePorts() error {
	p := s.cfg.Ports
	var errs []error
	for _, pt := range devports.All {
		v := pt.Field(&p)
		if *v == 0 {
			port, err := s.portPicker.pick()
			if err != nil {
				return err
			}
			*v = port
			continue
		}
		if err := checkFree(*v, pt.Use, pt.Var); err != nil {
			errs = append(errs, err)
		}
	}
	s.ports = p
	if len(errs) > 0 {
		base := 18080 // a block clear of the ports just tried
		if p.Gateway >= base-len(devports.All) && p.Gateway <= base+len(devports.All) {
			base = 28080
		}
		errs = append(errs, fmt.Errorf("or move every port at once: %s=%d scripts/dev (ports %d to %d)",
			devports.BaseVar, base, base, base+len(devports.All)-1))
	}
	return errors.Join(errs...)
}

// Ports returns the ports in use.
func (s *Stack) Ports() Ports { return s.ports }

// BaseURL is the gateway's URL.
func (s *Stack) BaseURL() string { return fmt.Sprintf("http://127.0.0.1:%d", s.ports.Gateway) }

// FunctionURL is the URL of one function's own server.
func (s *Stack) FunctionURL(name string) string {
	return fmt.Sprintf("http://127.0.0.1:%d", s.fnPorts[name])
}

// Env lists the variables a client of the stack (tests, tools) needs.
func (s *Stack) Env() []string {
	env := append(s.emulatorEnv(),
		"GOOGLE_CLOUD_PROJECT="+s.cfg.ProjectID,
		"MEDI_STACK_PROJECT="+s.cfg.ProjectID,
		"MEDI_UPLOADS_BUCKET="+s.cfg.UploadsBucket,
		"MEDI_DEV_TASK_SECRET="+s.taskSecret,
	)
	if s.cfg.Functions {
		env = append(env, "MEDI_BASE_URL="+s.BaseURL())
		for name, port := range s.fnPorts {
			env = append(env, "MEDI_FUNCTION_URL_"+envName(name)+"=http://127.0.0.1:"+strconv.Itoa(port))
		}
	}
	return env
}

func envName(fn string) string {
	b := []byte(fn)
	for i, c := range b {
		switch {
		case c == '-':
			b[i] = '_'
		case c >= 'a' && c <= 'z':
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// Stop stops everything, children's process groups included, in reverse start order.
func (s *Stack) Stop() {
	s.stopOnce.Do(func() {
		defer s.portPicker.releaseAll()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if s.dlAlert != nil {
			s.dlAlert.Stop()
		}
		if s.scheduler != nil {
			s.scheduler.Stop()
		}
		if s.ticker != nil {
			s.ticker.Stop()
		}
		if s.bridge != nil {
			s.bridge.Stop()
		}
		if s.gateway != nil {
			_ = s.gateway.Shutdown(ctx)
		}
		var wg sync.WaitGroup
		for i := len(s.procs) - 1; i >= 0; i-- {
			wg.Add(1)
			go func(p *Process) { defer wg.Done(); p.Stop(5 * time.Second) }(s.procs[i])
		}
		wg.Wait()
		if s.gcs != nil {
			s.gcs.Stop()
		}
	})
}

func (s *Stack) startStorage() error {
	opts := fakestorage.Options{
		Scheme:     "http",
		Host:       "127.0.0.1",
		Port:       uint16(s.ports.Storage),
		PublicHost: fmt.Sprintf("127.0.0.1:%d", s.ports.Storage),
		Writer:     io.Discard,
		EventOptions: fakestorage.EventManagerOptions{
			ProjectID: s.cfg.ProjectID,
			TopicName: UploadsNotificationTopic,
			Bucket:    s.cfg.UploadsBucket,
			NotifyOn:  fakestorage.EventNotificationOptions{Finalize: true},
		},
		// The web app PUTs scribe uploads with the signed URL's size-range and upload-token
		// headers.
		AllowedCORSHeaders: []string{"x-goog-content-length-range", "x-goog-meta-medi-upload-token"},
	}
	srv, err := fakestorage.NewServerWithOptions(opts)
	if err != nil {
		return fmt.Errorf("starting fake-gcs-server: %w", err)
	}
	s.gcs = srv
	srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: s.cfg.UploadsBucket, VersioningEnabled: true})
	return nil
}

// buildFunctions compiles the function server once (as the buildpack does, a main that
// imports the root package and starts the functions framework).
func (s *Stack) buildFunctions(ctx context.Context) (string, error) {
	bin := filepath.Join(s.cfg.StateDir, "bin", "fnserve")
	args := []string{"build"}
	if dir := s.coverDir(); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", err
		}
		pkgs, err := CoverPackages(ctx, s.cfg.Root)
		if err != nil {
			return "", err
		}
		args = append(args, coverageBuildArgs(pkgs, "github.com/medi-os/medi/scripts/cmd/fnserve")...)
	}
	args = append(args, "-o", bin, "./scripts/cmd/fnserve")
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = s.cfg.Root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("building functions: %v\n%s", err, out)
	}
	return bin, nil
}

// FunctionEnv is the environment every local function process gets: dev tier, the
// emulators, and the wiring a deployment's Terraform would set.
func (s *Stack) functionEnv(name string, port int) []string {
	env := append(os.Environ(), s.emulatorEnv()...)
	env = append(env,
		"FUNCTION_TARGET="+name,
		"PORT="+strconv.Itoa(port),
		"MEDI_LISTEN_HOST=127.0.0.1",
		"MEDI_ENV=dev",
		"MEDI_VERSION=dev",
		"GOOGLE_CLOUD_PROJECT="+s.cfg.ProjectID,
		"MEDI_UPLOADS_BUCKET="+s.cfg.UploadsBucket,
		"MEDI_DEV_TASK_SECRET="+s.taskSecret,
		"MEDI_CORS_ORIGINS=http://localhost:3000,http://127.0.0.1:3000",
		"MEDI_PUBLIC_BASE_URL="+s.BaseURL(),
		// Exit when the launcher dies without stopping it (scripts/cmd/fnserve).
		"MEDI_EXIT_WITH_PARENT=1",
	)
	if dir := s.coverDir(); dir != "" {
		env = append(env, "GOCOVERDIR="+absDir(dir))
	}
	for fn, p := range s.fnPorts {
		env = append(env, "MEDI_FUNCTION_URL_"+envName(fn)+"=http://127.0.0.1:"+strconv.Itoa(p))
	}
	for _, f := range Functions {
		if f.Name != name {
			continue
		}
		switch f.Trigger {
		case TriggerTask, TriggerScheduler:
			// Workers are bounded by their queue's dispatch deadline, not the API's 10s
			// (Terraform sets the function's Cloud Run timeout less a second).
			env = append(env, "MEDI_REQUEST_TIMEOUT=9m")
		case TriggerPubSub, TriggerStorage:
			timeout := s.cfg.EventTimeout
			if timeout <= 0 {
				timeout = DefaultEventTimeout
			}
			env = append(env, "MEDI_REQUEST_TIMEOUT="+timeout.String())
		}
	}
	// Last, so that a test's values win over the defaults above.
	return append(env, s.cfg.FunctionEnv[name]...)
}

// allocateFunctionPorts gives every function its port before anything refers to it
// (push subscription endpoints, task targets, the gateway).
func (s *Stack) allocateFunctionPorts() error {
	for _, f := range Functions {
		// Held until the function starts (startFunctions), so nothing else takes it.
		p, err := s.portPicker.reserve()
		if err != nil {
			return err
		}
		s.fnPorts[f.Name] = p
	}
	return nil
}

func (s *Stack) startFunctions(ctx context.Context, bin string) error {
	type started struct {
		f Function
		p *Process
	}
	s.fnBin = bin
	var all []started
	for _, f := range Functions {
		s.portPicker.release(s.fnPorts[f.Name])
		p, err := startProcess("fn-"+f.Name, s.logDir(), s.cfg.Root, s.functionEnv(f.Name, s.fnPorts[f.Name]), bin)
		if err != nil {
			return err
		}
		s.procs = append(s.procs, p)
		all = append(all, started{f, p})
	}
	for _, st := range all {
		url := s.FunctionURL(st.f.Name) + "/"
		if st.f.Trigger == TriggerHTTP {
			url = s.FunctionURL(st.f.Name) + "/v1/health"
		}
		if err := waitHTTP(ctx, st.p, url); err != nil {
			return err
		}
	}
	// A function that lost its port exits at once; one that answered on a port another
	// server held would pass the wait above, so look again once all are up.
	for _, st := range all {
		if st.p.Exited() {
			return fmt.Errorf("%s exited after the stack's functions were up: %v (see its log)", st.p.Name, st.p.err)
		}
	}
	return nil
}

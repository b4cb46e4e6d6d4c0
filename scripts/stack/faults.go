package stack

import (
	"context"
	"fmt"
	"os"
	"syscall"
	"time"
)

// Emulator names a backend emulator of the stack that fault tests can take down.
type Emulator string

// The emulators a fault can be injected into.
const (
	EmulatorFirestore Emulator = "firestore"
	EmulatorPubSub    Emulator = "pubsub"
)

// Pause takes emulator e down by stopping its whole process group (SIGSTOP): its port
// still accepts TCP connections, but nothing answers, so clients see what they see in a
// network partition or a backend outage: calls that hang until their deadline. The
// emulator keeps its state in memory, as the managed service keeps its data through an
// outage; Resume brings it back.
//
// Why not a real stop and restart: both emulators keep their data in memory only. The
// Pub/Sub emulator has no persistence at all (topics, subscriptions and unacknowledged
// messages would be gone, which the managed service never does), and the Firestore
// emulator's --export-on-exit runs only on its /shutdown endpoint and fails there for a
// multi-project emulator ("Database name projects/<p>/databases/ has invalid trailing
// /"), while an export followed by a kill would lose every write committed between the
// two. A restart would therefore test the emulators' data loss, not the suite.
func (s *Stack) Pause(e Emulator) error { return s.signalEmulator(e, syscall.SIGSTOP) }

// Resume lets a paused emulator run again (SIGCONT) and waits until it answers HTTP on
// its port or ctx ends.
func (s *Stack) Resume(ctx context.Context, e Emulator) error {
	if err := s.signalEmulator(e, syscall.SIGCONT); err != nil {
		return err
	}
	p, port := s.emulator(e)
	return waitHTTP(ctx, p, fmt.Sprintf("http://127.0.0.1:%d/", port))
}

// Outage pauses e for d (or until ctx ends), then resumes it. It returns once the
// emulator answers again.
func (s *Stack) Outage(ctx context.Context, e Emulator, d time.Duration) error {
	if err := s.Pause(e); err != nil {
		return err
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
	// Resume even when ctx has ended: a stack left stopped cannot be stopped cleanly.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	return s.Resume(rctx, e)
}

func (s *Stack) emulator(e Emulator) (*Process, int) {
	port := 0
	switch e {
	case EmulatorFirestore:
		port = s.ports.Firestore
	case EmulatorPubSub:
		port = s.ports.PubSub
	}
	for _, p := range s.procs {
		if p.Name == string(e) {
			return p, port
		}
	}
	return nil, port
}

func (s *Stack) signalEmulator(e Emulator, sig syscall.Signal) error {
	p, _ := s.emulator(e)
	if p == nil {
		return fmt.Errorf("stack: no %s emulator in this stack", e)
	}
	if p.Exited() {
		return fmt.Errorf("stack: the %s emulator has exited (see its log)", e)
	}
	// The group, not the launcher alone: the emulator's JVM is a child of its launcher script.
	if err := syscall.Kill(-p.PID(), sig); err != nil {
		return fmt.Errorf("stack: signal %v to the %s emulator: %w", sig, e, err)
	}
	return nil
}

// KillFunction ends function name's process at once (SIGKILL to its process group), as
// an instance that crashes or is evicted ends: requests in flight get no answer (the
// gateway answers 502) and nothing the process held in memory survives, such as the
// tasks its local dispatcher had not delivered yet. RestartFunction starts it again.
func (s *Stack) KillFunction(name string) error {
	p := s.function(name)
	if p == nil {
		return fmt.Errorf("stack: no function %s in this stack", name)
	}
	if p.Exited() {
		return fmt.Errorf("stack: function %s has already exited", name)
	}
	p.Kill()
	return nil
}

// RestartFunction starts function name again on its port (its log continues) and waits
// until it answers or ctx ends, as a new instance would come up.
func (s *Stack) RestartFunction(ctx context.Context, name string) error {
	old := s.function(name)
	if old == nil {
		return fmt.Errorf("stack: no function %s in this stack", name)
	}
	if !old.Exited() {
		return fmt.Errorf("stack: function %s is still running", name)
	}
	p, err := startProcessLog(old.Name, s.logDir(), s.cfg.Root, s.functionEnv(name, s.fnPorts[name]), os.O_APPEND, s.fnBin)
	if err != nil {
		return err
	}
	for i := range s.procs {
		if s.procs[i] == old {
			s.procs[i] = p
		}
	}
	url := s.FunctionURL(name) + "/"
	for _, f := range Functions {
		if f.Name == name && f.Trigger == TriggerHTTP {
			url = s.FunctionURL(name) + "/v1/health"
		}
	}
	return waitHTTP(ctx, p, url)
}

func (s *Stack) function(name string) *Process {
	for _, p := range s.procs {
		if p.Name == "fn-"+name {
			return p
		}
	}
	return nil
}

// FreezeFunction stops function name's process where it is (SIGSTOP to its group), so a
// test can look at what it holds before it kills it; ThawFunction lets it run on.
func (s *Stack) FreezeFunction(name string) error { return s.signalFunction(name, syscall.SIGSTOP) }

// ThawFunction continues a frozen function (SIGCONT).
func (s *Stack) ThawFunction(name string) error { return s.signalFunction(name, syscall.SIGCONT) }

func (s *Stack) signalFunction(name string, sig syscall.Signal) error {
	p := s.function(name)
	if p == nil || p.Exited() {
		return fmt.Errorf("stack: function %s is not running", name)
	}
	if err := syscall.Kill(-p.PID(), sig); err != nil {
		return fmt.Errorf("stack: signal %v to function %s: %w", sig, name, err)
	}
	return nil
}

package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Process is a child started in its own process group, so that stopping it also stops
// the grandchildren that launcher scripts leave behind (the emulators' Java processes).
type Process struct {
	Name string
	cmd  *exec.Cmd
	log  *os.File
	done chan struct{}
	err  error
}

// startProcess starts name with its output written to logDir/name.log (a new log).
func startProcess(name, logDir, dir string, env []string, argv ...string) (*Process, error) {
	return startProcessLog(name, logDir, dir, env, os.O_TRUNC, argv...)
}

// startProcessLog is startProcess with the log opened with mode (os.O_TRUNC for a new
// log, os.O_APPEND to continue the log of a process restarted).
func startProcessLog(name, logDir, dir string, env []string, mode int, argv ...string) (*Process, error) {
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return nil, err
	}
	logPath := filepath.Join(logDir, name+".log")
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|mode, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Stdin = nil
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("starting %s (%s): %w", name, argv[0], err)
	}
	p := &Process{Name: name, cmd: cmd, log: f, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// PID returns the process id (also its process group id).
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Kill ends the whole process group at once (SIGKILL), as a crashed or evicted instance
// ends: nothing in flight finishes, and waits until the process has exited.
func (p *Process) Kill() {
	_ = syscall.Kill(-p.PID(), syscall.SIGKILL)
	<-p.done
	p.log.Close()
}

// Stop signals the whole process group with SIGTERM, waits up to grace, then SIGKILLs
// the group. It is safe to call more than once.
func (p *Process) Stop(grace time.Duration) {
	if p == nil || p.cmd.Process == nil {
		return
	}
	pgid := p.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	_ = syscall.Kill(-pgid, syscall.SIGCONT) // a paused (fault-injected) group must run to exit
	select {
	case <-p.done:
	case <-time.After(grace):
	}
	// Kill whatever is left in the group (children that ignored SIGTERM, or grandchildren
	// still alive after the launcher itself exited).
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(2 * time.Second):
	}
	p.log.Close()
}

// waitHTTP polls url until it answers with a status below 500, the process exits, or ctx ends.
func waitHTTP(ctx context.Context, p *Process, url string) error {
	client := &http.Client{Timeout: time.Second}
	for {
		if p != nil && p.Exited() {
			return fmt.Errorf("%s exited before it was ready: %v (see its log)", p.Name, p.err)
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := client.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode < 500 {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s at %s: %w", nameOf(p), url, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func nameOf(p *Process) string {
	if p == nil {
		return "server"
	}
	return p.Name
}

// PortInUseError says which port is taken, what the stack wanted it for and the variable
// that moves it.
type PortInUseError struct {
	Port int
	Use  string
	Var  string // e.g. MEDI_PORT; empty when the port was picked free
}

func (e *PortInUseError) Error() string {
	msg := fmt.Sprintf("port %d (%s) is already in use: stop whatever listens there (`ss -ltnp 'sport = :%d'` shows it)", e.Port, e.Use, e.Port)
	if e.Var != "" {
		msg += fmt.Sprintf(" or set %s to a free port", e.Var)
	}
	return msg
}

// checkFree fails with a PortInUseError when port cannot be bound on loopback.
func checkFree(port int, use, envVar string) error {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return &PortInUseError{Port: port, Use: use, Var: envVar}
	}
	return l.Close()
}

// ports picks the loopback ports of the stack's servers. A port the kernel hands out for
// ":0" comes from its ephemeral range, which every outgoing connection on the machine also
// draws from, so that between the pick and the server's bind another stack or a client's
// socket can take it ("address already in use"). The picker chooses at random below the
// ephemeral range instead, never the same port twice within a stack, and can hold a port with
// a listener until the server that will use it is about to start (reserve, release).
type portPicker struct {
	mu    sync.Mutex
	taken map[int]bool
	held  map[int]net.Listener
}

// Below the kernel's ephemeral range when it can be read (Linux), above the well-known and
// the usual development ports.
const pickLow = 20000

// pickRange is the range the picker draws from: [pickLow, the first ephemeral port), or
// none when the ephemeral range starts too low to leave room.
func pickRange() (lo, hi int) {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0, 0
	}
	f := strings.Fields(string(b))
	if len(f) < 1 {
		return 0, 0
	}
	first, err := strconv.Atoi(f[0])
	if err != nil || first < pickLow+1024 {
		return 0, 0
	}
	return pickLow, first
}

// reserve picks a free port and holds it with a listener until release.
func (pp *portPicker) reserve() (int, error) {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	if pp.taken == nil {
		pp.taken, pp.held = map[int]bool{}, map[int]net.Listener{}
	}
	if lo, hi := pickRange(); hi > lo {
		for range 200 {
			p := lo + mrand.IntN(hi-lo)
			if pp.taken[p] {
				continue
			}
			l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
			if err != nil {
				continue
			}
			pp.taken[p], pp.held[p] = true, l
			return p, nil
		}
	}
	// No usable range (or no luck): the kernel's choice.
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		p := l.Addr().(*net.TCPAddr).Port
		if pp.taken[p] {
			l.Close()
			continue
		}
		pp.taken[p], pp.held[p] = true, l
		return p, nil
	}
	return 0, errors.New("no free loopback port")
}

// release closes the listener holding port (if any), just before its server binds it.
func (pp *portPicker) release(port int) {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	if l, ok := pp.held[port]; ok {
		l.Close()
		delete(pp.held, port)
	}
}

// pick returns a free port without holding it (servers that start at once).
func (pp *portPicker) pick() (int, error) {
	p, err := pp.reserve()
	if err == nil {
		pp.release(p)
	}
	return p, err
}

// releaseAll closes every listener still held.
func (pp *portPicker) releaseAll() {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	for p, l := range pp.held {
		l.Close()
		delete(pp.held, p)
	}
}

var errStopped = errors.New("stack stopped")

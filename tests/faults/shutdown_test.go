package faults

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/medi-os/medi/shared/testenv"
)

// holdingProxy forwards TCP connections to upstream, but only once released: until then
// a backend behind it looks slow (connected, not answering). It stands for a slow
// Firestore in front of a real emulator.
type holdingProxy struct {
	ln        net.Listener
	upstream  string
	connected chan struct{} // one value per accepted connection
	release   chan struct{} // closed to let the traffic through
	once      sync.Once
	wg        sync.WaitGroup
}

// Release lets the traffic through.
func (p *holdingProxy) Release() { p.once.Do(func() { close(p.release) }) }

func newHoldingProxy(t *testing.T, upstream string) *holdingProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &holdingProxy{ln: ln, upstream: upstream, connected: make(chan struct{}, 16), release: make(chan struct{})}
	p.wg.Go(p.serve)
	t.Cleanup(func() {
		ln.Close()
		p.Release()
		p.wg.Wait()
	})
	return p
}

func (p *holdingProxy) Addr() string { return p.ln.Addr().String() }

func (p *holdingProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		select {
		case p.connected <- struct{}{}:
		default:
		}
		p.wg.Go(func() {
			defer c.Close()
			<-p.release
			up, err := net.Dial("tcp", p.upstream)
			if err != nil {
				return
			}
			defer up.Close()
			done := make(chan struct{}, 2)
			go func() { _, _ = io.Copy(up, c); done <- struct{}{} }()
			go func() { _, _ = io.Copy(c, up); done <- struct{}{} }()
			<-done
		})
	}
}

// lineWatcher keeps a process's output and says when a line containing a text appeared.
type lineWatcher struct {
	mu    sync.Mutex
	lines []string
	added chan struct{}
}

func watchLines(r io.Reader) *lineWatcher {
	w := &lineWatcher{added: make(chan struct{}, 1)}
	go func() {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			w.mu.Lock()
			w.lines = append(w.lines, sc.Text())
			w.mu.Unlock()
			select {
			case w.added <- struct{}{}:
			default:
			}
		}
	}()
	return w
}

func (w *lineWatcher) has(text string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, l := range w.lines {
		if strings.Contains(l, text) {
			return true
		}
	}
	return false
}

func (w *lineWatcher) wait(t *testing.T, text string, within time.Duration) {
	t.Helper()
	deadline := time.After(within)
	for !w.has(text) {
		select {
		case <-w.added:
		case <-deadline:
			t.Fatalf("no output line with %q within %s; output:\n%s", text, within, w.String())
		}
	}
}

func (w *lineWatcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.lines, "\n")
}

// TestSIGTERMLetsInFlightRequestsFinish runs the auth function in the function server the
// buildpack builds (scripts/cmd/fnserve), sends it GET /v1/me while its Firestore is slow
// (held by a proxy), and sends SIGTERM while that request is in flight. The request must
// complete with 200, a request arriving during the drain must get 503 with Retry-After,
// and the process must then exit 0. Without the drain, Go's default SIGTERM action kills
// the process and the client gets no answer.
func TestSIGTERMLetsInFlightRequestsFinish(t *testing.T) {
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST", "FIREBASE_AUTH_EMULATOR_HOST", "PUBSUB_EMULATOR_HOST")
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "fnserve")
	build := exec.Command("go", "build", "-o", bin, "github.com/medi-os/medi/scripts/cmd/fnserve")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	proxy := newHoldingProxy(t, os.Getenv("FIRESTORE_EMULATOR_HOST"))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()

	cmd := exec.Command(bin)
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"FUNCTION_TARGET=auth", fmt.Sprintf("PORT=%d", port), "MEDI_LISTEN_HOST=127.0.0.1", "MEDI_ENV=dev",
		"GOOGLE_CLOUD_PROJECT=" + testenv.ProjectID(t), "MEDI_AUTH_PROJECT=" + testenv.AuthProject(),
		"FIRESTORE_EMULATOR_HOST=" + proxy.Addr(), "FIREBASE_AUTH_EMULATOR_HOST=" + os.Getenv("FIREBASE_AUTH_EMULATOR_HOST"),
		"PUBSUB_EMULATOR_HOST=" + os.Getenv("PUBSUB_EMULATOR_HOST"),
	}
	// Not StdoutPipe: Wait closes that pipe when the process exits, possibly before the last
	// lines were read. With a writer, Wait returns only once all output has been copied
	// (and read: an io.Pipe write waits for its reader).
	out, outW := io.Pipe()
	cmd.Stdout, cmd.Stderr = outW, outW
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	logs := watchLines(out)
	go func() {
		err := cmd.Wait()
		outW.Close()
		exited <- err
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
		}
	})

	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	hc := &http.Client{Timeout: 30 * time.Second}
	waitHealthy(t, hc, base+"/v1/health")

	token := testenv.SignIn(t, testenv.NewStaff(t, map[string]any{"role": "nurse", "clinicId": "clinic-" + randomHex(4)}))
	type result struct {
		status int
		err    error
	}
	inFlight := make(chan result, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, base+"/v1/me", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := hc.Do(req)
		if err != nil {
			inFlight <- result{err: err}
			return
		}
		defer resp.Body.Close()
		_, err = io.ReadAll(resp.Body)
		inFlight <- result{status: resp.StatusCode, err: err}
	}()

	// The request is in flight once the function has reached Firestore (held).
	select {
	case <-proxy.connected:
	case r := <-inFlight:
		t.Fatalf("GET /v1/me finished before reaching Firestore: %d %v", r.status, r.err)
	case <-time.After(30 * time.Second):
		t.Fatalf("the function never reached Firestore; output:\n%s", logs)
	}
	select {
	case r := <-inFlight:
		t.Fatalf("GET /v1/me finished while Firestore was held: %d %v; output:\n%s", r.status, r.err, logs)
	default:
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	logs.wait(t, "shutting down: draining requests in flight", 10*time.Second)

	// Draining: new requests are refused, the process is still there.
	resp, err := hc.Get(base + "/v1/health")
	if err != nil {
		t.Fatalf("request during the drain: %v; output:\n%s", err, logs)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("request during the drain: %d, Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	select {
	case err := <-exited:
		t.Fatalf("the process exited with a request in flight: %v", err)
	default:
	}

	// Firestore answers: the request completes, then the process exits 0.
	proxy.Release()
	r := <-inFlight
	if r.err != nil || r.status != http.StatusOK {
		t.Fatalf("in-flight GET /v1/me: status %d, error %v; want 200; output:\n%s", r.status, r.err, logs)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit: %v, want status 0; output:\n%s", err, logs)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("the process did not exit after the drain; output:\n%s", logs)
	}
	logs.wait(t, "shutdown complete", 5*time.Second)
}

func waitHealthy(t *testing.T, hc *http.Client, url string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := hc.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s never answered 200", url)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

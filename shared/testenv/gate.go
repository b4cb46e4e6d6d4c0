package testenv

import (
	"io"
	"net"
	"sync"
	"testing"
)

// Gate is a TCP proxy in front of an emulator whose traffic a test can hold: while held,
// connections stay open and nothing is forwarded in either direction, which is what a
// hung backend or a network partition looks like to a client (calls wait until their
// deadline). Release lets the held bytes through.
type Gate struct {
	ln       net.Listener
	upstream string
	mu       sync.Mutex
	open     chan struct{} // closed while traffic flows
	wg       sync.WaitGroup
	closing  chan struct{}
}

// NewGate starts a gate to upstream (host:port), open, stopped at the end of the test.
func NewGate(t testing.TB, upstream string) *Gate {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := &Gate{ln: ln, upstream: upstream, open: make(chan struct{}), closing: make(chan struct{})}
	close(g.open)
	g.wg.Go(g.serve)
	t.Cleanup(func() {
		close(g.closing)
		ln.Close()
		g.wg.Wait()
	})
	return g
}

// Addr is the address clients dial instead of upstream.
func (g *Gate) Addr() string { return g.ln.Addr().String() }

// Hold stops the traffic.
func (g *Gate) Hold() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.open:
		g.open = make(chan struct{})
	default:
	}
}

// Release lets the traffic flow again.
func (g *Gate) Release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.open:
	default:
		close(g.open)
	}
}

// wait blocks while the gate is held; false when the gate is shutting down.
func (g *Gate) wait() bool {
	g.mu.Lock()
	open := g.open
	g.mu.Unlock()
	select {
	case <-open:
		return true
	case <-g.closing:
		return false
	}
}

func (g *Gate) serve() {
	for {
		c, err := g.ln.Accept()
		if err != nil {
			return
		}
		g.wg.Go(func() {
			defer c.Close()
			up, err := net.Dial("tcp", g.upstream)
			if err != nil {
				return
			}
			defer up.Close()
			done := make(chan struct{}, 2)
			go func() { g.copy(up, c); done <- struct{}{} }()
			go func() { g.copy(c, up); done <- struct{}{} }()
			select {
			case <-done:
			case <-g.closing:
			}
		})
	}
}

// copy forwards src to dst chunk by chunk, each chunk waiting for the gate.
func (g *Gate) copy(dst io.Writer, src io.Reader) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !g.wait() {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

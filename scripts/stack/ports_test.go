package stack

import (
	"net"
	"strconv"
	"testing"
)

func TestPortPickerHoldsDistinctPortsBelowTheEphemeralRange(t *testing.T) {
	t.Parallel()
	var pp portPicker
	defer pp.releaseAll()
	lo, hi := pickRange()
	seen := map[int]bool{}
	for range 40 {
		p, err := pp.reserve()
		if err != nil {
			t.Fatal(err)
		}
		if seen[p] {
			t.Fatalf("port %d handed out twice", p)
		}
		seen[p] = true
		if hi > lo && (p < lo || p >= hi) {
			t.Errorf("port %d outside [%d, %d): the kernel's ephemeral range starts at %d", p, lo, hi, hi)
		}
		// Held: nothing else can bind it until it is released.
		if l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p))); err == nil {
			l.Close()
			t.Fatalf("port %d could be bound while reserved", p)
		}
	}
	for p := range seen {
		pp.release(p)
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			t.Fatalf("port %d not free after release: %v", p, err)
		}
		l.Close()
	}
	p, err := pp.pick()
	if err != nil {
		t.Fatal(err)
	}
	if seen[p] {
		t.Errorf("pick handed out %d again within the stack", p)
	}
}

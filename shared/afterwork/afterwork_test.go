package afterwork

import (
	"context"
	"testing"
)

// Work left in a request's queue waits for Close, in order; without a queue, or once it is
// closed, Do runs the work before returning.
func TestDo(t *testing.T) {
	t.Parallel()
	ran := 0
	if Do(context.Background(), func() { ran++ }) || ran != 1 {
		t.Fatalf("no queue: deferred, or ran %d times", ran)
	}
	ctx, q := With(context.Background())
	if q.Pending() {
		t.Error("a new queue has work")
	}
	var order []int
	if !Do(ctx, func() { order = append(order, 1) }) || !Do(ctx, func() { order = append(order, 2) }) {
		t.Fatal("work not left in the request's queue")
	}
	if len(order) != 0 || !q.Pending() {
		t.Fatalf("ran before Close (%v), or not pending", order)
	}
	fns := q.Close()
	if len(fns) != 2 || q.Pending() {
		t.Fatalf("Close returned %d, pending %v", len(fns), q.Pending())
	}
	for _, fn := range fns {
		fn()
	}
	if len(order) != 2 || order[0] != 1 || order[1] != 2 {
		t.Errorf("order %v", order)
	}
	if Do(ctx, func() { order = append(order, 3) }) || len(order) != 3 {
		t.Errorf("after Close: deferred, or not run (%v)", order)
	}
	if fns := q.Close(); len(fns) != 0 {
		t.Errorf("a second Close returned %d", len(fns))
	}
}

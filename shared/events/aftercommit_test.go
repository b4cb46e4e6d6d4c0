package events

import (
	"context"
	"testing"
	"time"
)

func TestAfterCommitContext(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		requestIn time.Duration // 0: no request deadline
		wantAbout time.Duration
	}{
		{"no request deadline: the limit", 0, 10 * time.Second},
		{"plenty of time: the limit", time.Minute, 10 * time.Second},
		{"request deadline less the reserve", 8 * time.Second, 6 * time.Second},
		{"nearly out of time: at least a second", 500 * time.Millisecond, time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			parent := context.Background()
			if tc.requestIn > 0 {
				var cancel context.CancelFunc
				parent, cancel = context.WithTimeout(parent, tc.requestIn)
				defer cancel()
			}
			parent, cancelParent := context.WithCancel(parent)
			ctx, cancel := AfterCommitContext(parent, 10*time.Second, 2*time.Second)
			defer cancel()
			cancelParent() // the client went away
			if ctx.Err() != nil {
				t.Fatal("the publish context ended with the request")
			}
			dl, ok := ctx.Deadline()
			if !ok {
				t.Fatal("no deadline")
			}
			// Generous bounds: only which rule applied is checked, not timing.
			if got := time.Until(dl); got > tc.wantAbout || got < tc.wantAbout-time.Second {
				t.Errorf("deadline in %s, want about %s", got, tc.wantAbout)
			}
		})
	}
}

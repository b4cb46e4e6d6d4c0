package events

import (
	"context"
	"time"
)

// minAfterCommit is the least time AfterCommitContext gives a publish.
const minAfterCommit = time.Second

// AfterCommitContext returns the context for publishing the event of a change that has
// committed: detached from the request's cancellation (the client going away must not
// lose the event), bounded by limit and, when the request has a deadline, by that
// deadline less reserve (kept for what follows a failed publish, such as recording the
// event in an outbox), but never less than a second. A publish that hangs during a
// Pub/Sub outage thus gives up in time for the client to be answered before its deadline.
func AfterCommitContext(ctx context.Context, limit, reserve time.Duration) (context.Context, context.CancelFunc) {
	d := limit
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl) - reserve; left < d {
			d = max(left, minAfterCommit)
		}
	}
	return context.WithTimeout(context.WithoutCancel(ctx), d)
}

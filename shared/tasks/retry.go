package tasks

import "time"

// RetryPolicy is a Cloud Tasks queue's retry configuration (its RetryConfig), which
// [Local] follows as Cloud Tasks does.
//
// A failed attempt (no answer within the dispatch deadline, or any status outside
// 200-299) is retried after [RetryPolicy.Backoff]. The task is given up only when it has
// been attempted MaxAttempts times and MaxRetryDuration has passed since its first
// attempt: both limits, not either.
type RetryPolicy struct {
	// MaxAttempts counts attempts, the first included; -1 means unlimited.
	MaxAttempts int
	// MinBackoff is the wait before the first retry. The wait doubles MaxDoublings
	// times, then grows linearly by MinBackoff*2^MaxDoublings per retry, and never
	// exceeds MaxBackoff.
	MinBackoff   time.Duration
	MaxBackoff   time.Duration
	MaxDoublings int
	// MaxRetryDuration is measured from the first attempt; 0 sets no age limit (the
	// task is given up after MaxAttempts alone).
	MaxRetryDuration time.Duration
}

// QueueRetry is the retry policy of each queue as terraform/tasks.tf configures it
// (terraform/tests checks that the two agree, from `go run ./scripts/deploy facts`).
// The local dispatcher uses it, so a worker outage plays out locally as in production.
var QueueRetry = map[string]RetryPolicy{
	// Scribe jobs: retried for a day at most every 10 minutes; the scribe sweeper
	// (shared/scribe) ends a session that still has no draft long before.
	QueueScribe: {MaxAttempts: 10, MinBackoff: 10 * time.Second, MaxBackoff: 600 * time.Second,
		MaxDoublings: 5, MaxRetryDuration: 24 * time.Hour},
	QueueSummaries: {MaxAttempts: 8, MinBackoff: 10 * time.Second, MaxBackoff: 600 * time.Second,
		MaxDoublings: 5, MaxRetryDuration: 12 * time.Hour},
	// Invitations and password resets: useless after 2 hours.
	QueueMail: {MaxAttempts: 10, MinBackoff: 10 * time.Second, MaxBackoff: 900 * time.Second,
		MaxDoublings: 4, MaxRetryDuration: 2 * time.Hour},
}

// Backoff is the wait after failed attempt number attempt (1 is the first attempt).
// With MinBackoff 10s, MaxBackoff 300s and MaxDoublings 3 the waits are 10s, 20s, 40s,
// 80s, 160s, 240s, 300s, 300s, ... (the example of the Cloud Tasks reference).
func (p RetryPolicy) Backoff(attempt int) time.Duration {
	d := p.MinBackoff
	step := p.MinBackoff << max(p.MaxDoublings, 0)
	for i := 1; i < attempt && d < p.MaxBackoff; i++ {
		if i <= p.MaxDoublings {
			d *= 2
		} else {
			d += step
		}
	}
	return min(d, p.MaxBackoff)
}

// Exhausted reports whether a task attempted attempts times, first at first, is given
// up at now.
func (p RetryPolicy) Exhausted(attempts int, first, now time.Time) bool {
	if p.MaxAttempts >= 0 && attempts < p.MaxAttempts {
		return false
	}
	if p.MaxAttempts < 0 && p.MaxRetryDuration <= 0 {
		return false // retried for ever
	}
	return p.MaxRetryDuration <= 0 || now.Sub(first) >= p.MaxRetryDuration
}

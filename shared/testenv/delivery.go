package testenv

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"
)

// DeliveryCopies is how many times the at-least-once tests deliver each message or task.
const DeliveryCopies = 3

// DeliveryRand returns the source of a delivery test's shuffles, seeded from
// MEDI_DELIVERY_SEED when set (else at random), and logs the seed so that a failing order
// can be replayed.
func DeliveryRand(t testing.TB) *rand.Rand {
	t.Helper()
	seed := rand.Uint64()
	if s := os.Getenv("MEDI_DELIVERY_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("MEDI_DELIVERY_SEED: %v", err)
		}
		seed = v
	}
	t.Logf("shuffle seed %d (MEDI_DELIVERY_SEED=%d replays this order)", seed, seed)
	return rand.New(rand.NewPCG(seed, 0))
}

// Redelivery is how a failed delivery is retried, as the subscription's or queue's retry
// policy would: up to Attempts tries, waiting attempt x Backoff between them.
type Redelivery struct {
	Attempts int
	Backoff  time.Duration
}

// DeliverShuffled delivers each of n messages copies times: every delivery runs in its
// own goroutine, all released together, started in an order shuffled by rng. A delivery
// that fails is redelivered as retry says; one that never succeeds fails the test.
// deliver gets the message index, the copy (which instance delivers it) and the attempt.
func DeliverShuffled(t testing.TB, rng *rand.Rand, n, copies int, retry Redelivery, deliver func(i, copy, attempt int) error) {
	t.Helper()
	type delivery struct{ i, copy int }
	var order []delivery
	for i := range n {
		for c := range copies {
			order = append(order, delivery{i, c})
		}
	}
	rng.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
	start := make(chan struct{})
	errs := make([]error, len(order))
	var wg sync.WaitGroup
	for k, d := range order {
		wg.Go(func() {
			<-start
			for attempt := 1; ; attempt++ {
				err := deliver(d.i, d.copy, attempt)
				if err == nil {
					return
				}
				if attempt >= retry.Attempts {
					errs[k] = fmt.Errorf("message %d copy %d: %w", d.i, d.copy, err)
					return
				}
				t.Logf("message %d copy %d attempt %d failed, redelivering: %v", d.i, d.copy, attempt, err)
				time.Sleep(time.Duration(attempt) * retry.Backoff)
			}
		})
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Errorf("delivery never succeeded: %v", err)
		}
	}
}

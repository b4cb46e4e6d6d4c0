package stack

import (
	"context"
	"sync"
	"time"

	"cloud.google.com/go/pubsub/v2"
)

// BoardTickInterval is how often the local stack asks for a queue board rebuild, as the
// Cloud Scheduler job queue-board-tick does in production (terraform/queue_board_tick.tf).
const BoardTickInterval = time.Minute

// boardTick is the rebuild request (shared/queue TypeRebuildRequested, every clinic).
var boardTick = []byte(`{"eventId":"queue-board-tick","type":"queue.rebuild_requested","schemaVersion":1,"clinicId":"","occurredAt":"2026-01-01T00:00:00Z","requestId":"","data":{}}`)

// Ticker publishes the board rebuild request on a schedule until stopped.
type Ticker struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	client *pubsub.Client
}

// StartTicker publishes boardTick on topic every interval.
func StartTicker(projectID, topic string, interval time.Duration) (*Ticker, error) {
	c, err := pubsub.NewClient(context.Background(), projectID)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	t := &Ticker{cancel: cancel, client: c}
	pub := c.Publisher(topic)
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		defer pub.Stop()
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				res := pub.Publish(ctx, &pubsub.Message{Data: boardTick, Attributes: map[string]string{
					"eventId": "queue-board-tick", "type": "queue.rebuild_requested", "schemaVersion": "1",
				}})
				_, _ = res.Get(ctx)
			}
		}
	}()
	return t, nil
}

// Stop ends the ticker.
func (t *Ticker) Stop() {
	t.cancel()
	t.wg.Wait()
	t.client.Close()
}

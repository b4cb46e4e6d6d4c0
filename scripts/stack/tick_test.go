package stack

import (
	"context"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"

	"github.com/medi-os/medi/shared/events"
	"github.com/medi-os/medi/shared/queue"
	"github.com/medi-os/medi/shared/testenv"
)

// TestTickerPublishesAValidRebuildRequest checks that the board tick (the local twin of
// the queue-board-tick scheduler job) is an envelope the projector accepts as a rebuild
// of every clinic's board.
func TestTickerPublishesAValidRebuildRequest(t *testing.T) {
	testenv.Require(t, "PUBSUB_EMULATOR_HOST")
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	project := testenv.ProjectID(t)
	c, err := pubsub.NewClient(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	topic := "projects/" + project + "/topics/encounter-events"
	if err := createTopic(ctx, c, topic); err != nil {
		t.Fatal(err)
	}
	if err := createSubscription(ctx, c, &pubsubpb.Subscription{Name: "projects/" + project + "/subscriptions/tick", Topic: topic}); err != nil {
		t.Fatal(err)
	}
	tk, err := StartTicker(project, "encounter-events", 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer tk.Stop()

	got := make(chan *pubsub.Message, 1)
	rctx, rcancel := context.WithCancel(ctx)
	go c.Subscriber("tick").Receive(rctx, func(_ context.Context, m *pubsub.Message) {
		m.Ack()
		select {
		case got <- m:
		default:
		}
		rcancel()
	})
	var m *pubsub.Message
	select {
	case m = <-got:
	case <-ctx.Done():
		t.Fatal("no tick published")
	}
	env, err := events.DecodeEnvelope(events.Message{ID: m.ID, Data: m.Data, Attributes: m.Attributes})
	if err != nil {
		t.Fatalf("tick is not a valid envelope: %v", err)
	}
	if env.Type != queue.TypeRebuildRequested || env.ClinicID != "" {
		t.Errorf("tick = type %q clinic %q, want a rebuild of every clinic", env.Type, env.ClinicID)
	}
}

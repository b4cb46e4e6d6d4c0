package deadletter_test

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/scripts/deadletter"
	"github.com/medi-os/medi/shared/testenv"
)

// sent is a message as published, and as a replay must publish it again.
type sent struct {
	Data        string
	Attributes  map[string]string
	OrderingKey string
}

// TestReplayRepublishesDeadLetters dead-letters three messages the way Pub/Sub does (a
// consumer refuses them on a subscription whose dead-letter policy allows 5 attempts),
// then replays the hold subscription as the runbook does: onto a topic that does not
// exist first (nothing acknowledged, all still held), then onto the source topic, where a
// consumer receives each message with its data, ordering key and the attributes it was
// published with (without those Pub/Sub added when it dead-lettered it), and the hold
// subscription is empty. A second replay finds nothing.
func TestReplayRepublishesDeadLetters(t *testing.T) {
	testenv.Require(t, "PUBSUB_EMULATOR_HOST")
	ctx := context.Background()
	c, err := pubsub.NewClient(ctx, testenv.ProjectID(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	topic := "encounter-events"
	path := func(kind, name string) string { return fmt.Sprintf("projects/%s/%s/%s", c.Project(), kind, name) }
	for _, name := range []string{topic, topic + "-dlq"} {
		if _, err := c.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: path("topics", name)}); err != nil {
			t.Fatal(err)
		}
	}
	hold := deadletter.HoldName(topic)
	if got := deadletter.SourceTopic(path("subscriptions", hold)); got != topic {
		t.Fatalf("SourceTopic(%s) = %q, want %q", hold, got, topic)
	}
	consumer := path("subscriptions", "queue-projector-"+topic)
	for _, s := range []*pubsubpb.Subscription{
		{Name: path("subscriptions", hold), Topic: path("topics", topic+"-dlq"), AckDeadlineSeconds: 60},
		{Name: consumer, Topic: path("topics", topic), AckDeadlineSeconds: 10,
			DeadLetterPolicy: &pubsubpb.DeadLetterPolicy{DeadLetterTopic: path("topics", topic+"-dlq"), MaxDeliveryAttempts: 5}},
	} {
		if _, err := c.SubscriptionAdminClient.CreateSubscription(ctx, s); err != nil {
			t.Fatal(err)
		}
	}

	pub := c.Publisher(topic)
	pub.EnableMessageOrdering = true
	var want []sent
	for i := range 3 {
		m := sent{Data: fmt.Sprintf(`{"eventId":"evt-%d"}`, i), Attributes: map[string]string{"eventId": fmt.Sprintf("evt-%d", i), "type": "encounter.checked_in"},
			OrderingKey: "clinic-dl"}
		if _, err := pub.Publish(ctx, &pubsub.Message{Data: []byte(m.Data), Attributes: m.Attributes, OrderingKey: m.OrderingKey}).Get(ctx); err != nil {
			t.Fatal(err)
		}
		want = append(want, m)
	}
	pub.Stop()

	// The consumer refuses every delivery until all three are dead-lettered.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		held, err := deadletter.Backlog(ctx, c, hold, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(held) == len(want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d messages dead-lettered after 2 minutes", len(held), len(want))
		}
		resp, err := c.SubscriptionAdminClient.Pull(ctx, &pubsubpb.PullRequest{Subscription: consumer, MaxMessages: 10})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, m := range resp.GetReceivedMessages() {
			ids = append(ids, m.GetAckId())
		}
		if len(ids) > 0 {
			if err := c.SubscriptionAdminClient.ModifyAckDeadline(ctx, &pubsubpb.ModifyAckDeadlineRequest{
				Subscription: consumer, AckIds: ids, AckDeadlineSeconds: 0}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Looking does not take them: a second look sees the same messages.
	held := waitHeld(t, c, hold, len(want))
	for _, m := range held {
		// Pub/Sub names the subscription that gave the message up.
		if src := m.Attributes["CloudPubSubDeadLetterSourceSubscription"]; src != "queue-projector-"+topic {
			t.Errorf("held message %s: source subscription %q, want queue-projector-%s", m.ID, src, topic)
		}
		if m.Attributes["eventId"] == "" || m.OrderingKey != "clinic-dl" {
			t.Errorf("held message %s: attributes %v, ordering key %q", m.ID, m.Attributes, m.OrderingKey)
		}
	}

	// A replay that cannot publish acknowledges nothing.
	if n, err := deadletter.Replay(ctx, c, hold, "no-such-topic", 0); err == nil || n != 0 {
		t.Fatalf("replay onto a missing topic: %d replayed, error %v; want 0 and an error", n, err)
	}
	waitHeld(t, c, hold, len(want))

	// The replay proper, onto the source topic (named by the hold subscription).
	after := path("subscriptions", "after-replay")
	if _, err := c.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{
		Name: after, Topic: path("topics", topic), AckDeadlineSeconds: 60, EnableMessageOrdering: true}); err != nil {
		t.Fatal(err)
	}
	if n, err := deadletter.Replay(ctx, c, hold, "", 0); err != nil || n != len(want) {
		t.Fatalf("replay: %d replayed, error %v; want %d", n, err, len(want))
	}
	var got []sent
	pctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for len(got) < len(want) {
		resp, err := c.SubscriptionAdminClient.Pull(pctx, &pubsubpb.PullRequest{Subscription: after, MaxMessages: 10})
		if err != nil {
			t.Fatalf("receiving the replayed messages (%d of %d so far): %v", len(got), len(want), err)
		}
		var ids []string
		for _, m := range resp.GetReceivedMessages() {
			pm := m.GetMessage()
			got = append(got, sent{Data: string(pm.GetData()), Attributes: pm.GetAttributes(), OrderingKey: pm.GetOrderingKey()})
			ids = append(ids, m.GetAckId())
		}
		if len(ids) > 0 {
			if err := c.SubscriptionAdminClient.Acknowledge(ctx, &pubsubpb.AcknowledgeRequest{Subscription: after, AckIds: ids}); err != nil {
				t.Fatal(err)
			}
		}
	}
	sort.Slice(got, func(i, j int) bool { return got[i].Data < got[j].Data })
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("replayed messages (-published +received):\n%s", diff)
	}
	waitHeld(t, c, hold, 0)
	if n, err := deadletter.Replay(ctx, c, hold, "", 0); err != nil || n != 0 {
		t.Errorf("second replay: %d replayed, error %v; want 0", n, err)
	}
}

// waitHeld waits (bounded) until hold keeps n messages; a message handed back becomes
// visible again after a moment.
func waitHeld(t *testing.T, c *pubsub.Client, hold string, n int) []deadletter.Message {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		held, err := deadletter.Backlog(context.Background(), c, hold, 10)
		if err == nil && len(held) == n {
			return held
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s holds %d message(s) (%v), want %d", hold, len(held), err, n)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

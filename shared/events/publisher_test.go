package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/shared/testenv"
)

// newPubSub returns a client of the Pub/Sub emulator in a project of this test's own.
func newPubSub(t *testing.T) *pubsub.Client {
	t.Helper()
	testenv.Require(t, "PUBSUB_EMULATOR_HOST")
	client, err := pubsub.NewClient(context.Background(), testenv.ProjectID(t))
	if err != nil {
		t.Fatalf("pubsub.NewClient: %v", err)
	}
	t.Cleanup(func() { _ = client.Close() })
	return client
}

func topicName(c *pubsub.Client, id string) string {
	return fmt.Sprintf("projects/%s/topics/%s", c.Project(), id)
}

// createTopicAndSubscription creates topic id and a pull subscription "<id>-sub".
func createTopicAndSubscription(t *testing.T, c *pubsub.Client, id string, ordered bool) string {
	t.Helper()
	ctx := context.Background()
	if _, err := c.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: topicName(c, id)}); err != nil {
		t.Fatalf("CreateTopic: %v", err)
	}
	sub := fmt.Sprintf("projects/%s/subscriptions/%s-sub", c.Project(), id)
	if _, err := c.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{
		Name:                  sub,
		Topic:                 topicName(c, id),
		AckDeadlineSeconds:    60,
		EnableMessageOrdering: ordered,
	}); err != nil {
		t.Fatalf("CreateSubscription: %v", err)
	}
	return sub
}

// pull receives and acknowledges n messages from sub, in delivery order.
func pull(t *testing.T, c *pubsub.Client, sub string, n int) []*pubsubpb.PubsubMessage {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var got []*pubsubpb.PubsubMessage
	for len(got) < n {
		resp, err := c.SubscriptionAdminClient.Pull(ctx, &pubsubpb.PullRequest{Subscription: sub, MaxMessages: int32(n - len(got))})
		if err != nil {
			t.Fatalf("Pull after %d of %d messages: %v", len(got), n, err)
		}
		var ackIDs []string
		for _, rm := range resp.GetReceivedMessages() {
			got = append(got, rm.GetMessage())
			ackIDs = append(ackIDs, rm.GetAckId())
		}
		if len(ackIDs) > 0 {
			if err := c.SubscriptionAdminClient.Acknowledge(ctx, &pubsubpb.AcknowledgeRequest{Subscription: sub, AckIds: ackIDs}); err != nil {
				t.Fatalf("Acknowledge: %v", err)
			}
		}
	}
	return got
}

func TestPubSubPublisher_Publish(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	client := newPubSub(t)
	sub := createTopicAndSubscription(t, client, "encounter-events", false)
	p := NewPubSubPublisher(client)
	t.Cleanup(func() { _ = p.Close() })

	env := validEnvelope(t)
	serverID, err := p.Publish(ctx, "encounter-events", env, "")
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if serverID == "" {
		t.Fatal("Publish returned an empty server id")
	}

	msgs := pull(t, client, sub, 1)
	m := msgs[0]
	if got, want := m.GetMessageId(), serverID; got != want {
		t.Errorf("message id = %q, want %q (returned by Publish)", got, want)
	}
	if got := m.GetOrderingKey(); got != "" {
		t.Errorf("ordering key = %q, want none", got)
	}
	wantAttrs := map[string]string{
		"eventId":       env.EventID,
		"type":          "encounter.triaged",
		"schemaVersion": "1",
		"clinicId":      "clinic-42",
	}
	if diff := cmp.Diff(wantAttrs, m.GetAttributes()); diff != "" {
		t.Errorf("attributes mismatch (-want +got):\n%s", diff)
	}
	var gotEnv Envelope
	if err := json.Unmarshal(m.GetData(), &gotEnv); err != nil {
		t.Fatalf("payload is not an envelope: %v", err)
	}
	if diff := cmp.Diff(env, gotEnv); diff != "" {
		t.Errorf("payload mismatch (-want +got):\n%s", diff)
	}

	// What the subscriber function gets from Eventarc decodes to the same envelope.
	ce := newCloudEvent(t, m.GetMessageId(), CloudEventPubSubPublished, pubsubSource, m.GetPublishTime().AsTime(),
		pubsubData(m.GetMessageId(), m.GetData(), m.GetAttributes(), m.GetOrderingKey(), m.GetPublishTime().AsTime()))
	msg, err := DecodePubSub(ce)
	if err != nil {
		t.Fatalf("DecodePubSub: %v", err)
	}
	decoded, err := DecodeEnvelope(msg)
	if err != nil {
		t.Fatalf("DecodeEnvelope: %v", err)
	}
	if diff := cmp.Diff(env, decoded); diff != "" {
		t.Errorf("round trip mismatch (-want +got):\n%s", diff)
	}
}

func TestPubSubPublisher_OrderingKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	client := newPubSub(t)
	sub := createTopicAndSubscription(t, client, "note-events", true)
	p := NewPubSubPublisher(client)
	t.Cleanup(func() { _ = p.Close() })

	var want []string
	for i := range 5 {
		env := validEnvelope(t).WithIdempotencyKey(fmt.Sprintf("enc-7/%d", i))
		if _, err := p.Publish(ctx, topicName(client, "note-events"), env, "enc-7"); err != nil {
			t.Fatalf("Publish %d: %v", i, err)
		}
		want = append(want, env.EventID)
	}

	var got []string
	for _, m := range pull(t, client, sub, len(want)) {
		if k := m.GetOrderingKey(); k != "enc-7" {
			t.Errorf("message %s ordering key = %q, want %q", m.GetMessageId(), k, "enc-7")
		}
		got = append(got, m.GetAttributes()[AttrEventID])
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("delivery order mismatch (-published +delivered):\n%s", diff)
	}
}

func TestPubSubPublisher_ResumesOrderingKeyAfterFailure(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	client := newPubSub(t)
	p := NewPubSubPublisher(client)
	t.Cleanup(func() { _ = p.Close() })

	// The topic does not exist yet: the publish fails and pauses the ordering key.
	env := validEnvelope(t)
	if _, err := p.Publish(ctx, "late-topic", env, "enc-7"); err == nil {
		t.Fatal("Publish to a missing topic succeeded")
	}

	sub := createTopicAndSubscription(t, client, "late-topic", true)
	id, err := p.Publish(ctx, "late-topic", env, "enc-7")
	if err != nil {
		t.Fatalf("Publish after the failure (key still paused?): %v", err)
	}
	if got := pull(t, client, sub, 1)[0].GetMessageId(); got != id {
		t.Errorf("received message %q, want %q", got, id)
	}
}

func TestPubSubPublisher_Refuses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	client := newPubSub(t)
	createTopicAndSubscription(t, client, "encounter-events", false)
	p := NewPubSubPublisher(client)

	invalid := validEnvelope(t)
	invalid.SchemaVersion = 0
	if _, err := p.Publish(ctx, "encounter-events", invalid, ""); !IsPermanent(err) {
		t.Errorf("Publish of an invalid envelope: err = %v, want permanent", err)
	}
	if _, err := p.Publish(ctx, "", validEnvelope(t), ""); err == nil {
		t.Error("Publish without a topic succeeded")
	}
	if _, err := p.Publish(ctx, "encounter-events", validEnvelope(t), ""); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := p.Publish(ctx, "encounter-events", validEnvelope(t), ""); !errors.Is(err, ErrPublisherClosed) {
		t.Errorf("Publish after Close: err = %v, want ErrPublisherClosed", err)
	}
}

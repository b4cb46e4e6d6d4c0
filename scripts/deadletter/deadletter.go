// Package deadletter looks at and replays the messages held in a dead-letter "hold"
// subscription (<topic>-dlq-hold on <topic>-dlq), in production (Application Default
// Credentials) and on the local stack (PUBSUB_EMULATOR_HOST) alike. The runbook
// docs/runbooks/dead-letter-backlog.md drives it through scripts/cmd/deadletters; the
// local stack's dead-letter alert counts with Backlog.
package deadletter

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// HoldSuffix ends the name of every dead-letter hold subscription (Terraform's
// modules/pubsub_topic and the local stack name them <topic>-dlq-hold).
const HoldSuffix = "-dlq-hold"

// pullWait bounds one pull of a hold subscription: a pull that finds nothing returns
// when it ends (the emulator ignores return_immediately).
const pullWait = 3 * time.Second

// batch is how many messages one pull takes.
const batch = 100

// HoldName is the hold subscription of topic's dead-letter topic.
func HoldName(topic string) string { return topic + HoldSuffix }

// SourceTopic is the topic whose dead letters hold subscription sub keeps
// ("encounter-events-dlq-hold" -> "encounter-events"), or "" when sub is not one.
func SourceTopic(sub string) string {
	sub = sub[strings.LastIndex(sub, "/")+1:]
	t, ok := strings.CutSuffix(sub, HoldSuffix)
	if !ok {
		return ""
	}
	return t
}

// Message is what an operator sees of a dead letter: ids and attributes, never the
// body (it references patients by id).
type Message struct {
	ID          string
	Attributes  map[string]string
	OrderingKey string
	PublishTime time.Time
	// Attempts is how often the source subscription tried to deliver it.
	Attempts int
}

// Backlog pulls up to limit messages of hold subscription sub, returns them and hands
// them straight back (ack deadline 0), so they stay for the replay.
func Backlog(ctx context.Context, c *pubsub.Client, sub string, limit int) ([]Message, error) {
	msgs, err := pull(ctx, c, subPath(c, sub), limit)
	if err != nil {
		return nil, err
	}
	var out []Message
	var ids []string
	for _, m := range msgs {
		ids = append(ids, m.GetAckId())
		pm := m.GetMessage()
		out = append(out, Message{ID: pm.GetMessageId(), Attributes: pm.GetAttributes(), OrderingKey: pm.GetOrderingKey(),
			PublishTime: pm.GetPublishTime().AsTime(), Attempts: int(m.GetDeliveryAttempt())})
	}
	if err := release(context.WithoutCancel(ctx), c, subPath(c, sub), ids); err != nil {
		return out, err
	}
	return out, nil
}

// Replay republishes the messages held by hold subscription sub onto topic (its source
// topic when empty), each with its data, ordering key and the attributes it was
// published with (not those Pub/Sub added when it dead-lettered it), and acknowledges
// each one only once the topic has accepted its copy. It stops after limit messages
// (all of them when limit <= 0) or when a pull finds none, and returns how many it
// replayed. A message whose publish fails is handed back to the hold subscription and
// the replay stops with the error. Consumers dedupe on the event id, so a message
// replayed twice (an acknowledgement lost after its publish) is handled once.
func Replay(ctx context.Context, c *pubsub.Client, sub, topic string, limit int) (int, error) {
	if topic == "" {
		topic = SourceTopic(sub)
	}
	if topic == "" {
		return 0, fmt.Errorf("deadletter: %s is not a hold subscription (<topic>%s); name the topic", sub, HoldSuffix)
	}
	pub := c.Publisher(topicPath(c, topic))
	pub.EnableMessageOrdering = true
	defer pub.Stop()
	n := 0
	for limit <= 0 || n < limit {
		want := batch
		if limit > 0 {
			want = min(want, limit-n)
		}
		msgs, err := pull(ctx, c, subPath(c, sub), want)
		if err != nil {
			return n, err
		}
		if len(msgs) == 0 {
			return n, nil
		}
		for i, m := range msgs {
			pm := m.GetMessage()
			res := pub.Publish(ctx, &pubsub.Message{Data: pm.GetData(), Attributes: original(pm.GetAttributes()), OrderingKey: pm.GetOrderingKey()})
			if _, err := res.Get(ctx); err != nil {
				var rest []string
				for _, m := range msgs[i:] {
					rest = append(rest, m.GetAckId())
				}
				return n, errors.Join(fmt.Errorf("deadletter: republish message %s: %w", pm.GetMessageId(), err),
					release(context.WithoutCancel(ctx), c, subPath(c, sub), rest))
			}
			if err := c.SubscriptionAdminClient.Acknowledge(ctx, &pubsubpb.AcknowledgeRequest{
				Subscription: subPath(c, sub), AckIds: []string{m.GetAckId()},
			}); err != nil {
				return n, fmt.Errorf("deadletter: acknowledge message %s (republished; a second replay sends it again, which consumers ignore): %w", pm.GetMessageId(), err)
			}
			n++
		}
	}
	return n, nil
}

// deadLetterAttribute starts the attributes Pub/Sub adds to a message it dead-letters
// (source subscription, its project, delivery count, first publish time).
const deadLetterAttribute = "CloudPubSubDeadLetter"

// original returns a dead letter's attributes without those Pub/Sub added when it
// dead-lettered the message: the attributes it was published with.
func original(attrs map[string]string) map[string]string {
	out := make(map[string]string, len(attrs))
	for k, v := range attrs {
		if !strings.HasPrefix(k, deadLetterAttribute) {
			out[k] = v
		}
	}
	return out
}

// pull takes up to max messages of sub, waiting at most pullWait when there are none.
func pull(ctx context.Context, c *pubsub.Client, sub string, max int) ([]*pubsubpb.ReceivedMessage, error) {
	if max <= 0 {
		max = batch
	}
	pctx, cancel := context.WithTimeout(ctx, pullWait)
	defer cancel()
	resp, err := c.SubscriptionAdminClient.Pull(pctx, &pubsubpb.PullRequest{Subscription: sub, MaxMessages: int32(max)})
	if err != nil {
		if ctx.Err() == nil && (pctx.Err() != nil || status.Code(err) == codes.DeadlineExceeded) {
			return nil, nil // nothing held
		}
		return nil, fmt.Errorf("deadletter: pull %s: %w", sub, err)
	}
	return resp.GetReceivedMessages(), nil
}

// release hands pulled messages back at once.
func release(ctx context.Context, c *pubsub.Client, sub string, ackIDs []string) error {
	if len(ackIDs) == 0 {
		return nil
	}
	if err := c.SubscriptionAdminClient.ModifyAckDeadline(ctx, &pubsubpb.ModifyAckDeadlineRequest{
		Subscription: sub, AckIds: ackIDs, AckDeadlineSeconds: 0,
	}); err != nil {
		return fmt.Errorf("deadletter: hand back %d message(s) of %s: %w", len(ackIDs), sub, err)
	}
	return nil
}

func subPath(c *pubsub.Client, sub string) string {
	if strings.HasPrefix(sub, "projects/") {
		return sub
	}
	return "projects/" + c.Project() + "/subscriptions/" + sub
}

func topicPath(c *pubsub.Client, topic string) string {
	if strings.HasPrefix(topic, "projects/") {
		return topic
	}
	return "projects/" + c.Project() + "/topics/" + topic
}

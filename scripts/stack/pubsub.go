package stack

import (
	"context"
	"fmt"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/medi-os/medi/scripts/deadletter"
)

// maxDeliveryAttempts before a message goes to the dead-letter topic (as in Terraform).
const maxDeliveryAttempts = 5

// setupPubSub creates the topics with their dead-letter topics, a push subscription per
// Pub/Sub-triggered function (its endpoint path carries projects/P/topics/T so the
// functions framework fills the CloudEvent source, as Eventarc's does), and the uploads
// notification topic with the pull subscription the Eventarc bridge reads, and for every
// dead-letter topic its hold subscription <topic>-dlq-hold.
func (s *Stack) setupPubSub(ctx context.Context) error {
	c, err := pubsub.NewClient(ctx, s.cfg.ProjectID)
	if err != nil {
		return err
	}
	defer c.Close()
	topics := append([]string{}, Topics...)
	topics = append(topics, UploadsNotificationTopic)
	for _, t := range topics {
		for _, name := range []string{t, t + "-dlq"} {
			if err := createTopic(ctx, c, s.topicPath(name)); err != nil {
				return err
			}
		}
		// Where dead letters wait for an operator, as in production
		// (terraform/modules/pubsub_topic): the end of the line, no dead-letter policy.
		hold := &pubsubpb.Subscription{
			Name:                     s.subPath(deadletter.HoldName(t)),
			Topic:                    s.topicPath(t + "-dlq"),
			AckDeadlineSeconds:       60,
			MessageRetentionDuration: durationpb.New(7 * 24 * time.Hour),
		}
		if err := createSubscription(ctx, c, hold); err != nil {
			return err
		}
	}
	if s.cfg.Functions {
		for _, f := range Functions {
			if f.Trigger != TriggerPubSub {
				continue
			}
			endpoint := fmt.Sprintf("%s/%s", s.FunctionURL(f.Name), s.topicPath(f.Topic))
			sub := &pubsubpb.Subscription{
				Name:                  s.subPath(f.Name + "-" + f.Topic),
				Topic:                 s.topicPath(f.Topic),
				PushConfig:            &pubsubpb.PushConfig{PushEndpoint: endpoint},
				AckDeadlineSeconds:    60,
				EnableMessageOrdering: f.Ordered,
				DeadLetterPolicy: &pubsubpb.DeadLetterPolicy{
					DeadLetterTopic:     s.topicPath(f.Topic + "-dlq"),
					MaxDeliveryAttempts: maxDeliveryAttempts,
				},
				RetryPolicy: &pubsubpb.RetryPolicy{
					MinimumBackoff: durationpb.New(1e9),
					MaximumBackoff: durationpb.New(60e9),
				},
			}
			if err := createSubscription(ctx, c, sub); err != nil {
				return err
			}
		}
	}
	bridgeSub := &pubsubpb.Subscription{
		Name:               s.subPath(bridgeSubscription),
		Topic:              s.topicPath(UploadsNotificationTopic),
		AckDeadlineSeconds: 60,
		DeadLetterPolicy: &pubsubpb.DeadLetterPolicy{
			DeadLetterTopic:     s.topicPath(UploadsNotificationTopic + "-dlq"),
			MaxDeliveryAttempts: maxDeliveryAttempts,
		},
	}
	return createSubscription(ctx, c, bridgeSub)
}

const bridgeSubscription = "eventarc-bridge-uploads"

func (s *Stack) topicPath(t string) string { return "projects/" + s.cfg.ProjectID + "/topics/" + t }
func (s *Stack) subPath(n string) string {
	return "projects/" + s.cfg.ProjectID + "/subscriptions/" + n
}

func createTopic(ctx context.Context, c *pubsub.Client, name string) error {
	_, err := c.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: name})
	if status.Code(err) == codes.AlreadyExists {
		return nil
	}
	if err != nil {
		return fmt.Errorf("creating topic %s: %w", name, err)
	}
	return nil
}

func createSubscription(ctx context.Context, c *pubsub.Client, sub *pubsubpb.Subscription) error {
	_, err := c.SubscriptionAdminClient.CreateSubscription(ctx, sub)
	if status.Code(err) == codes.AlreadyExists {
		return nil
	}
	if err != nil {
		return fmt.Errorf("creating subscription %s: %w", sub.Name, err)
	}
	return nil
}

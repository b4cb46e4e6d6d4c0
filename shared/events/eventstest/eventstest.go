// Package eventstest builds the CloudEvents the functions framework hands a Pub/Sub
// consumer, for the consumers' tests.
package eventstest

import (
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/medi-os/medi/shared/events"
)

// Push is the CloudEvent the functions framework makes of a Pub/Sub push of env on topic
// (project "demo"): the message id is also the CloudEvent id, as on every redelivery of
// the same message.
func Push(t testing.TB, msgID, topic string, env events.Envelope) event.Event {
	t.Helper()
	payload, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	ce := event.New()
	ce.SetID(msgID)
	ce.SetType(events.CloudEventPubSubPublished)
	ce.SetSource("//pubsub.googleapis.com/projects/demo/topics/" + topic)
	ce.SetTime(time.Now())
	if err := ce.SetData(event.ApplicationJSON, map[string]any{
		"message": map[string]any{
			"data": base64.StdEncoding.EncodeToString(payload), "messageId": msgID,
			"publishTime": time.Now().UTC().Format(time.RFC3339Nano), "attributes": env.Attributes(),
		},
		"subscription": "projects/demo/subscriptions/" + topic,
	}); err != nil {
		t.Fatal(err)
	}
	return ce
}

package scribeingest_test

import (
	"context"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/medi-os/medi/functions/scribeingest"
	"github.com/medi-os/medi/shared/config"
)

// Events that can never be processed are acknowledged (dropped after logging), not
// retried: their handling needs no backend at all.
func TestIngestDropsUnusableEvents(t *testing.T) {
	t.Parallel()
	h, err := scribeingest.Function.Handler(context.Background(), &scribeingest.Config{
		Base: config.Base{ProjectID: "demo-ingest-test", Tier: config.Dev, Version: "test"}, UploadsBucket: "uploads",
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, ce := range map[string]func() event.Event{
		"wrong type": func() event.Event {
			e := event.New()
			e.SetID("1")
			e.SetType("google.cloud.pubsub.topic.v1.messagePublished")
			e.SetSource("//pubsub")
			return e
		},
		"no data": func() event.Event {
			e := event.New()
			e.SetID("2")
			e.SetType("google.cloud.storage.object.v1.finalized")
			e.SetSource("//storage.googleapis.com/projects/_/buckets/uploads")
			return e
		},
	} {
		if err := h(context.Background(), ce()); err != nil {
			t.Errorf("%s: %v, want nil (dropped)", name, err)
		}
	}
}

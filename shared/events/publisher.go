package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"cloud.google.com/go/pubsub/v2"
)

// Publisher publishes envelopes to a Pub/Sub topic and returns the server-assigned
// message id once the service has accepted the message.
//
// orderingKey, when non-empty, makes messages with the same key reach ordered
// subscriptions in publish order (e.g. the encounter id for encounter-events). It is an
// identifier, never patient data.
type Publisher interface {
	Publish(ctx context.Context, topic string, e Envelope, orderingKey string) (serverID string, err error)
}

// ErrPublisherClosed is returned by Publish after Close.
var ErrPublisherClosed = errors.New("events: publisher is closed")

// PubSubPublisher implements Publisher with cloud.google.com/go/pubsub/v2. It keeps one
// pubsub.Publisher (with its batching goroutines) per topic for the life of the process;
// call Close on shutdown to flush them. It is safe for concurrent use.
type PubSubPublisher struct {
	client *pubsub.Client

	mu     sync.Mutex
	topics map[string]*pubsub.Publisher
	closed bool
}

var _ Publisher = (*PubSubPublisher)(nil)

// publishDelay is how long a publish waits for others to batch with.
const publishDelay = time.Millisecond

// NewPubSubPublisher returns a publisher over client. The caller owns client (creates it
// lazily, once per process, and closes it after Close).
func NewPubSubPublisher(client *pubsub.Client) *PubSubPublisher {
	return &PubSubPublisher{client: client, topics: make(map[string]*pubsub.Publisher)}
}

// publisher returns the cached publisher for topic (a topic id or a full
// "projects/p/topics/t" name), creating it on first use.
//
// Message ordering is enabled on every cached publisher: the setting has to be fixed
// before the first Publish, it only permits ordering keys, and messages without a key
// are still sent concurrently.
func (p *PubSubPublisher) publisher(topic string) (*pubsub.Publisher, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, ErrPublisherClosed
	}
	if t, ok := p.topics[topic]; ok {
		return t, nil
	}
	t := p.client.Publisher(topic)
	t.EnableMessageOrdering = true
	// Every publish here is awaited by a request after its commit: the client library's
	// default wait for more messages to batch with (10 ms) would be added to every such
	// request. Concurrent publishes still share a batch.
	t.PublishSettings.DelayThreshold = publishDelay
	p.topics[topic] = t
	return t, nil
}

// Publish validates e, publishes it as JSON with identifier-only attributes and waits
// for the server's message id (or ctx). After a failed publish with an ordering key it
// resumes the key, so later events for that key are not refused; the caller decides
// whether to retry the failed one.
func (p *PubSubPublisher) Publish(ctx context.Context, topic string, e Envelope, orderingKey string) (string, error) {
	if topic == "" {
		return "", errors.New("events: publish: topic is empty")
	}
	if err := e.Validate(); err != nil {
		return "", err
	}
	body, err := json.Marshal(e)
	if err != nil {
		return "", fmt.Errorf("events: encode %s event %q: %w", e.Type, e.EventID, err)
	}
	t, err := p.publisher(topic)
	if err != nil {
		return "", err
	}
	res := t.Publish(ctx, &pubsub.Message{
		Data:        body,
		Attributes:  e.Attributes(),
		OrderingKey: orderingKey,
	})
	id, err := res.Get(ctx)
	if err != nil {
		if orderingKey != "" {
			t.ResumePublish(orderingKey)
		}
		return "", fmt.Errorf("events: publish %s event %q to %s: %w", e.Type, e.EventID, topic, err)
	}
	return id, nil
}

// Close flushes outstanding messages and stops every cached publisher; later Publish
// calls fail with ErrPublisherClosed. It does not close the pubsub.Client. Close blocks
// until the flush ends (each publisher's PublishSettings.Timeout bounds it). The error
// is always nil; it is there so PubSubPublisher is an io.Closer.
func (p *PubSubPublisher) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	topics := p.topics
	p.topics = nil
	p.mu.Unlock()

	var wg sync.WaitGroup
	for _, t := range topics {
		wg.Go(t.Stop)
	}
	wg.Wait()
	return nil
}

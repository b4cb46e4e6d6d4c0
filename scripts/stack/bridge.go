package stack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"cloud.google.com/go/pubsub/v2"
)

// Bridge plays Eventarc for the local stack: it reads the uploads bucket's object
// notifications (JSON_API_V1 payloads published by fake-gcs-server) from a pull
// subscription and delivers each as a binary-mode CloudEvent
// google.cloud.storage.object.v1.finalized to the target function, acking on 2xx and
// nacking otherwise so that Pub/Sub redelivers (Eventarc retries the same way).
type Bridge struct {
	client *pubsub.Client
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// StartBridge starts delivering notifications from subscription subID to target.
func StartBridge(ctx context.Context, projectID, subID, target string) (*Bridge, error) {
	c, err := pubsub.NewClient(ctx, projectID)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &Bridge{client: c, cancel: cancel}
	httpc := &http.Client{Timeout: 60 * time.Second}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		_ = c.Subscriber(subID).Receive(ctx, func(ctx context.Context, m *pubsub.Message) {
			if err := deliverStorageEvent(ctx, httpc, target, m); err != nil {
				m.Nack()
				return
			}
			m.Ack()
		})
	}()
	return b, nil
}

// Stop ends delivery.
func (b *Bridge) Stop() {
	b.cancel()
	b.wg.Wait()
	b.client.Close()
}

func deliverStorageEvent(ctx context.Context, c *http.Client, target string, m *pubsub.Message) error {
	if m.Attributes["eventType"] != "OBJECT_FINALIZE" {
		return nil // only finalize events are routed, as the Eventarc trigger filters them
	}
	var obj struct {
		Bucket string `json:"bucket"`
		Name   string `json:"name"`
	}
	if err := json.Unmarshal(m.Data, &obj); err != nil || obj.Bucket == "" || obj.Name == "" {
		return nil // not a storage object: drop it, nothing would ever accept it
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(m.Data))
	if err != nil {
		return err
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("Ce-Id", m.ID)
	h.Set("Ce-Specversion", "1.0")
	h.Set("Ce-Type", "google.cloud.storage.object.v1.finalized")
	h.Set("Ce-Source", "//storage.googleapis.com/projects/_/buckets/"+obj.Bucket)
	h.Set("Ce-Subject", "objects/"+obj.Name)
	h.Set("Ce-Time", m.PublishTime.UTC().Format(time.RFC3339Nano))
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("target answered %d", resp.StatusCode)
	}
	return nil
}

func (s *Stack) startBridge(ctx context.Context) error {
	for _, f := range Functions {
		if f.Trigger != TriggerStorage {
			continue
		}
		b, err := StartBridge(ctx, s.cfg.ProjectID, bridgeSubscription, s.FunctionURL(f.Name)+"/")
		if err != nil {
			return err
		}
		s.bridge = b
	}
	return nil
}

package events

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/shared/logging"
)

var handleNow = time.Date(2025, 3, 4, 12, 0, 0, 0, time.UTC)

// logBuffer collects JSON log lines; slog serialises writes to it.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if strings.Contains(b.buf.String(), patientMarker) {
		t.Errorf("logs contain payload data:\n%s", b.buf.String())
	}
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		out = append(out, m)
	}
	return out
}

// summary keeps the fields of log lines that tests assert on.
func (b *logBuffer) summary(t *testing.T, fields ...string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range b.lines(t) {
		m := map[string]any{"severity": l["severity"], "message": l["message"]}
		for _, f := range fields {
			if v, ok := l[f]; ok {
				m[f] = v
			}
		}
		out = append(out, m)
	}
	return out
}

func testOptions(logs *logBuffer) HandleOptions {
	return HandleOptions{
		ProjectID: "demo-medi",
		Logger:    logging.New(logs, slog.LevelDebug),
		Now:       func() time.Time { return handleNow },
	}
}

// envelopeEvent is a messagePublished CloudEvent carrying env, published at at.
func envelopeEvent(t *testing.T, msgID string, env Envelope, at time.Time) event.Event {
	t.Helper()
	payload, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return newCloudEvent(t, msgID, CloudEventPubSubPublished, pubsubSource, at,
		pubsubData(msgID, payload, env.Attributes(), "", at))
}

func TestHandle_RetryOrDrop(t *testing.T) {
	t.Parallel()
	transient := errors.New("firestore unavailable")
	tests := []struct {
		name      string
		eventTime time.Time
		maxAge    time.Duration
		fnErr     error
		wantRun   bool
		wantErr   error
		wantLogs  []map[string]any
	}{
		{
			name:      "success",
			eventTime: handleNow.Add(-time.Minute),
			wantRun:   true,
			wantLogs:  []map[string]any{{"severity": "INFO", "message": "working"}},
		},
		{
			name:      "transient error is returned for retry",
			eventTime: handleNow.Add(-time.Minute),
			fnErr:     transient,
			wantRun:   true,
			wantErr:   transient,
			wantLogs: []map[string]any{
				{"severity": "INFO", "message": "working"},
				{"severity": "WARNING", "message": "event failed; it will be retried", "error": "firestore unavailable"},
			},
		},
		{
			name:      "permanent error is logged and dropped",
			eventTime: handleNow.Add(-time.Minute),
			fnErr:     fmt.Errorf("encounter enc-7: %w", Permanent(errors.New("unknown schema version 9"))),
			wantRun:   true,
			wantLogs: []map[string]any{
				{"severity": "INFO", "message": "working"},
				{"severity": "ERROR", "message": "dropping event after a permanent failure", "error": "encounter enc-7: unknown schema version 9"},
			},
		},
		{
			name:      "event older than the default cut-off is dropped",
			eventTime: handleNow.Add(-25 * time.Hour),
			fnErr:     transient,
			wantLogs:  []map[string]any{{"severity": "WARNING", "message": "dropping event older than the cut-off", "age": float64(25 * time.Hour)}},
		},
		{
			name:      "event just inside the cut-off runs",
			eventTime: handleNow.Add(-24 * time.Hour),
			wantRun:   true,
			wantLogs:  []map[string]any{{"severity": "INFO", "message": "working"}},
		},
		{
			name:      "custom cut-off",
			eventTime: handleNow.Add(-2 * time.Hour),
			maxAge:    time.Hour,
			wantLogs:  []map[string]any{{"severity": "WARNING", "message": "dropping event older than the cut-off", "age": float64(2 * time.Hour)}},
		},
		{
			name:      "negative cut-off disables the check",
			eventTime: handleNow.Add(-30 * 24 * time.Hour),
			maxAge:    -1,
			wantRun:   true,
			wantLogs:  []map[string]any{{"severity": "INFO", "message": "working"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var logs logBuffer
			opts := testOptions(&logs)
			opts.MaxAge = tc.maxAge
			ce := newCloudEvent(t, "ce-123", CloudEventStorageFinalized, storageSource, tc.eventTime,
				`{"bucket":"b","name":"`+patientMarker+`","generation":"1"}`)

			ran := false
			err := Handle(context.Background(), ce, opts, func(ctx context.Context) error {
				ran = true
				logging.FromContext(ctx).InfoContext(ctx, "working")
				return tc.fnErr
			})
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Errorf("Handle = %v, want %v", err, tc.wantErr)
			}
			if ran != tc.wantRun {
				t.Errorf("fn ran = %v, want %v", ran, tc.wantRun)
			}
			if diff := cmp.Diff(tc.wantLogs, logs.summary(t, "error", "age")); diff != "" {
				t.Errorf("logs mismatch (-want +got):\n%s", diff)
			}
			for _, l := range logs.lines(t) {
				if l["cloudEventId"] != "ce-123" || l["cloudEventType"] != CloudEventStorageFinalized {
					t.Errorf("log line lacks the event id and type: %v", l)
				}
			}
		})
	}
}

func TestHandle_Trace(t *testing.T) {
	t.Parallel()
	const traceID, spanID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	tests := []struct {
		name        string
		traceparent string
		wantTrace   string // "" means derived from the event
		wantSpan    any
	}{
		{name: "traceparent extension", traceparent: "00-" + traceID + "-" + spanID + "-01", wantTrace: traceID, wantSpan: spanID},
		{name: "invalid traceparent", traceparent: "00-nothex-" + spanID + "-01"},
		{name: "no traceparent"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var requestIDs, traceIDs []string
			var logs logBuffer
			for range 2 { // the same event delivered twice
				ce := newCloudEvent(t, "ce-9", CloudEventStorageFinalized, storageSource, handleNow, `{}`)
				if tc.traceparent != "" {
					ce.SetExtension("traceparent", tc.traceparent)
				}
				err := Handle(context.Background(), ce, testOptions(&logs), func(ctx context.Context) error {
					requestIDs = append(requestIDs, logging.RequestID(ctx))
					tr, _ := logging.TraceFromContext(ctx)
					traceIDs = append(traceIDs, tr.TraceID)
					logging.FromContext(ctx).InfoContext(ctx, "working")
					return nil
				})
				if err != nil {
					t.Fatalf("Handle: %v", err)
				}
			}
			if requestIDs[0] != requestIDs[1] {
				t.Errorf("deliveries of one event got request ids %q and %q, want the same", requestIDs[0], requestIDs[1])
			}
			if traceIDs[0] != traceIDs[1] {
				t.Errorf("deliveries of one event got traces %q and %q, want the same", traceIDs[0], traceIDs[1])
			}
			if len(requestIDs[0]) != 32 || requestIDs[0] == traceIDs[0] {
				t.Errorf("request id %q is not 32 hex digits of its own (trace %q)", requestIDs[0], traceIDs[0])
			}
			if tc.wantTrace != "" && traceIDs[0] != tc.wantTrace {
				t.Errorf("trace = %q, want the traceparent's %q", traceIDs[0], tc.wantTrace)
			}
			l := logs.lines(t)[0]
			if got, want := l[logging.TraceKey], "projects/demo-medi/traces/"+traceIDs[0]; got != want {
				t.Errorf("trace field = %v, want %q", got, want)
			}
			if got := l[logging.RequestIDKey]; got != requestIDs[0] {
				t.Errorf("requestId field = %v, want %q", got, requestIDs[0])
			}
			if got := l[logging.SpanKey]; got != tc.wantSpan {
				t.Errorf("span field = %v, want %v", got, tc.wantSpan)
			}
		})
	}

	// Different events get different derived traces.
	var ids []string
	for _, id := range []string{"a", "b"} {
		ce := newCloudEvent(t, id, CloudEventStorageFinalized, storageSource, handleNow, `{}`)
		_ = Handle(context.Background(), ce, testOptions(&logBuffer{}), func(ctx context.Context) error {
			ids = append(ids, logging.RequestID(ctx))
			return nil
		})
	}
	if ids[0] == ids[1] {
		t.Errorf("events a and b share the derived trace %q", ids[0])
	}
}

func TestHandle_EventWithoutID(t *testing.T) {
	t.Parallel()
	var logs logBuffer
	ce := event.New()
	ce.SetType(CloudEventStorageFinalized)
	ran := false
	if err := Handle(context.Background(), ce, testOptions(&logs), func(context.Context) error { ran = true; return nil }); err != nil {
		t.Errorf("Handle = %v, want nil", err)
	}
	if ran {
		t.Error("fn ran for an event without an id")
	}
	want := []map[string]any{{"severity": "ERROR", "message": "dropping event without an id"}}
	if diff := cmp.Diff(want, logs.summary(t)); diff != "" {
		t.Errorf("logs mismatch (-want +got):\n%s", diff)
	}
}

func TestHandleEnvelope(t *testing.T) {
	t.Parallel()
	env := validEnvelope(t)
	var logs logBuffer
	var got Envelope
	err := HandleEnvelope(context.Background(), envelopeEvent(t, "m-1", env, handleNow), testOptions(&logs),
		func(ctx context.Context, e Envelope) error {
			got = e
			logging.FromContext(ctx).InfoContext(ctx, "projecting")
			return nil
		})
	if err != nil {
		t.Fatalf("HandleEnvelope: %v", err)
	}
	if diff := cmp.Diff(env, got); diff != "" {
		t.Errorf("envelope mismatch (-want +got):\n%s", diff)
	}
	want := []map[string]any{{
		"severity": "INFO", "message": "projecting",
		"cloudEventId": "m-1", "messageId": "m-1", "eventId": env.EventID, "eventType": "encounter.triaged",
		"schemaVersion": float64(1), "clinicId": "clinic-42", "originRequestId": env.RequestID,
	}}
	if diff := cmp.Diff(want, logs.summary(t, "cloudEventId", "messageId", "eventId", "eventType", "schemaVersion", "clinicId", "originRequestId")); diff != "" {
		t.Errorf("logs mismatch (-want +got):\n%s", diff)
	}
}

func TestHandleEnvelope_Undecodable(t *testing.T) {
	t.Parallel()
	broken := validEnvelope(t)
	broken.SchemaVersion = 0
	tests := []struct {
		name string
		ce   func(t *testing.T) event.Event
	}{
		{name: "invalid envelope", ce: func(t *testing.T) event.Event { return envelopeEvent(t, "m-1", broken, handleNow) }},
		{name: "payload not JSON", ce: func(t *testing.T) event.Event {
			return newCloudEvent(t, "m-1", CloudEventPubSubPublished, pubsubSource, handleNow,
				pubsubData("m-1", []byte(patientMarker), nil, "", handleNow))
		}},
		{name: "not a Pub/Sub event", ce: func(t *testing.T) event.Event {
			return newCloudEvent(t, "m-1", CloudEventStorageFinalized, storageSource, handleNow, `{}`)
		}},
		{name: "malformed data", ce: func(t *testing.T) event.Event {
			return newCloudEvent(t, "m-1", CloudEventPubSubPublished, pubsubSource, handleNow, `{"message":"`+patientMarker+`"}`)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var logs logBuffer
			ran := false
			err := HandleEnvelope(context.Background(), tc.ce(t), testOptions(&logs), func(context.Context, Envelope) error {
				ran = true
				return nil
			})
			if err != nil {
				t.Errorf("HandleEnvelope = %v, want nil (drop)", err)
			}
			if ran {
				t.Error("fn ran for an undecodable event")
			}
			lines := logs.summary(t)
			if len(lines) != 1 || lines[0]["severity"] != "ERROR" || lines[0]["message"] != "dropping undecodable event" {
				t.Errorf("logs = %v, want one ERROR \"dropping undecodable event\"", lines)
			}
		})
	}
}

// failingDedupe injects dedupe-store failures the emulator cannot produce.
type failingDedupe struct {
	seenErr, markErr error
	marked           int
}

func (f *failingDedupe) Seen(context.Context, string, string) (bool, error) { return false, f.seenErr }
func (f *failingDedupe) MarkDone(context.Context, string, string) error {
	f.marked++
	return f.markErr
}

func TestHandle_DedupeStoreFailures(t *testing.T) {
	t.Parallel()
	unavailable := errors.New("firestore unavailable")
	badConsumer := Permanent(errors.New("bad consumer"))
	tests := []struct {
		name     string
		dedupe   *failingDedupe
		wantRun  bool
		wantErr  error
		wantLogs []map[string]any
	}{
		{
			name:     "seen fails: retry without running",
			dedupe:   &failingDedupe{seenErr: unavailable},
			wantErr:  unavailable,
			wantLogs: []map[string]any{{"severity": "WARNING", "message": "dedupe check failed; event will be retried"}},
		},
		{
			name:     "seen refuses the consumer: retry, loudly",
			dedupe:   &failingDedupe{seenErr: badConsumer},
			wantErr:  badConsumer,
			wantLogs: []map[string]any{{"severity": "ERROR", "message": "cannot dedupe event (check HandleOptions.Consumer); event will be retried"}},
		},
		{
			name:     "mark fails after success: no retry",
			dedupe:   &failingDedupe{markErr: unavailable},
			wantRun:  true,
			wantLogs: []map[string]any{{"severity": "WARNING", "message": "event processed but not marked done"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var logs logBuffer
			opts := testOptions(&logs)
			opts.Dedupe, opts.Consumer = tc.dedupe, "queue-projector"
			ran := false
			ce := newCloudEvent(t, "ce-1", CloudEventStorageFinalized, storageSource, handleNow, `{}`)
			err := Handle(context.Background(), ce, opts, func(context.Context) error { ran = true; return nil })
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Errorf("Handle = %v, want %v", err, tc.wantErr)
			}
			if ran != tc.wantRun {
				t.Errorf("fn ran = %v, want %v", ran, tc.wantRun)
			}
			if diff := cmp.Diff(tc.wantLogs, logs.summary(t)); diff != "" {
				t.Errorf("logs mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHandleEnvelope_DuplicateDeliveries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	opts := testOptions(&logBuffer{})
	opts.Dedupe, opts.Consumer = NewDeduper(newFirestore(t), 0), "queue-projector"

	env := validEnvelope(t)
	var runs int
	fn := func(context.Context, Envelope) error { runs++; return nil }

	// Pub/Sub redelivers the message; the producer also published the fact twice
	// (a new message id, the same envelope event id).
	for _, ce := range []event.Event{
		envelopeEvent(t, "m-1", env, handleNow),
		envelopeEvent(t, "m-1", env, handleNow),
		envelopeEvent(t, "m-2", env, handleNow),
	} {
		if err := HandleEnvelope(ctx, ce, opts, fn); err != nil {
			t.Fatalf("HandleEnvelope(%s): %v", ce.ID(), err)
		}
	}
	if runs != 1 {
		t.Errorf("fn ran %d times for one event, want 1", runs)
	}

	// A failed attempt is not marked, so the retry runs.
	other := validEnvelope(t).WithIdempotencyKey("enc-8")
	failing := func(context.Context, Envelope) error { runs++; return errors.New("unavailable") }
	if err := HandleEnvelope(ctx, envelopeEvent(t, "m-3", other, handleNow), opts, failing); err == nil {
		t.Fatal("HandleEnvelope with a failing fn = nil, want the error")
	}
	if err := HandleEnvelope(ctx, envelopeEvent(t, "m-3", other, handleNow), opts, fn); err != nil {
		t.Fatalf("HandleEnvelope retry: %v", err)
	}
	if runs != 3 {
		t.Errorf("fn ran %d times in total, want 3 (one, then a failure and its retry)", runs)
	}
}

func TestHandle_ConcurrentDuplicates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	client := newFirestore(t)
	opts := testOptions(&logBuffer{})
	opts.Dedupe, opts.Consumer = NewDeduper(client, 0), "queue-projector"

	// An idempotent projection: a document keyed by the event, written with Set.
	var runs atomic.Int32
	project := func(ctx context.Context) error {
		runs.Add(1)
		_, err := client.Collection("boards").Doc("queue").Set(ctx, map[string]any{
			"lastEventId": "ce-77",
			"waiting":     firestore.ArrayUnion("enc-7"),
		}, firestore.MergeAll)
		return err
	}

	ce := newCloudEvent(t, "ce-77", CloudEventStorageFinalized, storageSource, handleNow, `{}`)
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Go(func() { errs[i] = Handle(ctx, ce.Clone(), opts, project) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("delivery %d: Handle = %v", i, err)
		}
	}
	if n := runs.Load(); n < 1 || n > 3 {
		t.Errorf("fn ran %d times, want 1 to 3", n)
	}

	snap, err := client.Collection("boards").Doc("queue").Get(ctx)
	if err != nil {
		t.Fatalf("read projection: %v", err)
	}
	want := map[string]any{"lastEventId": "ce-77", "waiting": []any{"enc-7"}}
	if diff := cmp.Diff(want, snap.Data()); diff != "" {
		t.Errorf("projection mismatch (-want +got):\n%s", diff)
	}
	if seen, err := opts.Dedupe.Seen(ctx, "queue-projector", "ce-77"); err != nil || !seen {
		t.Errorf("Seen after the deliveries = %v, %v; want true, nil", seen, err)
	}

	// A later redelivery is skipped.
	before := runs.Load()
	if err := Handle(ctx, ce, opts, project); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if runs.Load() != before {
		t.Error("fn ran for an event already processed")
	}
}

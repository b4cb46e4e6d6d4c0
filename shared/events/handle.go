package events

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/medi-os/medi/shared/logging"
)

// DefaultMaxEventAge is the cut-off after which Handle drops an event instead of
// processing it: a fact a day old is no longer worth acting on, and retrying it forever
// only hides a bug.
const DefaultMaxEventAge = 24 * time.Hour

// Deduplicator is what Handle needs from a dedupe store; *Deduper implements it.
type Deduplicator interface {
	Seen(ctx context.Context, consumer, eventID string) (bool, error)
	MarkDone(ctx context.Context, consumer, eventID string) error
}

var _ Deduplicator = (*Deduper)(nil)

// HandleOptions configures Handle and HandleEnvelope. The zero value works: no dedupe,
// the default cut-off, the process logger, bare trace ids.
type HandleOptions struct {
	// ProjectID makes the Cloud Logging trace field "projects/<id>/traces/<trace>".
	ProjectID string
	// Logger is the base logger (default logging.Default()).
	Logger *slog.Logger
	// MaxAge is the event age beyond which the event is logged and dropped
	// (DefaultMaxEventAge when 0; negative disables the cut-off).
	MaxAge time.Duration
	// Dedupe, when set, skips events Consumer has already processed and marks events
	// done after fn succeeds.
	Dedupe Deduplicator
	// Consumer names the function in dedupe marks (lower-case kebab-case, e.g.
	// "queue-projector"). Required with Dedupe: without a valid one every event is
	// logged at ERROR and retried.
	Consumer string
	// Now is the clock (default time.Now); tests set it.
	Now func() time.Time
}

// Handle runs fn for one CloudEvent and decides between retry and drop:
//
//   - ctx gets a request logger (logging.Start) whose trace id comes from the event's
//     traceparent extension, else from a hash of the event's source and id (so every
//     redelivery of an event shares one trace), and which carries the event id and type.
//   - Events older than the cut-off are logged and dropped (nil).
//   - With Dedupe, an event already processed by Consumer is skipped (nil), and the
//     event is marked done after fn succeeds. The key is the CloudEvent id.
//   - An error marked Permanent is logged at ERROR and dropped (nil); any other error is
//     returned so that the event is delivered again.
//
// Only ids and types are logged, never event data. fn must be idempotent (see Deduper).
func Handle(ctx context.Context, ce event.Event, opts HandleOptions, fn func(context.Context) error) error {
	ctx, log, ok := opts.begin(ctx, ce)
	if !ok {
		return nil
	}
	return opts.run(ctx, log, ce.ID(), fn)
}

// HandleEnvelope is Handle for the Pub/Sub fact topics: it decodes the envelope from a
// messagePublished CloudEvent (a malformed one is logged and dropped), adds the
// envelope's event id, type, schema version, clinic and originating request id to the
// logger, and dedupes on the envelope's event id, so a fact published twice by a
// retried producer is processed once too.
func HandleEnvelope(ctx context.Context, ce event.Event, opts HandleOptions, fn func(context.Context, Envelope) error) error {
	ctx, log, ok := opts.begin(ctx, ce)
	if !ok {
		return nil
	}
	msg, err := DecodePubSub(ce)
	if err == nil {
		log = log.With(slog.String("messageId", msg.ID))
		var env Envelope
		env, err = DecodeEnvelope(msg)
		if err == nil {
			log = log.With(
				slog.String("eventId", env.EventID),
				slog.String("eventType", env.Type),
				slog.Int("schemaVersion", env.SchemaVersion),
				slog.String("clinicId", env.ClinicID),
				slog.String("originRequestId", env.RequestID),
			)
			ctx = logging.WithLogger(ctx, log)
			return opts.run(ctx, log, env.EventID, func(ctx context.Context) error { return fn(ctx, env) })
		}
	}
	log.LogAttrs(ctx, slog.LevelError, "dropping undecodable event", slog.String("error", err.Error()))
	return nil
}

// begin sets up the logger and applies the age cut-off; ok is false when the event is
// to be dropped.
func (o HandleOptions) begin(ctx context.Context, ce event.Event) (context.Context, *slog.Logger, bool) {
	ctx = logging.Start(ctx, o.Logger, o.ProjectID, eventTrace(ce))
	log := logging.FromContext(ctx).With(
		slog.String("cloudEventId", ce.ID()),
		slog.String("cloudEventType", ce.Type()),
	)
	ctx = logging.WithLogger(ctx, log)

	if ce.ID() == "" {
		log.LogAttrs(ctx, slog.LevelError, "dropping event without an id")
		return ctx, log, false
	}
	maxAge := o.MaxAge
	if maxAge == 0 {
		maxAge = DefaultMaxEventAge
	}
	if t := ce.Time(); maxAge > 0 && !t.IsZero() {
		now := time.Now
		if o.Now != nil {
			now = o.Now
		}
		if age := now().Sub(t); age > maxAge {
			log.LogAttrs(ctx, slog.LevelWarn, "dropping event older than the cut-off",
				slog.Duration("age", age), slog.Duration("maxAge", maxAge), slog.Time("eventTime", t))
			return ctx, log, false
		}
	}
	return ctx, log, true
}

// run applies dedupe and the retry-or-drop decision around fn.
func (o HandleOptions) run(ctx context.Context, log *slog.Logger, dedupeID string, fn func(context.Context) error) error {
	if o.Dedupe != nil {
		seen, err := o.Dedupe.Seen(ctx, o.Consumer, dedupeID)
		switch {
		case IsPermanent(err):
			// Only a misconfigured Consumer gets here: keep the event (retry) rather
			// than silently dropping every delivery.
			log.LogAttrs(ctx, slog.LevelError, "cannot dedupe event (check HandleOptions.Consumer); event will be retried", slog.String("error", err.Error()))
			return err
		case err != nil:
			log.LogAttrs(ctx, slog.LevelWarn, "dedupe check failed; event will be retried", slog.String("error", err.Error()))
			return err
		case seen:
			log.LogAttrs(ctx, slog.LevelInfo, "skipping event already processed", slog.String("consumer", o.Consumer))
			return nil
		}
	}

	if err := fn(ctx); err != nil {
		if IsPermanent(err) {
			log.LogAttrs(ctx, slog.LevelError, "dropping event after a permanent failure", slog.String("error", err.Error()))
			return nil
		}
		log.LogAttrs(ctx, slog.LevelWarn, "event failed; it will be retried", slog.String("error", err.Error()))
		return err
	}

	if o.Dedupe != nil {
		if err := o.Dedupe.MarkDone(ctx, o.Consumer, dedupeID); err != nil {
			// The work is done; a redelivery would only repeat idempotent work.
			log.LogAttrs(ctx, slog.LevelWarn, "event processed but not marked done", slog.String("error", err.Error()))
		}
	}
	return nil
}

// eventTrace returns the trace of the event's traceparent extension, else a trace id
// derived from the event's source and id. The request id is derived from the event's
// source and id (which the platform or our publisher made, never a client), so every
// redelivery of an event shares one request id and distinct events never do.
func eventTrace(ce event.Event) logging.Trace {
	if ce.ID() == "" {
		return logging.NewTrace()
	}
	sum := sha256.Sum256([]byte(ce.Source() + "\x00" + ce.ID()))
	t := logging.Trace{TraceID: hex.EncodeToString(sum[:16])}
	var tp string
	if err := ce.ExtensionAs("traceparent", &tp); err == nil && tp != "" {
		h := http.Header{}
		h.Set("traceparent", tp)
		parsed := logging.TraceFromHeaders(h)
		// TraceFromHeaders invents a random trace for an invalid header; accept only the
		// header's own trace id.
		if parts := strings.Split(strings.TrimSpace(tp), "-"); len(parts) >= 2 && strings.EqualFold(parts[1], parsed.TraceID) {
			t = parsed
		}
	}
	req := sha256.Sum256([]byte("request\x00" + ce.Source() + "\x00" + ce.ID()))
	t.Request = hex.EncodeToString(req[:16])
	return t
}

package events

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/medi-os/medi/shared/logging"
)

// Event types published on the fact topics. Consumers switch on Envelope.Type and
// Envelope.SchemaVersion.
const (
	TypeEncounterTriaged = "encounter.triaged"
	TypeNoteDrafted      = "note.drafted"
	TypeNoteApproved     = "note.approved"
)

// Pub/Sub attribute names set on every published envelope. Attributes are visible to
// subscription filters and to anyone who can read topic metadata: identifiers only.
const (
	AttrEventID       = "eventId"
	AttrType          = "type"
	AttrSchemaVersion = "schemaVersion"
	AttrClinicID      = "clinicId"
)

// Limits checked by Envelope.Validate.
const (
	maxEventIDLen  = 128
	maxClinicIDLen = 128
)

var eventTypeRE = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$`)

// eventIDNamespace is the UUID v5 namespace of event ids derived from idempotency keys.
// Changing it changes every derived id: never do.
var eventIDNamespace = uuid.MustParse("9ee72c0c-0956-4e34-bd26-895b8b7156e2")

// Envelope is the JSON payload of every fact published on Pub/Sub.
type Envelope struct {
	// EventID identifies the fact; consumers dedupe on it. A UUID.
	EventID string `json:"eventId"`
	// Type is the fact's name, e.g. TypeNoteApproved.
	Type string `json:"type"`
	// SchemaVersion is the version of Data's shape for this Type, starting at 1.
	SchemaVersion int `json:"schemaVersion"`
	// ClinicID is the tenant the fact belongs to.
	ClinicID string `json:"clinicId,omitempty"`
	// OccurredAt is when the fact happened (not when it was published).
	OccurredAt time.Time `json:"occurredAt"`
	// RequestID is the request that caused the fact, for correlating logs.
	RequestID string `json:"requestId,omitempty"`
	// Data is the type-specific payload (may hold patient data: never log it).
	Data json.RawMessage `json:"data"`
}

// NewEnvelope builds an envelope with a random (UUID v4) event id, OccurredAt now (UTC),
// the request id carried by ctx, and data encoded as JSON. Use WithIdempotencyKey when
// a retried operation must publish the same event id again.
func NewEnvelope(ctx context.Context, eventType string, schemaVersion int, clinicID string, data any) (Envelope, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return Envelope{}, fmt.Errorf("events: encode %s data: %w", eventType, err)
	}
	e := Envelope{
		EventID:       uuid.NewString(),
		Type:          eventType,
		SchemaVersion: schemaVersion,
		ClinicID:      clinicID,
		OccurredAt:    time.Now().UTC(),
		RequestID:     logging.RequestID(ctx),
		Data:          raw,
	}
	if err := e.Validate(); err != nil {
		return Envelope{}, err
	}
	return e, nil
}

// DeriveEventID returns the event id for an idempotency key: a UUID v5 over the event
// type, the clinic and the key, so the same fact published twice (say, by a retried
// Cloud Task) carries the same id and consumers process it once. key should name the
// fact, e.g. "<noteId>/v3"; it must not contain patient data.
func DeriveEventID(eventType, clinicID, key string) string {
	name := eventType + "\x00" + clinicID + "\x00" + key
	return uuid.NewSHA1(eventIDNamespace, []byte(name)).String()
}

// WithIdempotencyKey returns e with its event id derived from key (see DeriveEventID).
func (e Envelope) WithIdempotencyKey(key string) Envelope {
	e.EventID = DeriveEventID(e.Type, e.ClinicID, key)
	return e
}

// Validate reports the first problem that makes e unfit to publish or consume. Its
// errors are permanent and name fields, never their values (except the event id).
func (e Envelope) Validate() error {
	var problem string
	switch {
	case e.EventID == "":
		problem = "eventId is empty"
	case len(e.EventID) > maxEventIDLen:
		problem = "eventId is longer than " + strconv.Itoa(maxEventIDLen) + " bytes"
	case !eventTypeRE.MatchString(e.Type):
		problem = "type must look like \"noun.verb\" (lower case, dot separated)"
	case e.SchemaVersion < 1:
		problem = "schemaVersion must be at least 1"
	case len(e.ClinicID) > maxClinicIDLen:
		problem = "clinicId is longer than " + strconv.Itoa(maxClinicIDLen) + " bytes"
	case e.OccurredAt.IsZero():
		problem = "occurredAt is missing"
	case len(bytes.TrimSpace(e.Data)) == 0:
		problem = "data is missing"
	case !json.Valid(e.Data):
		problem = "data is not valid JSON"
	default:
		return nil
	}
	return Permanent(fmt.Errorf("events: invalid envelope %q: %s", e.EventID, problem))
}

// Attributes returns the Pub/Sub attributes published with e: identifiers only.
func (e Envelope) Attributes() map[string]string {
	a := map[string]string{
		AttrEventID:       e.EventID,
		AttrType:          e.Type,
		AttrSchemaVersion: strconv.Itoa(e.SchemaVersion),
	}
	if e.ClinicID != "" {
		a[AttrClinicID] = e.ClinicID
	}
	return a
}

// DecodeData decodes e.Data into v. Unknown fields are ignored so that producers can add
// fields without a new schema version; errors are permanent.
func (e Envelope) DecodeData(v any) error {
	if err := json.Unmarshal(e.Data, v); err != nil {
		return Permanent(fmt.Errorf("events: decode data of %s event %q (schema %d): %w",
			e.Type, e.EventID, e.SchemaVersion, sanitizeJSONError(err)))
	}
	return nil
}

// DecodeEnvelope decodes and validates the envelope carried by a Pub/Sub message and
// checks that the message attributes, when present, agree with it. Every error it
// returns is permanent: redelivering the same bytes cannot succeed.
func DecodeEnvelope(msg Message) (Envelope, error) {
	var e Envelope
	if len(bytes.TrimSpace(msg.Data)) == 0 {
		return Envelope{}, Permanent(fmt.Errorf("events: message %q has no data", msg.ID))
	}
	if err := json.Unmarshal(msg.Data, &e); err != nil {
		return Envelope{}, Permanent(fmt.Errorf("events: message %q is not an envelope: %w", msg.ID, sanitizeJSONError(err)))
	}
	if err := e.Validate(); err != nil {
		return Envelope{}, err
	}
	for name, want := range e.Attributes() {
		if got, ok := msg.Attributes[name]; ok && got != want {
			return Envelope{}, Permanent(fmt.Errorf("events: message %q: attribute %s disagrees with the envelope", msg.ID, name))
		}
	}
	return e, nil
}

// sanitizeJSONError keeps the kind and position of a JSON error but drops anything that
// could quote payload text.
func sanitizeJSONError(err error) error {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Errorf("malformed JSON at offset %d", syn.Offset)
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		// typ.Value can quote a number from the payload: leave it out.
		return fmt.Errorf("field %q has the wrong JSON type (want %s)", typ.Field, typ.Type)
	}
	// Other errors (e.g. time parsing) may quote the offending value.
	return errors.New("malformed JSON value")
}

package events

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
)

// CloudEvent types this package decodes.
const (
	// CloudEventPubSubPublished is delivered by Eventarc (and by the functions framework
	// for Pub/Sub push requests) for each Pub/Sub message.
	CloudEventPubSubPublished = "google.cloud.pubsub.topic.v1.messagePublished"
	// CloudEventStorageFinalized is delivered when an object is created or overwritten.
	CloudEventStorageFinalized = "google.cloud.storage.object.v1.finalized"

	storageEventPrefix = "google.cloud.storage.object.v1."
)

// Message is one Pub/Sub message delivered in a CloudEvent
// (google.events.cloud.pubsub.v1.MessagePublishedData).
type Message struct {
	// ID is the server-assigned message id, unique within the topic.
	ID string
	// PublishTime is when the Pub/Sub service received the message.
	PublishTime time.Time
	// Attributes are the message attributes (identifiers only, in Medi OS).
	Attributes map[string]string
	// Data is the decoded message payload.
	Data []byte
	// OrderingKey is the ordering key the message was published with, if any.
	OrderingKey string
	// Subscription is the full name of the subscription that delivered the message.
	Subscription string
}

// messagePublishedData is the JSON form of MessagePublishedData. Pub/Sub push also sends
// the legacy snake_case copies of messageId and publishTime; both are accepted.
type messagePublishedData struct {
	Message *struct {
		Data            []byte            `json:"data"` // base64 in JSON
		Attributes      map[string]string `json:"attributes"`
		MessageID       string            `json:"messageId"`
		LegacyMessageID string            `json:"message_id"`
		PublishTime     string            `json:"publishTime"`
		LegacyPublish   string            `json:"publish_time"`
		OrderingKey     string            `json:"orderingKey"`
	} `json:"message"`
	Subscription string `json:"subscription"`
}

// DecodePubSub extracts the Pub/Sub message from a messagePublished CloudEvent. All its
// errors are permanent: the same event will never decode.
func DecodePubSub(ce event.Event) (Message, error) {
	if ce.Type() != CloudEventPubSubPublished {
		return Message{}, Permanent(fmt.Errorf("events: cloudevent %q has type %q, want %q", ce.ID(), ce.Type(), CloudEventPubSubPublished))
	}
	data := ce.Data()
	if len(bytes.TrimSpace(data)) == 0 {
		return Message{}, Permanent(fmt.Errorf("events: cloudevent %q has no data", ce.ID()))
	}
	var d messagePublishedData
	if err := json.Unmarshal(data, &d); err != nil {
		return Message{}, Permanent(fmt.Errorf("events: cloudevent %q: decode Pub/Sub data: %w", ce.ID(), sanitizeJSONError(err)))
	}
	if d.Message == nil {
		return Message{}, Permanent(fmt.Errorf("events: cloudevent %q: no Pub/Sub message in data", ce.ID()))
	}
	m := d.Message
	msg := Message{
		ID:           firstNonEmpty(m.MessageID, m.LegacyMessageID),
		Attributes:   m.Attributes,
		Data:         m.Data,
		OrderingKey:  m.OrderingKey,
		Subscription: d.Subscription,
	}
	if msg.ID == "" {
		return Message{}, Permanent(fmt.Errorf("events: cloudevent %q: Pub/Sub message has no messageId", ce.ID()))
	}
	if pt := firstNonEmpty(m.PublishTime, m.LegacyPublish); pt != "" {
		t, err := time.Parse(time.RFC3339Nano, pt)
		if err != nil {
			return Message{}, Permanent(fmt.Errorf("events: cloudevent %q: Pub/Sub message %q has a malformed publishTime", ce.ID(), msg.ID))
		}
		msg.PublishTime = t
	}
	if msg.Attributes == nil {
		msg.Attributes = map[string]string{}
	}
	return msg, nil
}

// StorageObject is the object a Cloud Storage CloudEvent is about
// (google.events.cloud.storage.v1.StorageObjectData), reduced to the fields Medi OS uses.
type StorageObject struct {
	Bucket         string
	Name           string // object names can carry identifiers: log ids, not names
	Generation     int64
	Metageneration int64
	Size           int64
	ContentType    string
	MD5Hash        string // base64, empty for composite objects
	CRC32C         string // base64
	TimeCreated    time.Time
	Updated        time.Time
	Metadata       map[string]string
}

// storageObjectData is the JSON form of StorageObjectData. int64 fields are strings in
// proto3 JSON (and in the JSON API resource); numbers are accepted too.
type storageObjectData struct {
	Bucket         string            `json:"bucket"`
	Name           string            `json:"name"`
	Generation     jsonInt64         `json:"generation"`
	Metageneration jsonInt64         `json:"metageneration"`
	Size           jsonInt64         `json:"size"`
	ContentType    string            `json:"contentType"`
	MD5Hash        string            `json:"md5Hash"`
	CRC32C         string            `json:"crc32c"`
	TimeCreated    string            `json:"timeCreated"`
	Updated        string            `json:"updated"`
	Metadata       map[string]string `json:"metadata"`
}

// DecodeStorageObject extracts the object from a Cloud Storage object CloudEvent
// (google.cloud.storage.object.v1.finalized, or another google.cloud.storage.object.v1.*
// type, which share the data shape). All its errors are permanent.
func DecodeStorageObject(ce event.Event) (StorageObject, error) {
	if !strings.HasPrefix(ce.Type(), storageEventPrefix) {
		return StorageObject{}, Permanent(fmt.Errorf("events: cloudevent %q has type %q, want %s*", ce.ID(), ce.Type(), storageEventPrefix))
	}
	data := ce.Data()
	if len(bytes.TrimSpace(data)) == 0 {
		return StorageObject{}, Permanent(fmt.Errorf("events: cloudevent %q has no data", ce.ID()))
	}
	var d storageObjectData
	if err := json.Unmarshal(data, &d); err != nil {
		return StorageObject{}, Permanent(fmt.Errorf("events: cloudevent %q: decode storage object: %w", ce.ID(), sanitizeJSONError(err)))
	}
	var missing []string
	if d.Bucket == "" {
		missing = append(missing, "bucket")
	}
	if d.Name == "" {
		missing = append(missing, "name")
	}
	if d.Generation <= 0 {
		missing = append(missing, "generation")
	}
	if len(missing) > 0 {
		return StorageObject{}, Permanent(fmt.Errorf("events: cloudevent %q: storage object lacks %s", ce.ID(), strings.Join(missing, ", ")))
	}
	obj := StorageObject{
		Bucket:         d.Bucket,
		Name:           d.Name,
		Generation:     int64(d.Generation),
		Metageneration: int64(d.Metageneration),
		Size:           int64(d.Size),
		ContentType:    d.ContentType,
		MD5Hash:        d.MD5Hash,
		CRC32C:         d.CRC32C,
		Metadata:       d.Metadata,
	}
	for _, f := range []struct {
		name string
		in   string
		out  *time.Time
	}{{"timeCreated", d.TimeCreated, &obj.TimeCreated}, {"updated", d.Updated, &obj.Updated}} {
		if f.in == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, f.in)
		if err != nil {
			return StorageObject{}, Permanent(fmt.Errorf("events: cloudevent %q: storage object has a malformed %s", ce.ID(), f.name))
		}
		*f.out = t
	}
	return obj, nil
}

// jsonInt64 decodes an int64 written either as a JSON string (proto3 JSON) or a number.
type jsonInt64 int64

func (n *jsonInt64) UnmarshalJSON(b []byte) error {
	s := string(bytes.TrimSpace(b))
	if s == "null" {
		return nil
	}
	if uq, err := strconv.Unquote(s); err == nil {
		s = uq
	}
	if s == "" {
		*n = 0
		return nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("not an int64")
	}
	*n = jsonInt64(v)
	return nil
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

package events

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/google/go-cmp/cmp"
)

// newCloudEvent builds a CloudEvent as Eventarc delivers it; data is encoded as JSON
// unless it is a string, which is sent as raw bytes.
func newCloudEvent(t *testing.T, id, typ, source string, at time.Time, data any) event.Event {
	t.Helper()
	ce := event.New()
	ce.SetID(id)
	ce.SetType(typ)
	ce.SetSource(source)
	ce.SetTime(at)
	var err error
	if s, ok := data.(string); ok {
		err = ce.SetData(event.ApplicationJSON, []byte(s))
	} else if data != nil {
		err = ce.SetData(event.ApplicationJSON, data)
	}
	if err != nil {
		t.Fatalf("SetData: %v", err)
	}
	return ce
}

const pubsubSource = "//pubsub.googleapis.com/projects/demo-medi/topics/encounter-events"

// pubsubData is the messagePublished data for payload.
func pubsubData(msgID string, payload []byte, attrs map[string]string, orderingKey string, published time.Time) map[string]any {
	msg := map[string]any{
		"data":        base64.StdEncoding.EncodeToString(payload),
		"messageId":   msgID,
		"publishTime": published.Format(time.RFC3339Nano),
	}
	if attrs != nil {
		msg["attributes"] = attrs
	}
	if orderingKey != "" {
		msg["orderingKey"] = orderingKey
	}
	return map[string]any{
		"message":      msg,
		"subscription": "projects/demo-medi/subscriptions/eventarc-queue-projector",
	}
}

func TestDecodePubSub(t *testing.T) {
	t.Parallel()
	published := time.Date(2025, 3, 4, 10, 11, 12, 345000000, time.UTC)
	env := validEnvelope(t)
	payload, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}

	ce := newCloudEvent(t, "11873384951234", CloudEventPubSubPublished, pubsubSource, published,
		pubsubData("11873384951234", payload, env.Attributes(), "enc-7", published))
	got, err := DecodePubSub(ce)
	if err != nil {
		t.Fatalf("DecodePubSub: %v", err)
	}
	want := Message{
		ID:           "11873384951234",
		PublishTime:  published,
		Attributes:   env.Attributes(),
		Data:         payload,
		OrderingKey:  "enc-7",
		Subscription: "projects/demo-medi/subscriptions/eventarc-queue-projector",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("DecodePubSub mismatch (-want +got):\n%s", diff)
	}
	gotEnv, err := DecodeEnvelope(got)
	if err != nil {
		t.Fatalf("DecodeEnvelope: %v", err)
	}
	if diff := cmp.Diff(env, gotEnv); diff != "" {
		t.Errorf("DecodeEnvelope mismatch (-want +got):\n%s", diff)
	}
}

func TestDecodePubSub_LegacyPushFields(t *testing.T) {
	t.Parallel()
	// Pub/Sub push requests carry snake_case copies; some producers send only those.
	data := `{"message":{"data":"eyJhIjoxfQ==","message_id":"42","publish_time":"2025-03-04T10:11:12Z"},` +
		`"subscription":"projects/demo-medi/subscriptions/s"}`
	ce := newCloudEvent(t, "42", CloudEventPubSubPublished, pubsubSource, time.Now(), data)
	got, err := DecodePubSub(ce)
	if err != nil {
		t.Fatalf("DecodePubSub: %v", err)
	}
	want := Message{
		ID:           "42",
		PublishTime:  time.Date(2025, 3, 4, 10, 11, 12, 0, time.UTC),
		Attributes:   map[string]string{},
		Data:         []byte(`{"a":1}`),
		Subscription: "projects/demo-medi/subscriptions/s",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("DecodePubSub mismatch (-want +got):\n%s", diff)
	}
}

func TestDecodePubSub_Errors(t *testing.T) {
	t.Parallel()
	secret := base64.StdEncoding.EncodeToString([]byte(patientMarker))
	tests := []struct {
		name    string
		typ     string
		data    any
		wantErr string
	}{
		{name: "wrong type", typ: CloudEventStorageFinalized, data: `{"message":{"messageId":"1"}}`, wantErr: "has type"},
		{name: "no data", typ: CloudEventPubSubPublished, data: nil, wantErr: "no data"},
		{name: "not JSON", typ: CloudEventPubSubPublished, data: `{"message":` + patientMarker, wantErr: "decode Pub/Sub data"},
		{name: "no message", typ: CloudEventPubSubPublished, data: `{"subscription":"projects/p/subscriptions/s"}`, wantErr: "no Pub/Sub message"},
		{name: "message is null", typ: CloudEventPubSubPublished, data: `{"message":null}`, wantErr: "no Pub/Sub message"},
		{name: "bad base64", typ: CloudEventPubSubPublished, data: `{"message":{"messageId":"1","data":"` + patientMarker + `!!"}}`, wantErr: "decode Pub/Sub data"},
		{name: "no message id", typ: CloudEventPubSubPublished, data: `{"message":{"data":"` + secret + `"}}`, wantErr: "no messageId"},
		{name: "bad publish time", typ: CloudEventPubSubPublished, data: `{"message":{"messageId":"1","publishTime":"yesterday"}}`, wantErr: "malformed publishTime"},
		{name: "attributes wrong type", typ: CloudEventPubSubPublished, data: `{"message":{"messageId":"1","attributes":["` + patientMarker + `"]}}`, wantErr: "wrong JSON type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ce := newCloudEvent(t, "ce-1", tc.typ, pubsubSource, time.Now(), tc.data)
			got, err := DecodePubSub(ce)
			if err == nil {
				t.Fatalf("DecodePubSub = %+v, want error containing %q", got, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("DecodePubSub error = %q, want it to contain %q", err, tc.wantErr)
			}
			if !IsPermanent(err) {
				t.Errorf("DecodePubSub error %q is not permanent", err)
			}
			if strings.Contains(err.Error(), patientMarker) || strings.Contains(err.Error(), secret) {
				t.Errorf("DecodePubSub error quotes payload data: %q", err)
			}
		})
	}
}

const storageSource = "//storage.googleapis.com/projects/_/buckets/demo-medi-uploads"

// A finalized event as Eventarc sends it (the JSON API object resource).
const finalizedData = `{
  "kind": "storage#object",
  "id": "demo-medi-uploads/clinics/clinic-42/sessions/s-9/audio.webm/1741083072345678",
  "selfLink": "https://www.googleapis.com/storage/v1/b/demo-medi-uploads/o/clinics%2Fclinic-42%2Fsessions%2Fs-9%2Faudio.webm",
  "name": "clinics/clinic-42/sessions/s-9/audio.webm",
  "bucket": "demo-medi-uploads",
  "generation": "1741083072345678",
  "metageneration": "1",
  "contentType": "audio/webm",
  "timeCreated": "2025-03-04T10:11:12.345Z",
  "updated": "2025-03-04T10:11:12.345Z",
  "storageClass": "STANDARD",
  "timeStorageClassUpdated": "2025-03-04T10:11:12.345Z",
  "size": "1048576",
  "md5Hash": "XrY7u+Ae7tCTyyK7j1rNww==",
  "mediaLink": "https://storage.googleapis.com/download/storage/v1/b/demo-medi-uploads/o/x?generation=1741083072345678&alt=media",
  "crc32c": "yZRlqg==",
  "etag": "CM7xkuGGlIgDEAE=",
  "metadata": {"sessionId": "s-9"}
}`

func TestDecodeStorageObject(t *testing.T) {
	t.Parallel()
	created := time.Date(2025, 3, 4, 10, 11, 12, 345000000, time.UTC)
	want := StorageObject{
		Bucket:         "demo-medi-uploads",
		Name:           "clinics/clinic-42/sessions/s-9/audio.webm",
		Generation:     1741083072345678,
		Metageneration: 1,
		Size:           1048576,
		ContentType:    "audio/webm",
		MD5Hash:        "XrY7u+Ae7tCTyyK7j1rNww==",
		CRC32C:         "yZRlqg==",
		TimeCreated:    created,
		Updated:        created,
		Metadata:       map[string]string{"sessionId": "s-9"},
	}
	tests := []struct {
		name string
		typ  string
		data string
		want StorageObject
	}{
		{name: "finalized, JSON API strings", typ: CloudEventStorageFinalized, data: finalizedData, want: want},
		{
			name: "numbers instead of strings",
			typ:  CloudEventStorageFinalized,
			data: `{"bucket":"b","name":"o","generation":17,"metageneration":2,"size":0}`,
			want: StorageObject{Bucket: "b", Name: "o", Generation: 17, Metageneration: 2},
		},
		{
			name: "other object event type",
			typ:  "google.cloud.storage.object.v1.deleted",
			data: `{"bucket":"b","name":"o","generation":"5","size":""}`,
			want: StorageObject{Bucket: "b", Name: "o", Generation: 5},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ce := newCloudEvent(t, "8123456789012345", tc.typ, storageSource, created, tc.data)
			ce.SetSubject("objects/" + tc.want.Name)
			got, err := DecodeStorageObject(ce)
			if err != nil {
				t.Fatalf("DecodeStorageObject: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("DecodeStorageObject mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeStorageObject_Errors(t *testing.T) {
	t.Parallel()
	const secretName = "clinics/c/" + patientMarker + ".webm"
	tests := []struct {
		name    string
		typ     string
		data    any
		wantErr string
	}{
		{name: "pubsub event", typ: CloudEventPubSubPublished, data: finalizedData, wantErr: "has type"},
		{name: "no data", typ: CloudEventStorageFinalized, data: nil, wantErr: "no data"},
		{name: "not JSON", typ: CloudEventStorageFinalized, data: `{"name":"` + secretName, wantErr: "decode storage object"},
		{name: "generation not a number", typ: CloudEventStorageFinalized, data: `{"bucket":"b","name":"` + secretName + `","generation":"abc"}`, wantErr: "decode storage object"},
		{name: "size not a number", typ: CloudEventStorageFinalized, data: `{"bucket":"b","name":"o","generation":"1","size":"` + patientMarker + `"}`, wantErr: "decode storage object"},
		{name: "no bucket or name", typ: CloudEventStorageFinalized, data: `{"generation":"1"}`, wantErr: "lacks bucket, name"},
		{name: "no generation", typ: CloudEventStorageFinalized, data: `{"bucket":"b","name":"` + secretName + `"}`, wantErr: "lacks generation"},
		{name: "bad timeCreated", typ: CloudEventStorageFinalized, data: `{"bucket":"b","name":"o","generation":"1","timeCreated":"` + patientMarker + `"}`, wantErr: "malformed timeCreated"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ce := newCloudEvent(t, "ce-1", tc.typ, storageSource, time.Now(), tc.data)
			got, err := DecodeStorageObject(ce)
			if err == nil {
				t.Fatalf("DecodeStorageObject = %+v, want error containing %q", got, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("DecodeStorageObject error = %q, want it to contain %q", err, tc.wantErr)
			}
			if !IsPermanent(err) {
				t.Errorf("DecodeStorageObject error %q is not permanent", err)
			}
			if strings.Contains(err.Error(), patientMarker) {
				t.Errorf("DecodeStorageObject error quotes payload data: %q", err)
			}
		})
	}
}

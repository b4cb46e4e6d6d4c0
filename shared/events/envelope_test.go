package events

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/medi-os/medi/shared/logging"
)

// patientMarker stands for patient data in payloads; it must never appear in errors,
// attributes or logs.
const patientMarker = "Jane-Doe-1961-03-04"

type triagedData struct {
	EncounterID string `json:"encounterId"`
	Level       int    `json:"level"`
	Complaint   string `json:"complaint"`
}

func validEnvelope(t *testing.T) Envelope {
	t.Helper()
	return Envelope{
		EventID:       "3f1c1a9e-7a51-4c1e-9a0b-5a7d9c7e2b11",
		Type:          TypeEncounterTriaged,
		SchemaVersion: 1,
		ClinicID:      "clinic-42",
		OccurredAt:    time.Date(2025, 3, 4, 10, 11, 12, 130000000, time.UTC),
		RequestID:     "4bf92f3577b34da6a3ce929d0e0e4736",
		Data:          json.RawMessage(`{"encounterId":"enc-7","level":2,"complaint":"` + patientMarker + `"}`),
	}
}

func TestNewEnvelope(t *testing.T) {
	t.Parallel()
	trace := logging.Trace{TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", Request: "0af7651916cd43dd8448eb211c80319c"}
	ctx := logging.WithTrace(context.Background(), trace)
	before := time.Now()

	e, err := NewEnvelope(ctx, TypeEncounterTriaged, 1, "clinic-42", triagedData{EncounterID: "enc-7", Level: 2, Complaint: patientMarker})
	if err != nil {
		t.Fatalf("NewEnvelope: %v", err)
	}
	id, err := uuid.Parse(e.EventID)
	if err != nil {
		t.Fatalf("event id %q is not a UUID: %v", e.EventID, err)
	}
	if got, want := id.Version(), uuid.Version(4); got != want {
		t.Errorf("event id version = %d, want %d", got, want)
	}
	if e.OccurredAt.Before(before.Add(-time.Second)) || e.OccurredAt.Location() != time.UTC {
		t.Errorf("OccurredAt = %v, want now in UTC", e.OccurredAt)
	}
	want := Envelope{
		EventID:       e.EventID,
		Type:          TypeEncounterTriaged,
		SchemaVersion: 1,
		ClinicID:      "clinic-42",
		OccurredAt:    e.OccurredAt,
		RequestID:     trace.Request,
		Data:          json.RawMessage(`{"encounterId":"enc-7","level":2,"complaint":"` + patientMarker + `"}`),
	}
	if diff := cmp.Diff(want, e); diff != "" {
		t.Errorf("NewEnvelope mismatch (-want +got):\n%s", diff)
	}

	other, err := NewEnvelope(ctx, TypeEncounterTriaged, 1, "clinic-42", triagedData{})
	if err != nil {
		t.Fatalf("NewEnvelope: %v", err)
	}
	if other.EventID == e.EventID {
		t.Errorf("two envelopes share event id %q", e.EventID)
	}
}

func TestNewEnvelope_Errors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		eventType     string
		schemaVersion int
		data          any
	}{
		{name: "bad type", eventType: "Encounter Triaged", schemaVersion: 1, data: triagedData{}},
		{name: "zero schema", eventType: TypeNoteDrafted, schemaVersion: 0, data: triagedData{}},
		{name: "unencodable data", eventType: TypeNoteDrafted, schemaVersion: 1, data: make(chan int)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := NewEnvelope(context.Background(), tc.eventType, tc.schemaVersion, "clinic-1", tc.data); err == nil {
				t.Fatal("NewEnvelope succeeded, want error")
			}
		})
	}
}

func TestDeriveEventID(t *testing.T) {
	t.Parallel()
	base := DeriveEventID(TypeNoteDrafted, "clinic-1", "note-9/v1")
	id, err := uuid.Parse(base)
	if err != nil {
		t.Fatalf("derived id %q is not a UUID: %v", base, err)
	}
	if got, want := id.Version(), uuid.Version(5); got != want {
		t.Errorf("derived id version = %d, want %d", got, want)
	}
	if again := DeriveEventID(TypeNoteDrafted, "clinic-1", "note-9/v1"); again != base {
		t.Errorf("DeriveEventID not deterministic: %q then %q", base, again)
	}
	for name, other := range map[string]string{
		"other type":   DeriveEventID(TypeNoteApproved, "clinic-1", "note-9/v1"),
		"other clinic": DeriveEventID(TypeNoteDrafted, "clinic-2", "note-9/v1"),
		"other key":    DeriveEventID(TypeNoteDrafted, "clinic-1", "note-9/v2"),
		"shifted":      DeriveEventID(TypeNoteDrafted, "clinic-1note-9", "/v1"),
	} {
		if other == base {
			t.Errorf("%s: derived the same id %q", name, base)
		}
	}

	e := validEnvelope(t).WithIdempotencyKey("note-9/v1")
	if got, want := e.EventID, DeriveEventID(TypeEncounterTriaged, "clinic-42", "note-9/v1"); got != want {
		t.Errorf("WithIdempotencyKey event id = %q, want %q", got, want)
	}
}

func TestEnvelope_Validate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		mutate  func(*Envelope)
		wantErr string // substring; "" means valid
	}{
		{name: "valid", mutate: func(*Envelope) {}},
		{name: "no clinic is allowed", mutate: func(e *Envelope) { e.ClinicID = "" }},
		{name: "no request id is allowed", mutate: func(e *Envelope) { e.RequestID = "" }},
		{name: "missing id", mutate: func(e *Envelope) { e.EventID = "" }, wantErr: "eventId is empty"},
		{name: "long id", mutate: func(e *Envelope) { e.EventID = strings.Repeat("a", 129) }, wantErr: "eventId is longer"},
		{name: "missing type", mutate: func(e *Envelope) { e.Type = "" }, wantErr: "type must"},
		{name: "type without dot", mutate: func(e *Envelope) { e.Type = "triaged" }, wantErr: "type must"},
		{name: "upper-case type", mutate: func(e *Envelope) { e.Type = "Note.Drafted" }, wantErr: "type must"},
		{name: "zero schema", mutate: func(e *Envelope) { e.SchemaVersion = 0 }, wantErr: "schemaVersion"},
		{name: "long clinic", mutate: func(e *Envelope) { e.ClinicID = strings.Repeat("c", 129) }, wantErr: "clinicId is longer"},
		{name: "no time", mutate: func(e *Envelope) { e.OccurredAt = time.Time{} }, wantErr: "occurredAt"},
		{name: "no data", mutate: func(e *Envelope) { e.Data = nil }, wantErr: "data is missing"},
		{name: "invalid data", mutate: func(e *Envelope) { e.Data = json.RawMessage(`{"complaint":"` + patientMarker) }, wantErr: "not valid JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := validEnvelope(t)
			tc.mutate(&e)
			err := e.Validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate = nil, want error containing %q", tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Validate = %q, want it to contain %q", err, tc.wantErr)
			}
			if !IsPermanent(err) {
				t.Errorf("Validate error %q is not permanent", err)
			}
			if strings.Contains(err.Error(), patientMarker) {
				t.Errorf("Validate error quotes payload data: %q", err)
			}
		})
	}
}

func TestEnvelope_Attributes(t *testing.T) {
	t.Parallel()
	e := validEnvelope(t)
	want := map[string]string{
		"eventId":       e.EventID,
		"type":          "encounter.triaged",
		"schemaVersion": "1",
		"clinicId":      "clinic-42",
	}
	if diff := cmp.Diff(want, e.Attributes()); diff != "" {
		t.Errorf("Attributes mismatch (-want +got):\n%s", diff)
	}

	e.ClinicID = ""
	delete(want, "clinicId")
	if diff := cmp.Diff(want, e.Attributes()); diff != "" {
		t.Errorf("Attributes without clinic mismatch (-want +got):\n%s", diff)
	}
}

func TestDecodeEnvelope(t *testing.T) {
	t.Parallel()
	good := validEnvelope(t)
	goodJSON, err := json.Marshal(good)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		msg     Message
		want    Envelope
		wantErr string
	}{
		{
			name: "with attributes",
			msg:  Message{ID: "m1", Data: goodJSON, Attributes: good.Attributes()},
			want: good,
		},
		{
			name: "without attributes",
			msg:  Message{ID: "m1", Data: goodJSON},
			want: good,
		},
		{
			name: "unknown envelope fields are tolerated",
			msg: Message{ID: "m1", Data: []byte(`{"eventId":"e1","type":"note.approved","schemaVersion":2,` +
				`"clinicId":"c1","occurredAt":"2025-03-04T10:11:12Z","data":{"noteId":"n1"},"traceFlags":"x"}`)},
			want: Envelope{EventID: "e1", Type: TypeNoteApproved, SchemaVersion: 2, ClinicID: "c1",
				OccurredAt: time.Date(2025, 3, 4, 10, 11, 12, 0, time.UTC), Data: json.RawMessage(`{"noteId":"n1"}`)},
		},
		{name: "empty data", msg: Message{ID: "m1"}, wantErr: "has no data"},
		{name: "not JSON", msg: Message{ID: "m1", Data: []byte(patientMarker)}, wantErr: "not an envelope"},
		{name: "truncated", msg: Message{ID: "m1", Data: goodJSON[:len(goodJSON)-5]}, wantErr: "not an envelope"},
		{name: "trailing data", msg: Message{ID: "m1", Data: append(append([]byte{}, goodJSON...), []byte(`{"x":1}`)...)}, wantErr: "not an envelope"},
		{name: "wrong field type", msg: Message{ID: "m1", Data: []byte(`{"eventId":"e1","schemaVersion":"` + patientMarker + `"}`)}, wantErr: "schemaVersion"},
		{name: "bad time", msg: Message{ID: "m1", Data: []byte(`{"eventId":"e1","occurredAt":"` + patientMarker + `"}`)}, wantErr: "not an envelope"},
		{name: "invalid envelope", msg: Message{ID: "m1", Data: []byte(`{"eventId":"e1","type":"note.approved","schemaVersion":1,"occurredAt":"2025-03-04T10:11:12Z"}`)}, wantErr: "data is missing"},
		{
			name:    "attribute disagrees",
			msg:     Message{ID: "m1", Data: goodJSON, Attributes: map[string]string{"eventId": good.EventID, "type": "note.approved"}},
			wantErr: "attribute type disagrees",
		},
		{
			name:    "clinic attribute disagrees",
			msg:     Message{ID: "m1", Data: goodJSON, Attributes: map[string]string{"clinicId": "clinic-other"}},
			wantErr: "attribute clinicId disagrees",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := DecodeEnvelope(tc.msg)
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("DecodeEnvelope = %+v, want error containing %q", got, tc.wantErr)
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("DecodeEnvelope error = %q, want it to contain %q", err, tc.wantErr)
				}
				if !IsPermanent(err) {
					t.Errorf("DecodeEnvelope error %q is not permanent", err)
				}
				if strings.Contains(err.Error(), patientMarker) {
					t.Errorf("DecodeEnvelope error quotes payload data: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodeEnvelope: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("DecodeEnvelope mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEnvelope_DecodeData(t *testing.T) {
	t.Parallel()
	e := validEnvelope(t)
	var got triagedData
	if err := e.DecodeData(&got); err != nil {
		t.Fatalf("DecodeData: %v", err)
	}
	if diff := cmp.Diff(triagedData{EncounterID: "enc-7", Level: 2, Complaint: patientMarker}, got); diff != "" {
		t.Errorf("DecodeData mismatch (-want +got):\n%s", diff)
	}

	e.Data = json.RawMessage(`{"encounterId":"enc-7","level":"` + patientMarker + `"}`)
	err := e.DecodeData(&got)
	if err == nil {
		t.Fatal("DecodeData of a wrongly typed field succeeded")
	}
	if !IsPermanent(err) || strings.Contains(err.Error(), patientMarker) {
		t.Errorf("DecodeData error = %q: want permanent and free of payload data", err)
	}
	var narrow struct {
		Level int8 `json:"level"`
	}
	e.Data = json.RawMessage(`{"level":3712}`)
	if err := e.DecodeData(&narrow); err == nil || strings.Contains(err.Error(), "3712") {
		t.Errorf("DecodeData overflow error = %v: want an error that does not quote the number", err)
	}
}

package encounters_test

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/shared/encounter"
)

func TestTransitionEndpoint(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	enc := s.checkIn()
	path := "/v1/encounters/" + enc.ID + "/transitions"

	// Nurse triages with the version she read.
	rec, env := s.do(request{method: http.MethodPost, path: path, role: "nurse", body: map[string]any{"to": "triaged"},
		header: map[string]string{"If-Match": `"1"`}})
	if rec.Code != http.StatusOK {
		t.Fatalf("triage: %d %s", rec.Code, rec.Body)
	}
	got := decode[struct {
		Encounter encounter.Encounter `json:"encounter"`
		Event     encounter.Event     `json:"event"`
	}](t, env.Data)
	if got.Encounter.Status != encounter.StatusTriaged || got.Encounter.Version != 2 || rec.Header().Get("ETag") != `"2"` {
		t.Errorf("encounter %+v ETag %q", got.Encounter, rec.Header().Get("ETag"))
	}
	wantEv := encounter.Event{Seq: 2, Action: encounter.ActionTriage, From: encounter.StatusWaiting, To: encounter.StatusTriaged,
		ActorUID: s.uids["nurse"], ActorRole: "nurse", At: got.Event.At, RequestID: env.RequestID}
	if diff := cmp.Diff(wantEv, got.Event); diff != "" {
		t.Errorf("event (-want +got):\n%s", diff)
	}

	// Doctor claims; then completes.
	claimed := s.transition(enc.ID, "doctor", map[string]any{"to": "in_consultation"})
	if claimed.DoctorUID != s.uids["doctor"] {
		t.Errorf("claimed by %q, want %q", claimed.DoctorUID, s.uids["doctor"])
	}
	done := s.transition(enc.ID, "doctor", map[string]any{"to": "completed"})
	if done.Status != encounter.StatusCompleted || done.Version != 4 {
		t.Errorf("completed = %+v", done)
	}
	if got := s.auditActions()[encounter.AuditTransition]; got != 3 {
		t.Errorf("%d transition audit records, want 3", got)
	}
}

func TestTransitionEndpointRefusals(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	for _, tc := range []struct {
		name    string
		triaged bool
		role    string
		body    any
		raw     string
		ifMatch string
		status  int
		code    string
		details string // JSON of error.details when checked
	}{
		{name: "receptionist may not triage", role: "receptionist", body: map[string]any{"to": "triaged"}, status: http.StatusForbidden, code: "permission_denied"},
		{name: "illegal move", role: "doctor", body: map[string]any{"to": "completed"}, status: http.StatusConflict, code: "conflict",
			details: `{"allowed":["triaged","cancelled","left_without_being_seen"],"current":"waiting"}`},
		{name: "cancel needs a reason", role: "receptionist", body: map[string]any{"to": "cancelled"}, status: http.StatusBadRequest, code: "invalid_argument"},
		{name: "to is required", role: "nurse", body: map[string]any{"reason": "x"}, status: http.StatusBadRequest, code: "invalid_argument"},
		{name: "unknown status", role: "nurse", body: map[string]any{"to": "admitted"}, status: http.StatusBadRequest, code: "invalid_argument"},
		{name: "unknown field", role: "nurse", body: map[string]any{"to": "triaged", "level": 2}, status: http.StatusBadRequest, code: "invalid_argument"},
		{name: "stale If-Match", role: "nurse", body: map[string]any{"to": "triaged"}, ifMatch: `"7"`, status: http.StatusPreconditionFailed, code: "failed_precondition",
			details: `{"currentVersion":1,"reason":"stale_version"}`},
		{name: "malformed If-Match", role: "nurse", body: map[string]any{"to": "triaged"}, ifMatch: `"v1"`, status: http.StatusBadRequest, code: "invalid_argument"},
		// If-Match compares strongly (RFC 9110): a weak tag of the current version does not match.
		{name: "weak If-Match", role: "nurse", body: map[string]any{"to": "triaged"}, ifMatch: `W/"1"`, status: http.StatusPreconditionFailed, code: "failed_precondition"},
		{name: "unquoted If-Match", role: "nurse", body: map[string]any{"to": "triaged"}, ifMatch: `1`, status: http.StatusBadRequest, code: "invalid_argument"},
		{name: "other clinic", role: "other-clinic", body: map[string]any{"to": "cancelled", "reason": "x"}, status: http.StatusNotFound, code: "not_found"},
		{name: "nurse starts without a doctor", triaged: true, role: "nurse", body: map[string]any{"to": "in_consultation"}, status: http.StatusBadRequest, code: "invalid_argument"},
		{name: "nurse assigns a receptionist", triaged: true, role: "nurse", body: map[string]any{"to": "in_consultation", "doctorUid": "RECEPTIONIST"}, status: http.StatusBadRequest, code: "invalid_argument"},
		{name: "doctor assigns another doctor", triaged: true, role: "doctor", body: map[string]any{"to": "in_consultation", "doctorUid": "someone-else"}, status: http.StatusForbidden, code: "permission_denied"},
		{name: "no token", role: "", body: map[string]any{"to": "triaged"}, status: http.StatusUnauthorized, code: "unauthenticated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			enc := s.checkIn()
			if tc.triaged {
				enc = s.transition(enc.ID, "nurse", map[string]any{"to": "triaged"})
			}
			body := tc.body
			if m, ok := body.(map[string]any); ok && m["doctorUid"] == "RECEPTIONIST" {
				m["doctorUid"] = s.uids["receptionist"]
			}
			r := request{method: http.MethodPost, path: "/v1/encounters/" + enc.ID + "/transitions", role: tc.role, body: body}
			if tc.ifMatch != "" {
				r.header = map[string]string{"If-Match": tc.ifMatch}
			}
			rec, env := s.do(r)
			if rec.Code != tc.status || env.code() != tc.code {
				t.Fatalf("status %d code %q, want %d %q: %s", rec.Code, env.code(), tc.status, tc.code, rec.Body)
			}
			if tc.details != "" {
				if diff := cmp.Diff(decode[any](t, []byte(tc.details)), decode[any](t, env.Error.Details)); diff != "" {
					t.Errorf("details (-want +got):\n%s", diff)
				}
			}
		})
	}
	t.Run("nurse assigns a doctor of the clinic", func(t *testing.T) {
		t.Parallel()
		enc := s.checkIn()
		s.transition(enc.ID, "nurse", map[string]any{"to": "triaged"})
		got := s.transition(enc.ID, "nurse", map[string]any{"to": "in_consultation", "doctorUid": s.uids["doctor"]})
		if got.DoctorUID != s.uids["doctor"] {
			t.Errorf("doctor = %q, want %q", got.DoctorUID, s.uids["doctor"])
		}
	})
}

func TestTransitionEndpointIdempotent(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	enc := s.checkIn()
	r := request{method: http.MethodPost, path: "/v1/encounters/" + enc.ID + "/transitions", role: "nurse",
		body: map[string]any{"to": "triaged"}, header: map[string]string{"Idempotency-Key": "triage-" + enc.ID}}
	first, env1 := s.do(r)
	again, env2 := s.do(r)
	if first.Code != http.StatusOK || again.Code != http.StatusOK || again.Header().Get("Idempotent-Replayed") != "true" {
		t.Fatalf("first %d, retry %d (replayed %q): %s", first.Code, again.Code, again.Header().Get("Idempotent-Replayed"), again.Body)
	}
	if string(env1.Data) != string(env2.Data) {
		t.Errorf("retry answered differently:\n%s\n%s", env1.Data, env2.Data)
	}
	if got := s.auditActions()[encounter.AuditTransition]; got != 1 {
		t.Errorf("%d transitions recorded, want 1", got)
	}
}

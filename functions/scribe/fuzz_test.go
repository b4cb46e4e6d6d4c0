package scribe

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/medi-os/medi/shared/app"
	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/httpx/httpxtest"
	"github.com/medi-os/medi/shared/notes"
	"github.com/medi-os/medi/shared/scribe"
	"github.com/medi-os/medi/shared/uploads"
)

// noBackend is what every store of fuzzServer answers: a request that gets that far
// passed decoding and validation, and is answered 503.
func noBackend[T any](context.Context) (T, error) {
	var zero T
	return zero, errors.New("no backend in fuzzing")
}

func fuzzServer() *server {
	return &server{
		cfg:      &Config{UploadsBucket: "uploads"},
		sessions: app.NewLazy(noBackend[*scribe.Store]),
		notes:    app.NewLazy(noBackend[*notes.Store]),
		signer:   app.NewLazy(noBackend[*uploads.URLSigner]),
	}
}

// fuzzRequest is a request with body from a doctor of clinic c1.
func fuzzRequest(method, path string, body []byte) *http.Request {
	r := httptest.NewRequest(method, path, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return httpxtest.Quiet(r.WithContext(auth.WithPrincipal(r.Context(), auth.Principal{UID: "u1", ClinicID: "c1", Role: auth.RoleDoctor})))
}

// usableDocID reports whether id can name a Firestore document: an id Firestore refuses
// would make the store fail with a 5xx.
func usableDocID(id string) bool {
	return id != "" && len(id) <= 1500 && !strings.Contains(id, "/") && id != "." && id != ".." &&
		!(len(id) >= 4 && strings.HasPrefix(id, "__") && strings.HasSuffix(id, "__"))
}

// FuzzCreateSessionHandler runs POST /v1/scribe/sessions in process: every refusal is
// a 4xx with its stable code, and only an encounter id that can be a document id, an
// accepted content type and a size within that type's limit reach the store.
func FuzzCreateSessionHandler(f *testing.F) {
	f.Add([]byte(`{"encounterId":"e1","contentType":"text/vtt","sizeBytes":2048}`))
	f.Add([]byte(`{"encounterId":"e1","contentType":"audio/webm","sizeBytes":0}`))
	f.Add([]byte(`{"encounterId":"__e1__","contentType":"text/plain","sizeBytes":10}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := httptest.NewRecorder()
		fuzzServer().handleCreateSession(rec, fuzzRequest(http.MethodPost, "/v1/scribe/sessions", body))
		httpxtest.RequireClientError(t, rec, http.StatusServiceUnavailable)
		if rec.Code != http.StatusServiceUnavailable {
			return
		}
		var req createSessionRequest
		if err := json.Unmarshal(body, &req); err != nil {
			t.Fatalf("reached the store with a body that does not decode: %v", err)
		}
		format, ok := scribe.FormatOf(req.ContentType)
		if id := strings.TrimSpace(req.EncounterID); !usableDocID(id) || !ok || req.SizeBytes < 1 || req.SizeBytes > format.MaxBytes {
			t.Fatalf("reached the store with %+v", req)
		}
	})
}

// FuzzNoteChangeHandler runs the note changes in process (PUT /v1/notes/{id} and POST
// .../submit, approve, reject, amend; action picks one): every refusal is a 4xx with
// its stable code, and an edit or amendment without content never reaches the store.
func FuzzNoteChangeHandler(f *testing.F) {
	f.Add(uint8(0), []byte(`{"baseVersion":1,"content":{"subjective":[{"id":"s1","text":"cough","evidence":["s1"]}],"objective":[],"assessment":[],"plan":[]}}`))
	f.Add(uint8(1), []byte(`{"baseVersion":2}`))
	f.Add(uint8(3), []byte(`{"baseVersion":2,"reason":"wrong patient"}`))
	f.Add(uint8(4), []byte(`{"baseVersion":3,"content":null}`))
	s := fuzzServer()
	actions := []notes.Action{notes.ActionEdit, notes.ActionSubmit, notes.ActionApprove, notes.ActionReject, notes.ActionAmend}
	f.Fuzz(func(t *testing.T, action uint8, body []byte) {
		a := actions[int(action)%len(actions)]
		method, h := http.MethodPost, s.action(a)
		if a == notes.ActionEdit {
			method, h = http.MethodPut, http.HandlerFunc(s.handleEditNote)
		}
		r := fuzzRequest(method, "/v1/notes/n1", body)
		r.SetPathValue("id", "n1")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		httpxtest.RequireClientError(t, rec, http.StatusServiceUnavailable)
		if rec.Code == http.StatusServiceUnavailable && (a == notes.ActionEdit || a == notes.ActionAmend) {
			var req editRequest
			if err := json.Unmarshal(body, &req); err != nil || req.Content == nil || req.BaseVersion < 0 {
				t.Fatalf("%s reached the store without content or with a negative base version", a)
			}
		}
	})
}

// FuzzSearchNotesHandler runs POST /v1/notes/search in process: every refusal is a 4xx
// with its stable code, and only exactly one criterion reaches the store.
func FuzzSearchNotesHandler(f *testing.F) {
	f.Add([]byte(`{"encounterId":"e1"}`))
	f.Add([]byte(`{"encounterId":"e1","patientId":"p1"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := httptest.NewRecorder()
		fuzzServer().handleSearchNotes(rec, fuzzRequest(http.MethodPost, "/v1/notes/search", body))
		httpxtest.RequireClientError(t, rec, http.StatusServiceUnavailable)
		if rec.Code == http.StatusServiceUnavailable {
			var req searchNotesRequest
			if err := json.Unmarshal(body, &req); err != nil ||
				(strings.TrimSpace(req.EncounterID) == "") == (strings.TrimSpace(req.PatientID) == "") {
				t.Fatal("reached the store without exactly one criterion")
			}
		}
	})
}

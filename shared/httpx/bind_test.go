package httpx

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/medi-os/medi/shared/apierr"
)

type bindVitals struct {
	HeartRate int `json:"heartRate"`
}

type bindTarget struct {
	PatientID string     `json:"patientId"`
	Age       int        `json:"age"`
	Tags      []string   `json:"tags"`
	Vitals    bindVitals `json:"vitals"`
	At        time.Time  `json:"at"`
	WeightKg  *float64   `json:"weightKg"`
}

// onlyReader hides the concrete type of a reader so that httptest.NewRequest cannot
// know the length: the request then has ContentLength -1, like a chunked upload.
type onlyReader struct{ io.Reader }

func TestBind(t *testing.T) {
	t.Parallel()
	const (
		ctJSON = "application/json"
		// PHI-like values that must never be echoed in an error message.
		secret = "Jane Roe"
	)
	tests := []struct {
		name        string
		contentType string
		body        string
		chunked     bool // no Content-Length
		limit       int64
		want        bindTarget
		wantStatus  int // 0: success
		wantCode    string
		wantMsg     string // substring of the message
		wantFields  []apierr.FieldError
	}{
		{
			name:        "valid",
			contentType: ctJSON,
			body:        `{"patientId":"p1","age":42,"tags":["a","b"],"vitals":{"heartRate":80}}`,
			want:        bindTarget{PatientID: "p1", Age: 42, Tags: []string{"a", "b"}, Vitals: bindVitals{HeartRate: 80}},
		},
		{
			name:        "valid with charset and trailing white space",
			contentType: "application/json; charset=utf-8",
			body:        "{\"patientId\":\"p1\"}\r\n\t ",
			want:        bindTarget{PatientID: "p1"},
		},
		{
			name:        "media type is case-insensitive",
			contentType: "Application/JSON",
			body:        `{"age":1}`,
			want:        bindTarget{Age: 1},
		},
		{
			name:        "valid chunked",
			contentType: ctJSON,
			body:        `{"age":7}`,
			chunked:     true,
			want:        bindTarget{Age: 7},
		},
		{
			name:        "body exactly at the limit",
			contentType: ctJSON,
			body:        `{"patientId":"abcdefgh"}`, // 24 bytes
			limit:       24,
			want:        bindTarget{PatientID: "abcdefgh"},
		},
		{name: "missing content type", body: `{}`, wantStatus: 415, wantCode: CodeUnsupportedMedia, wantMsg: "application/json"},
		{name: "text/plain", contentType: "text/plain", body: `{}`, wantStatus: 415, wantCode: CodeUnsupportedMedia},
		{name: "form", contentType: "application/x-www-form-urlencoded", body: `a=b`, wantStatus: 415, wantCode: CodeUnsupportedMedia},
		{name: "json suffix type", contentType: "application/merge-patch+json", body: `{}`, wantStatus: 415, wantCode: CodeUnsupportedMedia},
		{name: "malformed content type", contentType: "application/json; =", body: `{}`, wantStatus: 415, wantCode: CodeUnsupportedMedia},
		{
			name: "over the limit with Content-Length", contentType: ctJSON, limit: 16,
			body:       `{"patientId":"` + strings.Repeat("x", 32) + `"}`,
			wantStatus: 413, wantCode: CodePayloadTooLarge, wantMsg: "16 bytes",
		},
		{
			name: "over the limit chunked", contentType: ctJSON, limit: 16, chunked: true,
			body:       `{"patientId":"` + strings.Repeat("x", 32) + `"}`,
			wantStatus: 413, wantCode: CodePayloadTooLarge, wantMsg: "16 bytes",
		},
		{
			name: "over the limit chunked in trailing white space", contentType: ctJSON, limit: 16, chunked: true,
			body:       `{}` + strings.Repeat(" ", 64),
			wantStatus: 413, wantCode: CodePayloadTooLarge,
		},
		{
			name: "over the default limit", contentType: ctJSON, chunked: true,
			body:       `{"patientId":"` + strings.Repeat("x", DefaultMaxBody) + `"}`,
			wantStatus: 413, wantCode: CodePayloadTooLarge, wantMsg: "65536 bytes",
		},
		{name: "empty body", contentType: ctJSON, body: "", wantStatus: 400, wantCode: CodeInvalidArgument, wantMsg: "must not be empty"},
		{name: "white space only", contentType: ctJSON, body: "  \n", wantStatus: 400, wantCode: CodeInvalidArgument, wantMsg: "must not be empty"},
		{name: "malformed", contentType: ctJSON, body: `{"age":}`, wantStatus: 400, wantCode: CodeInvalidArgument, wantMsg: "malformed JSON at byte 8"},
		{name: "truncated", contentType: ctJSON, body: `{"age":1`, wantStatus: 400, wantCode: CodeInvalidArgument, wantMsg: "unexpected end"},
		{
			name: "unknown field", contentType: ctJSON, body: `{"patientId":"p1","nmae":"` + secret + `"}`,
			wantStatus: 400, wantCode: CodeInvalidArgument, wantMsg: `unknown field "nmae"`,
			wantFields: []apierr.FieldError{{Field: "nmae", Message: "unknown field"}},
		},
		{
			name: "wrong type", contentType: ctJSON, body: `{"age":"` + secret + `"}`,
			wantStatus: 400, wantCode: CodeInvalidArgument, wantMsg: `field "age" must be a number`,
			wantFields: []apierr.FieldError{{Field: "age", Message: "wrong type: must be a number"}},
		},
		{
			name: "wrong type nested", contentType: ctJSON, body: `{"vitals":{"heartRate":true}}`,
			wantStatus: 400, wantCode: CodeInvalidArgument, wantMsg: `field "vitals.heartRate" must be a number`,
			wantFields: []apierr.FieldError{{Field: "vitals.heartRate", Message: "wrong type: must be a number"}},
		},
		{
			name: "wrong type pointer", contentType: ctJSON, body: `{"weightKg":"heavy"}`,
			wantStatus: 400, wantCode: CodeInvalidArgument, wantMsg: `field "weightKg" must be a number`,
			wantFields: []apierr.FieldError{{Field: "weightKg", Message: "wrong type: must be a number"}},
		},
		{
			name: "wrong type array", contentType: ctJSON, body: `{"tags":"` + secret + `"}`,
			wantStatus: 400, wantCode: CodeInvalidArgument, wantMsg: `field "tags" must be a JSON array`,
		},
		{
			name: "every wrong type at once", contentType: ctJSON,
			body:       `{"patientId":7,"age":"` + secret + `","vitals":{"heartRate":"fast"},"tags":["a",2,{}],"weightKg":[1]}`,
			wantStatus: 400, wantCode: CodeInvalidArgument, wantMsg: "6 fields have the wrong type",
			wantFields: []apierr.FieldError{
				{Field: "patientId", Message: "wrong type: must be a string"},
				{Field: "age", Message: "wrong type: must be a number"},
				{Field: "tags[1]", Message: "wrong type: must be a string"},
				{Field: "tags[2]", Message: "wrong type: must be a string"},
				{Field: "vitals.heartRate", Message: "wrong type: must be a number"},
				{Field: "weightKg", Message: "wrong type: must be a number"},
			},
		},
		{name: "array instead of object", contentType: ctJSON, body: `[1,2]`, wantStatus: 400, wantCode: CodeInvalidArgument, wantMsg: "must be a JSON object"},
		{name: "string instead of object", contentType: ctJSON, body: `"` + secret + `"`, wantStatus: 400, wantCode: CodeInvalidArgument, wantMsg: "must be a JSON object"},
		{name: "unmarshaler error does not echo the value", contentType: ctJSON, body: `{"at":"` + secret + `"}`, wantStatus: 400, wantCode: CodeInvalidArgument, wantMsg: "malformed JSON"},
		{name: "two values", contentType: ctJSON, body: `{} {}`, wantStatus: 400, wantCode: CodeInvalidArgument, wantMsg: "single JSON value"},
		{name: "trailing garbage", contentType: ctJSON, body: `{}x`, wantStatus: 400, wantCode: CodeInvalidArgument, wantMsg: "single JSON value"},
		{name: "trailing bracket", contentType: ctJSON, body: `{}]`, wantStatus: 400, wantCode: CodeInvalidArgument, wantMsg: "single JSON value"},
		{name: "trailing garbage chunked", contentType: ctJSON, body: `{"age":1} "` + secret + `"`, chunked: true, wantStatus: 400, wantCode: CodeInvalidArgument, wantMsg: "single JSON value"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var body io.Reader = strings.NewReader(tc.body)
			if tc.chunked {
				body = onlyReader{body}
			}
			r := httptest.NewRequest(http.MethodPost, "/v1/patients", body)
			if tc.chunked && r.ContentLength != -1 {
				t.Fatalf("test setup: ContentLength = %d, want -1", r.ContentLength)
			}
			if tc.contentType != "" {
				r.Header.Set("Content-Type", tc.contentType)
			}
			var got bindTarget
			err := Bind(httptest.NewRecorder(), r, &got, tc.limit)
			if tc.wantStatus == 0 {
				if err != nil {
					t.Fatalf("Bind: %v", err)
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("decoded (-want +got):\n%s", diff)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Bind error = %T %v, want *Error", err, err)
			}
			if e.Status != tc.wantStatus || e.Code != tc.wantCode {
				t.Errorf("Bind error = %d %q, want %d %q", e.Status, e.Code, tc.wantStatus, tc.wantCode)
			}
			if !strings.Contains(e.Message, tc.wantMsg) {
				t.Errorf("message %q does not contain %q", e.Message, tc.wantMsg)
			}
			if strings.Contains(e.Error(), secret) {
				t.Errorf("error %q echoes a request value", e.Error())
			}
			if tc.wantFields != nil {
				details, ok := e.Details.(map[string]any)
				if !ok {
					t.Fatalf("details = %#v, want a map with fields", e.Details)
				}
				if diff := cmp.Diff(tc.wantFields, details["fields"]); diff != "" {
					t.Errorf("details.fields (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// TestBind_OverHTTP sends real chunked and fixed-length bodies through a server and
// checks the 413 and 400 envelopes the client receives.
func TestBind_OverHTTP(t *testing.T) {
	t.Parallel()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var dst bindTarget
		if err := Bind(w, r, &dst, 32); err != nil {
			WriteError(w, r, err)
			return
		}
		WriteJSON(w, r, http.StatusOK, dst)
	})
	handler, _ := stack(h)
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)

	big := `{"patientId":"` + strings.Repeat("x", 100) + `"}`
	tests := []struct {
		name       string
		body       io.Reader
		wantStatus int
		wantCode   string
		wantChunk  bool
	}{
		{name: "fixed length over limit", body: strings.NewReader(big), wantStatus: 413, wantCode: CodePayloadTooLarge},
		{name: "chunked over limit", body: onlyReader{strings.NewReader(big)}, wantStatus: 413, wantCode: CodePayloadTooLarge, wantChunk: true},
		{name: "chunked trailing data", body: onlyReader{strings.NewReader(`{}{}`)}, wantStatus: 400, wantCode: CodeInvalidArgument, wantChunk: true},
		{name: "chunked valid", body: onlyReader{strings.NewReader(`{"age":3}`)}, wantStatus: 200, wantChunk: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/", tc.body)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			if tc.wantChunk && req.ContentLength != 0 {
				t.Fatalf("test setup: ContentLength = %d, want 0 (unknown, sent chunked)", req.ContentLength)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			rec := httptest.NewRecorder()
			rec.Code = resp.StatusCode
			for k, v := range resp.Header {
				rec.Header()[k] = v
			}
			if _, err := io.Copy(rec.Body, resp.Body); err != nil {
				t.Fatal(err)
			}
			if tc.wantStatus == 200 {
				if resp.StatusCode != 200 {
					t.Fatalf("status = %d, want 200; body %s", resp.StatusCode, rec.Body)
				}
				env := decodeEnvelope(t, rec)
				var got bindTarget
				if err := json.Unmarshal(env.Data, &got); err != nil {
					t.Fatal(err)
				}
				if got.Age != 3 {
					t.Errorf("age = %d, want 3", got.Age)
				}
				return
			}
			wantError(t, rec, tc.wantStatus, tc.wantCode)
		})
	}
}

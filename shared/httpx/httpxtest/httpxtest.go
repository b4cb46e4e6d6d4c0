// Package httpxtest checks HTTP answers against the conventions of shared/httpx in tests
// and fuzz targets: one JSON envelope, and for errors a status that matches its stable code.
package httpxtest

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/logging"
)

// Quiet returns r with a logger that discards everything, for fuzz targets that would
// otherwise log every one of their millions of requests.
func Quiet(r *http.Request) *http.Request {
	return r.WithContext(logging.WithLogger(r.Context(), slog.New(slog.DiscardHandler)))
}

// ClientErrorCodes maps each 4xx status the suite answers to its stable error code.
var ClientErrorCodes = map[int]string{
	http.StatusBadRequest:            httpx.CodeInvalidArgument,
	http.StatusUnauthorized:          httpx.CodeUnauthenticated,
	http.StatusForbidden:             httpx.CodePermissionDenied,
	http.StatusNotFound:              httpx.CodeNotFound,
	http.StatusMethodNotAllowed:      httpx.CodeMethodNotAllowed,
	http.StatusConflict:              httpx.CodeConflict,
	http.StatusPreconditionFailed:    httpx.CodeFailedPrecondition,
	http.StatusPreconditionRequired:  httpx.CodePreconditionRequired,
	http.StatusRequestEntityTooLarge: httpx.CodePayloadTooLarge,
	http.StatusUnsupportedMediaType:  httpx.CodeUnsupportedMedia,
	http.StatusTooManyRequests:       httpx.CodeRateLimited,
}

// Envelope is a decoded response body.
type Envelope struct {
	Success bool            `json:"success"`
	Data    json.RawMessage `json:"data"`
	Error   *struct {
		Code    string          `json:"code"`
		Message string          `json:"message"`
		Details json.RawMessage `json:"details"`
	} `json:"error"`
	RequestID string `json:"requestId"`
}

// Code returns the error code, "" for a success.
func (e Envelope) Code() string {
	if e.Error == nil {
		return ""
	}
	return e.Error.Code
}

// Decode decodes rec's body as an envelope, failing t when it is not one JSON envelope
// consistent with the status: success with data below 400, an error with a code otherwise.
func Decode(t testing.TB, rec *httptest.ResponseRecorder) Envelope {
	t.Helper()
	var env Envelope
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
		t.Fatalf("status %d: body is not a JSON envelope: %v", rec.Code, err)
	}
	if got, want := env.Success, rec.Code < 400; got != want {
		t.Fatalf("status %d with success %v", rec.Code, got)
	}
	if rec.Code >= 400 && (env.Error == nil || env.Error.Code == "" || env.Error.Message == "") {
		t.Fatalf("status %d without an error code and message", rec.Code)
	}
	return env
}

// RequireClientError fails t unless rec is a 4xx whose code is the stable code of its
// status, or one of the statuses in also (e.g. 503 from a fuzz target's missing backend,
// meaning that the request passed decoding and validation). It returns the envelope.
func RequireClientError(t testing.TB, rec *httptest.ResponseRecorder, also ...int) Envelope {
	t.Helper()
	env := Decode(t, rec)
	for _, s := range also {
		if rec.Code == s {
			return env
		}
	}
	want, ok := ClientErrorCodes[rec.Code]
	if !ok {
		t.Fatalf("status %d (%s), want a 4xx", rec.Code, env.Code())
	}
	if env.Code() != want {
		t.Fatalf("status %d with code %q, want %q", rec.Code, env.Code(), want)
	}
	return env
}

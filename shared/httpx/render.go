package httpx

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/medi-os/medi/shared/logging"
)

// Envelope is the body of every response.
type Envelope struct {
	Success   bool   `json:"success"`
	Data      any    `json:"data"`
	Error     *Error `json:"error"`
	RequestID string `json:"requestId"`
}

// WriteJSON writes a success envelope with data. The body is rendered into a buffer
// first so that an encoding failure never leaves half a response.
func WriteJSON(w http.ResponseWriter, r *http.Request, status int, data any) {
	write(w, r, status, Envelope{Success: true, Data: data, RequestID: logging.RequestID(r.Context())})
}

// WriteError writes the error envelope for err (an *Error, or an internal error).
// Internal errors are logged with their cause; the client sees only the code and request id.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	e := withAction(AsError(err), r)
	log := logging.FromContext(r.Context())
	if e.Status >= 500 {
		log.Error("request failed", "code", e.Code, "status", e.Status, "error", errString(e.cause))
	} else {
		log.Info("request rejected", "code", e.Code, "status", e.Status)
	}
	for k, vs := range e.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	write(w, r, e.Status, Envelope{Success: false, Error: e, RequestID: logging.RequestID(r.Context())})
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// WriteMedia writes data as the whole body (no envelope) with contentType, for the
// routes that answer a standard format of their own (the FHIR export answers
// application/fhir+json). The body is buffered like WriteJSON's; an encoding failure
// answers the error envelope instead.
func WriteMedia(w http.ResponseWriter, r *http.Request, status int, contentType string, data any) {
	id := logging.RequestID(r.Context())
	body, err := encode(data)
	if err != nil {
		logging.FromContext(r.Context()).Error("encoding response failed", "error", err.Error())
		write(w, r, http.StatusInternalServerError, Envelope{Success: false, Error: Internal(err), RequestID: id})
		return
	}
	send(w, r, status, contentType, id, body)
}

func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(true)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func write(w http.ResponseWriter, r *http.Request, status int, env Envelope) {
	body, err := encode(env)
	if err != nil {
		logging.FromContext(r.Context()).Error("encoding response failed", "error", err.Error())
		status = http.StatusInternalServerError
		body, _ = encode(Envelope{Success: false, Error: Internal(err), RequestID: env.RequestID})
	}
	send(w, r, status, "application/json; charset=utf-8", env.RequestID, body)
}

func send(w http.ResponseWriter, r *http.Request, status int, contentType, requestID string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if requestID != "" {
		h.Set("X-Request-Id", requestID)
	}
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

package httpx

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"
)

// DefaultMaxBody is the request body limit unless an endpoint says otherwise.
const DefaultMaxBody = 64 << 10

// Bind decodes exactly one JSON value from r's body into dst, strictly:
// Content-Type must be application/json (415), the body at most maxBytes (413; 0 means
// DefaultMaxBody), unknown fields and trailing data are rejected (400) with a message
// that names the problem. The returned error is always an *Error.
func Bind(w http.ResponseWriter, r *http.Request, dst any, maxBytes int64) error {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBody
	}
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if ct == "" || err != nil || mt != "application/json" {
		return NewError(http.StatusUnsupportedMediaType, CodeUnsupportedMedia,
			"Content-Type must be application/json")
	}
	if r.ContentLength > maxBytes {
		return tooLarge(maxBytes)
	}
	body := http.MaxBytesReader(w, r.Body, maxBytes)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err, maxBytes)
	}
	// Exactly one JSON value: anything but white space after it is an error.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge(maxBytes)
		}
		return BadRequest("request body must contain a single JSON value")
	}
	return nil
}

func tooLarge(limit int64) *Error {
	return NewError(http.StatusRequestEntityTooLarge, CodePayloadTooLarge,
		"request body must not be larger than %d bytes", limit)
}

func decodeError(err error, limit int64) *Error {
	var (
		syntaxErr *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
		mbe       *http.MaxBytesError
	)
	switch {
	case errors.As(err, &mbe):
		return tooLarge(limit)
	case errors.As(err, &syntaxErr):
		return BadRequest("malformed JSON at byte %d", syntaxErr.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return BadRequest("malformed JSON: unexpected end of body")
	case errors.Is(err, io.EOF):
		return BadRequest("request body must not be empty")
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return BadRequest("request body must be a %s", kindName(typeErr.Type))
		}
		return BadRequest("field %q must be a %s", field, kindName(typeErr.Type)).
			WithDetails(map[string]any{"fields": []FieldError{{Field: field, Message: "wrong type"}}})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.TrimPrefix(err.Error(), "json: unknown field ")
		return BadRequest("unknown field %s", name).
			WithDetails(map[string]any{"fields": []FieldError{{Field: strings.Trim(name, `"`), Message: "unknown field"}}})
	default:
		return BadRequest("malformed JSON: %s", sanitize(err.Error()))
	}
}

// kindName names the JSON type a Go type is decoded from.
func kindName(t reflect.Type) string {
	if t == nil {
		return "valid JSON value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "JSON object"
	case reflect.Slice, reflect.Array:
		return "JSON array"
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		return "number"
	default:
		return "valid JSON value"
	}
}

// sanitize keeps a decoder message short and free of request content.
func sanitize(s string) string {
	if i := strings.Index(s, "\""); i >= 0 {
		s = s[:i]
	}
	if len(s) > 120 {
		s = s[:120]
	}
	return strings.TrimSpace(s)
}

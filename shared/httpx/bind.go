package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/medi-os/medi/shared/apierr"
)

// DefaultMaxBody is the request body limit unless an endpoint says otherwise.
const DefaultMaxBody = 64 << 10

// Bind decodes exactly one JSON value from r's body into dst, strictly:
// Content-Type must be application/json (415), the body at most maxBytes (413; 0 means
// DefaultMaxBody), a body that is not UTF-8, unknown fields and trailing data are
// rejected (400) with a message that names the problem. The returned error is always an
// *Error.
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
	// The body is read whole (it is bounded) so that it can be checked as UTF-8 first:
	// encoding/json would silently replace invalid bytes in strings with U+FFFD.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge(maxBytes)
		}
		return BadRequest("request body could not be read")
	}
	if !utf8.Valid(body) {
		return BadRequest("request body must be UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			// encoding/json stops at the first value of the wrong type: every one is
			// reported at once, as for any other invalid field.
			return wrongTypes(body, dst, typeErr)
		}
		return decodeError(err, maxBytes)
	}
	// Exactly one JSON value: anything but white space after it is an error.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
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
			WithDetails(map[string]any{"fields": []apierr.FieldError{{Field: field, Message: "wrong type"}}})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		quoted := strings.TrimPrefix(err.Error(), "json: unknown field ")
		name, uerr := strconv.Unquote(quoted)
		if uerr != nil {
			name = strings.Trim(quoted, `"`)
		}
		name = clip(name, maxFieldName)
		return BadRequest("unknown field %q", name).
			WithDetails(map[string]any{"fields": []apierr.FieldError{{Field: name, Message: "unknown field"}}})
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

// maxFieldName bounds a client-sent field name echoed in an error, in bytes.
const maxFieldName = 64

// clip cuts s to at most n bytes on a rune boundary, marking the cut with "...".
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
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

package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// fuzzInner and fuzzBody exercise every kind of destination a request type uses: strings,
// numbers, optional values, lists of objects, maps and nesting.
type fuzzInner struct {
	Code  string  `json:"code"`
	Value float64 `json:"value"`
}

type fuzzBody struct {
	PatientID string            `json:"patientId"`
	Age       int               `json:"age"`
	Level     *int              `json:"level"`
	Injury    bool              `json:"injury"`
	Weight    *float64          `json:"weightKg"`
	Tags      []string          `json:"tags"`
	Vitals    fuzzInner         `json:"vitals"`
	Items     []fuzzInner       `json:"items"`
	Labels    map[string]string `json:"labels"`
	Next      *fuzzInner        `json:"next"`
}

// bindErrorCodes are the only (status, code) pairs Bind may answer.
var bindErrorCodes = map[int]string{
	http.StatusBadRequest:            CodeInvalidArgument,
	http.StatusRequestEntityTooLarge: CodePayloadTooLarge,
	http.StatusUnsupportedMediaType:  CodeUnsupportedMedia,
}

// maxBindMessage bounds an error message: whatever the body, the answer stays small.
const maxBindMessage = 200

// FuzzBind checks the binder's contract on arbitrary bodies, content types and limits:
//   - every error is an *Error with 400, 413 or 415 and its stable code, and a short message;
//   - a content type other than application/json is 415, whatever the body;
//   - a body over the limit is never accepted (413 when its length is declared);
//   - a body that is not UTF-8 is 400;
//   - an accepted body is exactly one valid JSON value (no trailing data), names no
//     unknown field at any depth, and decodes to valid UTF-8 strings only;
//   - the binder accepts exactly what a strict reference decoder accepts (no false 4xx).
func FuzzBind(f *testing.F) {
	for _, s := range []struct {
		ct, body string
		limit    uint32
		chunked  bool
	}{
		{"application/json", `{"patientId":"p1","age":42,"tags":["a"],"vitals":{"code":"hr","value":80}}`, 0, false},
		{"application/json; charset=utf-8", `{"labels":{"x":"y"},"items":[{"code":"a"}]}` + "\r\n", 0, true},
		{"application/json", `{"age":1}{"age":2}`, 0, false},
		{"application/json", `{"agee":1}`, 0, false},
		{"text/plain", `{}`, 0, false},
		{"application/json", `{"patientId":"abcdefgh"}`, 24, true},
		{"application/json", `{"patientId":"abcdefghi"}`, 24, true},
		{"application/json", `{"` + strings.Repeat("x", 300) + `":1}`, 0, false},
	} {
		f.Add(s.ct, []byte(s.body), s.limit, s.chunked)
	}
	f.Fuzz(func(t *testing.T, contentType string, body []byte, limitArg uint32, chunked bool) {
		limit := int64(limitArg)
		if limit == 0 || limit > DefaultMaxBody {
			limit = DefaultMaxBody
		}
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		if chunked {
			r = httptest.NewRequest(http.MethodPost, "/", onlyReader{bytes.NewReader(body)})
		}
		r.Header.Set("Content-Type", contentType)
		var dst fuzzBody
		err := Bind(httptest.NewRecorder(), r, &dst, limit)

		mt, _, mtErr := mime.ParseMediaType(contentType)
		jsonType := mtErr == nil && mt == "application/json"
		if err != nil {
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("error %T is not an *Error: %v", err, err)
			}
			if want, ok := bindErrorCodes[e.Status]; !ok || e.Code != want {
				t.Fatalf("status %d code %q: not one of the binder's answers", e.Status, e.Code)
			}
			if len(e.Message) > maxBindMessage || !utf8.ValidString(e.Message) {
				t.Fatalf("message of %d bytes (valid UTF-8 %v): %q", len(e.Message), utf8.ValidString(e.Message), e.Message)
			}
		}
		if !jsonType {
			if err == nil || err.(*Error).Status != http.StatusUnsupportedMediaType {
				t.Fatalf("content type %q: got %v, want 415", contentType, err)
			}
			return
		}
		if int64(len(body)) > limit {
			if err == nil {
				t.Fatalf("accepted a body of %d bytes over the limit of %d", len(body), limit)
			}
			if !chunked && err.(*Error).Status != http.StatusRequestEntityTooLarge {
				t.Fatalf("declared length %d over %d: got %v, want 413", len(body), limit, err)
			}
			return
		}
		refErr := strictDecode(body)
		if (err == nil) != (refErr == nil) {
			t.Fatalf("Bind error %v, reference decoder error %v", err, refErr)
		}
		if err != nil {
			if got := err.(*Error).Status; got != http.StatusBadRequest {
				t.Fatalf("body within the limit rejected with %d, want 400: %v", got, err)
			}
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted a body that is not exactly one JSON value")
		}
		var generic any
		if err := json.Unmarshal(body, &generic); err != nil {
			t.Fatal(err)
		}
		if path, ok := knownFields(generic, reflect.TypeFor[fuzzBody]()); !ok {
			t.Fatalf("accepted unknown field at %s", path)
		}
		if path, ok := validStrings(reflect.ValueOf(dst), "$"); !ok {
			t.Fatalf("decoded invalid UTF-8 at %s", path)
		}
	})
}

// strictDecode is the reference: one value into a fresh fuzzBody, unknown fields
// rejected, nothing but JSON white space after it.
func strictDecode(body []byte) error {
	if !utf8.Valid(body) {
		return errors.New("not UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var v fuzzBody
	if err := dec.Decode(&v); err != nil {
		return err
	}
	rest := body[dec.InputOffset():]
	if len(bytes.TrimLeft(rest, " \t\r\n")) > 0 {
		return errors.New("trailing data")
	}
	return nil
}

// knownFields reports whether every object member of v names a field of t (encoding/json
// matches names case-insensitively), at every depth.
func knownFields(v any, t reflect.Type) (string, bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch x := v.(type) {
	case map[string]any:
		switch t.Kind() {
		case reflect.Map:
			for k, e := range x {
				if p, ok := knownFields(e, t.Elem()); !ok {
					return k + "." + p, false
				}
			}
		case reflect.Struct:
			for k, e := range x {
				ft, ok := fieldByJSONName(t, k)
				if !ok {
					return k, false
				}
				if p, ok := knownFields(e, ft); !ok {
					return k + "." + p, false
				}
			}
		}
	case []any:
		if t.Kind() == reflect.Slice {
			for _, e := range x {
				if p, ok := knownFields(e, t.Elem()); !ok {
					return "[]." + p, false
				}
			}
		}
	}
	return "", true
}

func fieldByJSONName(t reflect.Type, name string) (reflect.Type, bool) {
	for i := range t.NumField() {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if strings.EqualFold(tag, name) {
			return t.Field(i).Type, true
		}
	}
	return nil, false
}

// validStrings reports whether every string (and map key) reachable from v is valid UTF-8.
func validStrings(v reflect.Value, path string) (string, bool) {
	switch v.Kind() {
	case reflect.String:
		return path, utf8.ValidString(v.String())
	case reflect.Pointer:
		if !v.IsNil() {
			return validStrings(v.Elem(), path)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if p, ok := validStrings(v.Field(i), path+"."+v.Type().Field(i).Name); !ok {
				return p, false
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			if p, ok := validStrings(v.Index(i), path+"[]"); !ok {
				return p, false
			}
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			if !utf8.ValidString(it.Key().String()) {
				return path + "{key}", false
			}
			if p, ok := validStrings(it.Value(), path+"{}"); !ok {
				return p, false
			}
		}
	}
	return path, true
}

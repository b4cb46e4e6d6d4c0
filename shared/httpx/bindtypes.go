package httpx

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/medi-os/medi/shared/apierr"
)

// wrongTypes answers a body with values of the wrong JSON type: every such field, found
// by walking the body against dst's type (first is the one the decoder stopped at, the
// fallback should the walk find none).
func wrongTypes(body []byte, dst any, first *json.UnmarshalTypeError) *Error {
	fields := typeErrors(body, reflect.TypeOf(dst), "")
	if len(fields) == 0 {
		fields = []apierr.FieldError{{Field: first.Field, Message: "wrong type: must be a " + kindName(first.Type)}}
	}
	for i := range fields {
		fields[i].Field = clip(fields[i].Field, maxFieldName)
	}
	msg := fmt.Sprintf("field %q %s", fields[0].Field, strings.TrimPrefix(fields[0].Message, "wrong type: "))
	if len(fields) > 1 {
		msg = fmt.Sprintf("%d fields have the wrong type (see details.fields)", len(fields))
	}
	return BadRequest("%s", msg).WithDetails(map[string]any{"fields": fields})
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// typeErrors lists the values of raw, at path, that cannot be decoded into t because of
// their JSON type, down to the innermost field (vitals.heartRate, allergies[1].name).
func typeErrors(raw []byte, t reflect.Type, path string) []apierr.FieldError {
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil
	}
	var te *json.UnmarshalTypeError
	if err := json.Unmarshal(raw, reflect.New(t).Interface()); !errors.As(err, &te) {
		return nil
	}
	base := t
	for base.Kind() == reflect.Pointer {
		base = base.Elem()
	}
	wrong := []apierr.FieldError{{Field: path, Message: "wrong type: must be a " + kindName(base)}}
	if reflect.PointerTo(base).Implements(jsonUnmarshaler) || reflect.PointerTo(base).Implements(textUnmarshaler) {
		return wrong
	}
	var out []apierr.FieldError
	switch base.Kind() {
	case reflect.Struct:
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return wrong
		}
		for _, f := range jsonFields(base) {
			if v, ok := lookupKey(obj, f.name); ok {
				out = append(out, typeErrors(v, f.typ, joinPath(path, f.name))...)
			}
		}
	case reflect.Map:
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return wrong
		}
		for _, k := range sortedKeys(obj) {
			out = append(out, typeErrors(obj[k], base.Elem(), joinPath(path, k))...)
		}
	case reflect.Slice, reflect.Array:
		var arr []json.RawMessage
		if base.Elem().Kind() == reflect.Uint8 || json.Unmarshal(raw, &arr) != nil {
			return wrong
		}
		for i, v := range arr {
			out = append(out, typeErrors(v, base.Elem(), fmt.Sprintf("%s[%d]", path, i))...)
		}
	default:
		return wrong
	}
	if len(out) == 0 {
		return wrong
	}
	return out
}

type jsonField struct {
	name string
	typ  reflect.Type
}

// jsonFields lists the fields encoding/json decodes into t, in declaration order, those
// of embedded structs promoted.
func jsonFields(t reflect.Type) []jsonField {
	var out []jsonField
	seen := map[string]bool{}
	add := func(f jsonField) {
		if !seen[f.name] {
			seen[f.name] = true
			out = append(out, f)
		}
	}
	var embedded []reflect.Type
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				embedded = append(embedded, ft)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		add(jsonField{name, f.Type})
	}
	for _, et := range embedded { // the outer struct's fields win
		for _, f := range jsonFields(et) {
			add(f)
		}
	}
	return out
}

// lookupKey finds a field's key in a decoded object as encoding/json does: the exact
// name, else one equal to it but for case.
func lookupKey(obj map[string]json.RawMessage, name string) (json.RawMessage, bool) {
	if v, ok := obj[name]; ok {
		return v, true
	}
	for _, k := range sortedKeys(obj) {
		if strings.EqualFold(k, name) {
			return obj[k], true
		}
	}
	return nil, false
}

func sortedKeys(obj map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

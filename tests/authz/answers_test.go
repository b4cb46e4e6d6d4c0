package authz

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/medi-os/medi/scripts/stack"
	roles "github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/tests/apitest"
)

// checkAnswers holds every staff route to the API's rules for refusals, on the route
// listing the matrix covers: an Authorization header of another scheme than Bearer is
// 401 auth_scheme_unsupported (never token_missing), and a JSON body whose fields all have
// the wrong type is 400 naming every one of them in details.fields.
func (m *matrixRun) checkAnswers(t *testing.T, fn string, route httpx.Route, row Row) {
	if row.Access != Staff {
		return
	}
	path := row.Path
	if path == "" {
		path = route.Pattern
	}
	ids := m.own.IDs
	req := apitest.Request{Method: route.Method, Path: placeholders(ids).Replace(path), Header: map[string]string{}}
	pathOnly, _, _ := strings.Cut(req.Path, "?")
	base := m.st.gateway.BaseURL
	if stack.Route(pathOnly) != fn {
		return // a route the load balancer does not send to this function
	}

	t.Run("basic auth", func(t *testing.T) {
		r := req
		r.Header = map[string]string{"Authorization": "Basic YWRtaW46YWRtaW4="}
		var got answer
		if row.Stream {
			got = m.stream(t, base, r)
		} else {
			resp := m.st.client(t, base).Do(t, r)
			got = answer{Status: resp.Status, Body: resp.Body, Code: resp.Envelope.Code()}
		}
		if got.Status != http.StatusUnauthorized || reasonOf(got.Body) != roles.ReasonScheme {
			t.Errorf("Authorization: Basic: status %d reason %q, want 401 %s: %s", got.Status, reasonOf(got.Body), roles.ReasonScheme, truncate(got.Body))
		}
	})

	if row.Body == nil || route.Method == http.MethodGet || route.Method == http.MethodDelete {
		return
	}
	props := requestProperties(m.spec, route)
	if len(props) == 0 {
		return
	}
	role := roles.RoleAdmin
	if len(row.Roles) > 0 {
		role = row.Roles[0]
	}
	if row.ActionRoles != nil {
		role = row.ActionRoles[0]
	}
	caller := m.own.Users[role]
	valid, ok := row.Body(ids, caller).(map[string]any)
	if !ok {
		return
	}
	t.Run("every wrong type at once", func(t *testing.T) {
		body := maps.Clone(valid)
		var want []string
		for k := range valid {
			if v, ok := wrongValue(props[k]); ok {
				body[k] = v
				want = append(want, k)
			}
		}
		if len(want) == 0 {
			t.Skip("no field of the body has a JSON type in the OpenAPI document")
		}
		slices.Sort(want)
		r := req
		r.Token = caller.Token
		maps.Copy(r.Header, row.Header)
		if _, ok := r.Header["Idempotency-Key"]; ok {
			r.Header["Idempotency-Key"] = "authz-types-" + randomHex(8)
		}
		r.Body = body
		resp := m.st.client(t, base).Do(t, r)
		var env struct {
			Error struct {
				Details struct {
					Fields []struct{ Field string } `json:"fields"`
				} `json:"details"`
			} `json:"error"`
		}
		_ = json.Unmarshal(resp.Body, &env)
		var got []string
		for _, f := range env.Error.Details.Fields {
			top, _, _ := strings.Cut(f.Field, ".")
			top, _, _ = strings.Cut(top, "[")
			if !slices.Contains(got, top) {
				got = append(got, top)
			}
		}
		slices.Sort(got)
		if resp.Status != http.StatusBadRequest || !slices.Equal(got, want) {
			t.Errorf("fields %v of the wrong type: status %d, details.fields name %v: %s", want, resp.Status, got, truncate(resp.Body))
		}
	})
}

// reasonOf is error.details.reason of an envelope.
func reasonOf(body []byte) string {
	var env struct {
		Error struct {
			Details struct {
				Reason string `json:"reason"`
			} `json:"details"`
		} `json:"error"`
	}
	_ = json.Unmarshal(body, &env)
	return env.Error.Details.Reason
}

// requestProperties is the top-level properties of the route's JSON request body.
func requestProperties(spec *openapi3.T, route httpx.Route) openapi3.Schemas {
	item := spec.Paths.Find(route.Pattern)
	if item == nil {
		return nil
	}
	op := item.GetOperation(route.Method)
	if op == nil || op.RequestBody == nil || op.RequestBody.Value == nil {
		return nil
	}
	mt := op.RequestBody.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
		return nil
	}
	return mt.Schema.Value.Properties
}

// wrongValue is a value of another JSON type than the property's, when the document gives
// it exactly one type.
func wrongValue(p *openapi3.SchemaRef) (any, bool) {
	if p == nil || p.Value == nil || p.Value.Type == nil || len(*p.Value.Type) != 1 {
		return nil, false
	}
	switch (*p.Value.Type)[0] {
	case openapi3.TypeString:
		return 12345, true
	case openapi3.TypeInteger, openapi3.TypeNumber, openapi3.TypeBoolean, openapi3.TypeArray, openapi3.TypeObject:
		return "not-this-type", true
	}
	return nil, false
}

// TestListsAreItems holds every route's answer to the one rule for lists: an answer that
// is a list (a page with nextPageToken, or an object whose only array is its content)
// carries it in items, whatever it lists. Not parallel: listing the routes may set
// environment variables.
func TestListsAreItems(t *testing.T) {
	spec := apitest.Spec(t)
	lists := 0
	for _, fr := range listRoutes(t) {
		for _, route := range fr.Routes {
			item := spec.Paths.Find(route.Pattern)
			if item == nil || item.GetOperation(route.Method) == nil {
				continue
			}
			for _, status := range []int{200, 201} {
				resp := item.GetOperation(route.Method).Responses.Status(status)
				if resp == nil || resp.Value == nil || resp.Value.Content.Get("application/json") == nil {
					continue
				}
				data := dataSchema(resp.Value.Content.Get("application/json").Schema)
				if data == nil {
					continue
				}
				var arrays []string
				for name, p := range data.Properties {
					if p.Value != nil && p.Value.Type != nil && p.Value.Type.Is(openapi3.TypeArray) {
						arrays = append(arrays, name)
					}
				}
				_, paged := data.Properties["nextPageToken"]
				if !paged && (len(arrays) != 1 || len(data.Properties) > 2) {
					continue
				}
				lists++
				if len(arrays) != 1 || arrays[0] != "items" {
					t.Errorf("%s %s answers a list in %v: a list is items (with nextPageToken when paged)", route.Method, route.Pattern, arrays)
				}
			}
		}
	}
	if lists < 8 {
		t.Errorf("only %d list answers found: the schema walk is broken", lists)
	}
}

// dataSchema is the schema of the envelope's data, through allOf.
func dataSchema(ref *openapi3.SchemaRef) *openapi3.Schema {
	if ref == nil || ref.Value == nil {
		return nil
	}
	if d, ok := ref.Value.Properties["data"]; ok && d.Value != nil && len(d.Value.Properties) > 0 {
		return d.Value
	}
	for _, part := range ref.Value.AllOf { // the envelope's generic data, then the route's
		if s := dataSchema(part); s != nil {
			return s
		}
	}
	return nil
}

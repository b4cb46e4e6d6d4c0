package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/medi-os/medi/scripts/stack"
)

const schemaPrefix = "#/components/schemas/"

// methods in the order an operation list reads best.
var methods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// loadSpec reads and validates the OpenAPI document (examples included).
func loadSpec(ctx context.Context, path string) (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", path, err)
	}
	if err := doc.Validate(ctx); err != nil {
		return nil, fmt.Errorf("%s is not valid: %w", path, err)
	}
	return doc, nil
}

// operation is one method on one path.
type operation struct {
	Method, Path string
	Op           *openapi3.Operation
	Params       openapi3.Parameters // path-level then operation-level
}

// operations returns the document's operations grouped by the function that owns their
// path (the load balancer's URL map, scripts/stack), functions in catalogue order, paths
// sorted within a function.
func operations(doc *openapi3.T) (order []string, byFunction map[string][]operation) {
	byFunction = map[string][]operation{}
	paths := doc.Paths.Map()
	keys := make([]string, 0, len(paths))
	for p := range paths {
		keys = append(keys, p)
	}
	sort.Strings(keys)
	for _, p := range keys {
		item := paths[p]
		fn := stack.Route(p)
		for _, m := range methods {
			op := item.GetOperation(m)
			if op == nil {
				continue
			}
			params := append(append(openapi3.Parameters{}, item.Parameters...), op.Parameters...)
			byFunction[fn] = append(byFunction[fn], operation{Method: m, Path: p, Op: op, Params: params})
		}
	}
	for _, f := range stack.Functions {
		if len(byFunction[f.Name]) > 0 {
			order = append(order, f.Name)
		}
	}
	return order, byFunction
}

// render writes the whole reference.
func render(doc *openapi3.T) ([]byte, error) {
	var b bytes.Buffer
	slugs := map[string]string{} // slug -> heading, to refuse duplicate anchors
	heading := func(level int, text string) error {
		s := slug(text)
		if prev, ok := slugs[s]; ok {
			return fmt.Errorf("headings %q and %q have the same anchor #%s", prev, text, s)
		}
		slugs[s] = text
		fmt.Fprintf(&b, "%s %s\n\n", strings.Repeat("#", level), text)
		return nil
	}

	if err := heading(1, "Medi OS API reference"); err != nil {
		return nil, err
	}
	fmt.Fprintf(&b, "Generated from [openapi.yaml](openapi.yaml) (OpenAPI %s, API version %s) by\n"+
		"`go run ./scripts/cmd/apidoc`; do not edit by hand: a test fails when this file and the\n"+
		"document disagree. Error codes and what to do about them: [troubleshooting.md](troubleshooting.md).\n\n",
		doc.OpenAPI, doc.Info.Version)
	if doc.Info.Description != "" {
		b.WriteString(strings.TrimSpace(doc.Info.Description) + "\n\n")
	}
	for _, s := range doc.Servers {
		fmt.Fprintf(&b, "Server: `%s` (%s)\n\n", s.URL, s.Description)
	}

	order, byFunction := operations(doc)
	if err := heading(2, "Contents"); err != nil {
		return nil, err
	}
	for _, fn := range order {
		fmt.Fprintf(&b, "- [Function %s](#%s)\n", fn, slug("Function "+fn))
		for _, o := range byFunction[fn] {
			fmt.Fprintf(&b, "  - [%s %s](#%s): %s\n", o.Method, o.Path, slug(o.Method+" "+o.Path), oneLine(o.Op.Summary))
		}
	}
	fmt.Fprintf(&b, "- [Schemas](#schemas)\n\n")

	for _, fn := range order {
		if err := heading(2, "Function "+fn); err != nil {
			return nil, err
		}
		for _, f := range stack.Functions {
			if f.Name == fn && len(f.Prefixes) > 0 {
				fmt.Fprintf(&b, "Owns the path prefixes %s in the load balancer's URL map.\n\n", codeList(f.Prefixes))
			}
		}
		for _, o := range byFunction[fn] {
			if err := heading(3, o.Method+" "+o.Path); err != nil {
				return nil, err
			}
			if err := renderOperation(&b, o); err != nil {
				return nil, fmt.Errorf("%s %s: %w", o.Method, o.Path, err)
			}
		}
	}

	if err := heading(2, "Schemas"); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(doc.Components.Schemas))
	for n := range doc.Components.Schemas {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := heading(3, "Schema "+n); err != nil {
			return nil, err
		}
		if err := renderSchema(&b, doc.Components.Schemas[n].Value); err != nil {
			return nil, fmt.Errorf("schema %s: %w", n, err)
		}
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

func renderOperation(b *bytes.Buffer, o operation) error {
	op := o.Op
	if op.Summary != "" {
		fmt.Fprintf(b, "**%s**\n\n", strings.TrimSpace(op.Summary))
	}
	if op.Security != nil && len(*op.Security) == 0 {
		b.WriteString("Public: no token needed.\n\n")
	}
	if op.Description != "" {
		b.WriteString(strings.TrimSpace(op.Description) + "\n\n")
	}
	if len(o.Params) > 0 {
		b.WriteString("Parameters:\n\n| name | in | required | type | description |\n|---|---|---|---|---|\n")
		for _, pr := range o.Params {
			p := pr.Value
			typ := ""
			if p.Schema != nil {
				typ = typeOf(p.Schema)
			}
			fmt.Fprintf(b, "| `%s` | %s | %s | %s | %s |\n", p.Name, p.In, yesNo(p.Required), typ, cell(p.Description))
		}
		b.WriteString("\n")
	}
	if rb := op.RequestBody; rb != nil && rb.Value != nil {
		for _, ct := range sortedKeys(rb.Value.Content) {
			mt := rb.Value.Content[ct]
			fmt.Fprintf(b, "Request body (`%s`, %s): %s\n\n", ct, map[bool]string{true: "required", false: "optional"}[rb.Value.Required], typeOf(mt.Schema))
			if ex, ok := mediaExample(mt); ok {
				if err := writeExample(b, "Example request", ex); err != nil {
					return err
				}
			}
		}
	}
	b.WriteString("Responses:\n\n| status | meaning | body |\n|---|---|---|\n")
	statuses := sortedKeys(op.Responses.Map())
	for _, st := range statuses {
		r := op.Responses.Value(st).Value
		desc := ""
		if r.Description != nil {
			desc = *r.Description
		}
		fmt.Fprintf(b, "| %s | %s | %s |\n", st, cell(desc), responseBody(r))
	}
	b.WriteString("\n")
	for _, st := range statuses {
		if !strings.HasPrefix(st, "2") {
			continue
		}
		r := op.Responses.Value(st).Value
		for _, ct := range sortedKeys(r.Content) {
			if ex, ok := responseExample(r.Content[ct]); ok {
				if err := writeExample(b, "Example response "+st, ex); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func renderSchema(b *bytes.Buffer, s *openapi3.Schema) error {
	if s.Description != "" {
		b.WriteString(strings.TrimSpace(s.Description) + "\n\n")
	}
	if len(s.Properties) == 0 {
		fmt.Fprintf(b, "Type: %s\n\n", typeOf(&openapi3.SchemaRef{Value: s}))
	} else {
		b.WriteString("| field | type | required | description |\n|---|---|---|---|\n")
		for _, name := range sortedKeys(s.Properties) {
			p := s.Properties[name]
			desc := ""
			if p.Value != nil {
				desc = p.Value.Description
			}
			fmt.Fprintf(b, "| `%s` | %s | %s | %s |\n", name, typeOf(p), yesNo(slices.Contains(s.Required, name)), cell(desc))
		}
		b.WriteString("\n")
	}
	if ex, ok := schemaExample(s); ok {
		return writeExample(b, "Example", ex)
	}
	return nil
}

// typeOf describes a schema in a table cell, linking named schemas.
func typeOf(ref *openapi3.SchemaRef) string {
	if ref == nil {
		return "any"
	}
	if name, ok := strings.CutPrefix(ref.Ref, schemaPrefix); ok {
		return fmt.Sprintf("[%s](#%s)", name, slug("Schema "+name))
	}
	s := ref.Value
	if s == nil {
		return "any"
	}
	switch {
	case len(s.AllOf) == 1:
		return typeOf(s.AllOf[0])
	case len(s.AllOf) > 1:
		return joinTypes(s.AllOf, " and ")
	case len(s.OneOf) > 0:
		return joinTypes(s.OneOf, " or ")
	case len(s.AnyOf) > 0:
		return joinTypes(s.AnyOf, " or ")
	}
	var parts []string
	nullable := s.Nullable
	if s.Type != nil {
		for _, t := range s.Type.Slice() {
			if t == "null" {
				nullable = true
				continue
			}
			parts = append(parts, t)
		}
	}
	desc := strings.Join(parts, " or ")
	if desc == "" {
		desc = "any"
	}
	switch {
	case s.Type != nil && s.Type.Includes("array"):
		desc = "array of " + typeOf(s.Items)
	case len(s.Enum) > 0:
		vals := make([]string, 0, len(s.Enum))
		for _, v := range s.Enum {
			if v == nil {
				continue
			}
			vals = append(vals, fmt.Sprintf("`%v`", v))
		}
		desc += ": " + strings.Join(vals, ", ")
	case s.Format != "":
		desc += " (" + s.Format + ")"
	}
	if nullable {
		desc += " or null"
	}
	return desc
}

func joinTypes(refs openapi3.SchemaRefs, sep string) string {
	parts := make([]string, 0, len(refs))
	for _, r := range refs {
		parts = append(parts, typeOf(r))
	}
	return strings.Join(parts, sep)
}

// responseBody names what a response carries: the envelope's data schema, the error
// envelope, or the media type.
func responseBody(r *openapi3.Response) string {
	if len(r.Content) == 0 {
		return "none"
	}
	var parts []string
	for _, ct := range sortedKeys(r.Content) {
		mt := r.Content[ct]
		switch {
		case mt.Schema == nil:
			parts = append(parts, "`"+ct+"`")
		case mt.Schema.Ref == schemaPrefix+"ErrorEnvelope":
			parts = append(parts, "error envelope")
		case dataSchema(mt.Schema) != nil:
			parts = append(parts, "envelope, `data`: "+typeOf(dataSchema(mt.Schema)))
		default:
			parts = append(parts, "`"+ct+"` "+typeOf(mt.Schema))
		}
	}
	return strings.Join(parts, "; ")
}

// dataSchema returns the schema of `data` in the allOf [SuccessEnvelope, {data: X}]
// pattern every success response uses, or nil.
func dataSchema(ref *openapi3.SchemaRef) *openapi3.SchemaRef {
	if ref == nil || ref.Value == nil {
		return nil
	}
	for _, part := range ref.Value.AllOf {
		if part.Value == nil {
			continue
		}
		if d, ok := part.Value.Properties["data"]; ok && part.Ref == "" {
			return d
		}
	}
	return nil
}

// mediaExample is the example given on a media type (example or the first of examples).
func mediaExample(mt *openapi3.MediaType) (any, bool) {
	if mt.Example != nil {
		return mt.Example, true
	}
	for _, name := range sortedKeys(mt.Examples) {
		if ex := mt.Examples[name]; ex != nil && ex.Value != nil && ex.Value.Value != nil {
			return ex.Value.Value, true
		}
	}
	if mt.Schema != nil && mt.Schema.Value != nil {
		return schemaExample(mt.Schema.Value)
	}
	return nil, false
}

// responseExample is the media type's example or, for the success envelope, the envelope
// around the example of its data schema.
func responseExample(mt *openapi3.MediaType) (any, bool) {
	if ex, ok := mediaExample(mt); ok {
		return ex, true
	}
	d := dataSchema(mt.Schema)
	if d == nil || d.Value == nil {
		return nil, false
	}
	ex, ok := schemaExample(d.Value)
	if !ok {
		return nil, false
	}
	return map[string]any{"success": true, "data": ex, "error": nil, "requestId": "4bf92f3577b34da6a3ce929d0e0e4736"}, true
}

func schemaExample(s *openapi3.Schema) (any, bool) {
	if s.Example != nil {
		return s.Example, true
	}
	if len(s.Examples) > 0 && s.Examples[0] != nil {
		return s.Examples[0], true
	}
	return nil, false
}

func writeExample(b *bytes.Buffer, title string, ex any) error {
	if s, ok := ex.(string); ok {
		fmt.Fprintf(b, "%s:\n\n```\n%s\n```\n\n", title, strings.TrimRight(s, "\n"))
		return nil
	}
	j, err := json.MarshalIndent(ex, "", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintf(b, "%s:\n\n```json\n%s\n```\n\n", title, j)
	return nil
}

// slug is the anchor GitHub gives a heading: lower case, punctuation other than hyphens
// and underscores dropped, spaces to hyphens.
func slug(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9'):
			b.WriteRune(r)
		}
	}
	return b.String()
}

func cell(s string) string {
	return strings.ReplaceAll(oneLine(s), "|", `\|`)
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func yesNo(v bool) string {
	if v {
		return "yes"
	}
	return "no"
}

func codeList(items []string) string {
	out := make([]string, len(items))
	for i, s := range items {
		out[i] = "`" + s + "`"
	}
	return strings.Join(out, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

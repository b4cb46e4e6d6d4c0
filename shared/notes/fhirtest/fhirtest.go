// Package fhirtest checks FHIR R4 JSON as a receiving system would, for the tests of the
// FHIR export: against HL7's official FHIR R4 JSON schema (testdata/fhir.schema.json.gz, see
// testdata/README.md for its source and licence), plus the FHIRPath invariants of the
// elements the export uses, which a JSON schema cannot express:
//
//   - ele-1: every element has a value or children (no null, empty object or empty array);
//   - txt-1/txt-2: a narrative div is an XHTML div in the XHTML namespace, holds only basic
//     formatting elements and has some non-whitespace content;
//   - cmp-1/cmp-2: a Composition section has text, entries or sub-sections, and an
//     emptyReason only when it has no entries;
//   - the required (1..1) primitive elements of the resources the export uses, which HL7's
//     schema leaves optional because a primitive may be given as an extension alone
//     (Composition status, date, title and attester mode; DocumentReference status; Bundle
//     type; Narrative status);
//   - att-1: an Attachment with data has a contentType; an application/fhir+json
//     attachment must itself be a valid resource (checked recursively).
//
// Only tests import it: it embeds the 2.8 MB schema.
package fhirtest

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The schema is stored gzipped (2.8 MB as JSON); testdata/README.md says where it comes from.
//
//go:embed testdata/fhir.schema.json.gz
var schemaGzip []byte

// schemaSHA256 is the SHA-256 of the uncompressed schema (testdata/README.md).
const schemaSHA256 = "6ef48962c271d21fb6715b9c876b3fe96cd099cc733cfc4afefd39d0b6cdd654"

// schemaURL names the schema for the compiler (nothing is fetched).
const schemaURL = "https://hl7.org/fhir/R4/fhir.schema.json"

// patched are the definitions whose additionalProperties the copy we vendor sets to true
// (its publisher's patch.json); HL7's file has false, which load restores.
var patched = []string{"Patient", "Appointment", "Encounter"}

var (
	once     sync.Once
	schemas  map[string]*jsonschema.Schema
	loadErr  error
	compiler *jsonschema.Compiler
	mu       sync.Mutex
)

func load() {
	zr, err := gzip.NewReader(bytes.NewReader(schemaGzip))
	if err != nil {
		loadErr = fmt.Errorf("fhir.schema.json.gz: %w", err)
		return
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		loadErr = fmt.Errorf("fhir.schema.json.gz: %w", err)
		return
	}
	if sum := sha256.Sum256(raw); hex.EncodeToString(sum[:]) != schemaSHA256 {
		loadErr = errors.New("fhir.schema.json.gz is not the vendored schema (SHA-256 differs from testdata/README.md)")
		return
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		loadErr = fmt.Errorf("fhir.schema.json: %w", err)
		return
	}
	defs, _ := doc.(map[string]any)["definitions"].(map[string]any)
	for _, name := range patched {
		d, ok := defs[name].(map[string]any)
		if !ok {
			loadErr = fmt.Errorf("fhir.schema.json has no definition %s", name)
			return
		}
		d["additionalProperties"] = false
	}
	compiler = jsonschema.NewCompiler()
	if err := compiler.AddResource(schemaURL, doc); err != nil {
		loadErr = err
		return
	}
	schemas = map[string]*jsonschema.Schema{}
}

// schemaFor compiles (once) the schema of one resource type.
func schemaFor(resourceType string) (*jsonschema.Schema, error) {
	once.Do(load)
	if loadErr != nil {
		return nil, loadErr
	}
	mu.Lock()
	defer mu.Unlock()
	if s, ok := schemas[resourceType]; ok {
		return s, nil
	}
	s, err := compiler.Compile(schemaURL + "#/definitions/" + resourceType)
	if err != nil {
		return nil, fmt.Errorf("no R4 schema for resourceType %q: %w", resourceType, err)
	}
	schemas[resourceType] = s
	return s, nil
}

// Validate validates one FHIR R4 JSON resource (a Bundle's entries included) against the
// schema and the invariants above, and returns every problem found, joined.
func Validate(raw []byte) error {
	var head struct {
		ResourceType string `json:"resourceType"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	if head.ResourceType == "" {
		return errors.New("no resourceType")
	}
	s, err := schemaFor(head.ResourceType)
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	var errs []error
	if err := s.Validate(inst); err != nil {
		errs = append(errs, fmt.Errorf("R4 schema: %w", err))
	}
	errs = append(errs, invariants("", inst)...)
	return errors.Join(errs...)
}

// invariants walks the instance and checks the invariants of the package doc.
func invariants(path string, v any) []error {
	var errs []error
	switch v := v.(type) {
	case nil:
		errs = append(errs, fmt.Errorf("%s: ele-1: null", path))
	case []any:
		if len(v) == 0 {
			errs = append(errs, fmt.Errorf("%s: ele-1: empty array", path))
		}
		for i, e := range v {
			errs = append(errs, invariants(fmt.Sprintf("%s[%d]", path, i), e)...)
		}
	case map[string]any:
		if len(v) == 0 {
			errs = append(errs, fmt.Errorf("%s: ele-1: empty object", path))
		}
		errs = append(errs, element(path, v)...)
		for k, e := range v {
			errs = append(errs, invariants(path+"."+k, e)...)
		}
	case string:
		if strings.TrimSpace(v) == "" {
			errs = append(errs, fmt.Errorf("%s: an empty or whitespace-only string (R4 datatypes: string)", path))
		}
	}
	return errs
}

// requiredPrimitives are the 1..1 primitive elements of R4 (from each resource's
// StructureDefinition) among those the export uses, by resource type.
var requiredPrimitives = map[string][]string{
	"Composition":       {"status", "date", "title"},
	"DocumentReference": {"status"},
	"Bundle":            {"type"},
}

// present reports whether primitive element name has a value or an extension (_name).
func present(o map[string]any, name string) bool {
	_, v := o[name]
	_, ext := o["_"+name]
	return v || ext
}

// sectionPath matches the path of a Composition section (or a sub-section).
var sectionPath = regexp.MustCompile(`\.section\[\d+\]$`)

// attesterPath matches the path of a Composition attester.
var attesterPath = regexp.MustCompile(`\.attester\[\d+\]$`)

// element checks the invariants tied to the shape of one object.
func element(path string, o map[string]any) []error {
	var errs []error
	rt, _ := o["resourceType"].(string)
	for _, name := range requiredPrimitives[rt] {
		if !present(o, name) {
			errs = append(errs, fmt.Errorf("%s: %s.%s is required (1..1)", path, rt, name))
		}
	}
	if attesterPath.MatchString(path) && !present(o, "mode") {
		errs = append(errs, fmt.Errorf("%s: Composition.attester.mode is required (1..1)", path))
	}
	if div, ok := o["div"].(string); ok {
		if !present(o, "status") {
			errs = append(errs, fmt.Errorf("%s: Narrative.status is required (1..1)", path))
		}
		if err := narrative(div); err != nil {
			errs = append(errs, fmt.Errorf("%s.div: %w", path, err))
		}
	}
	if sectionPath.MatchString(path) {
		_, text := o["text"]
		_, entry := o["entry"]
		_, sub := o["section"]
		if !text && !entry && !sub {
			errs = append(errs, fmt.Errorf("%s: cmp-1: a section has no text, entry or section", path))
		}
		if _, empty := o["emptyReason"]; empty && entry {
			errs = append(errs, fmt.Errorf("%s: cmp-2: emptyReason on a section with entries", path))
		}
	}
	if data, ok := o["data"].(string); ok {
		ct, _ := o["contentType"].(string)
		if ct == "" {
			errs = append(errs, fmt.Errorf("%s: att-1: data without contentType", path))
		}
		if ct == "application/fhir+json" {
			b, err := base64.StdEncoding.DecodeString(data)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s.data: not base64: %w", path, err))
			} else if err := Validate(b); err != nil {
				errs = append(errs, fmt.Errorf("%s.data (the attached resource): %w", path, err))
			}
		}
	}
	return errs
}

// basic are the XHTML elements txt-1 allows in a narrative that the export may produce
// (R4 narrative.html: basic formatting, no scripts, forms, frames or event attributes).
var basic = map[string]bool{"div": true, "p": true, "span": true, "br": true, "b": true, "i": true,
	"em": true, "strong": true, "ul": true, "ol": true, "li": true, "table": true, "tr": true, "td": true,
	"th": true, "thead": true, "tbody": true, "h1": true, "h2": true, "h3": true, "h4": true, "h5": true,
	"h6": true, "pre": true, "code": true, "a": true, "sub": true, "sup": true, "hr": true, "blockquote": true}

// narrative checks txt-1 (well-formed XHTML rooted at an xhtml div, basic elements only,
// no event attributes) and txt-2 (some non-whitespace content).
func narrative(div string) error {
	d := xml.NewDecoder(strings.NewReader(div))
	d.Strict = true
	depth, text := 0, false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("txt-1: not well-formed XHTML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 && (t.Name.Local != "div" || t.Name.Space != "http://www.w3.org/1999/xhtml") {
				return fmt.Errorf("txt-1: the root is <%s> in %q, want an XHTML div", t.Name.Local, t.Name.Space)
			}
			if !basic[t.Name.Local] {
				return fmt.Errorf("txt-1: element <%s> is not basic formatting", t.Name.Local)
			}
			for _, a := range t.Attr {
				if strings.HasPrefix(strings.ToLower(a.Name.Local), "on") {
					return fmt.Errorf("txt-1: event attribute %s", a.Name.Local)
				}
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(t)) > 0 {
				return errors.New("txt-1: text outside the div")
			}
			if len(bytes.TrimSpace(t)) > 0 {
				text = true
			}
		}
	}
	if !text {
		return errors.New("txt-2: the narrative has no non-whitespace content")
	}
	return nil
}

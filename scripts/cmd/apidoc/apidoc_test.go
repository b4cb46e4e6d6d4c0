package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/medi-os/medi/functions/auth"
	"github.com/medi-os/medi/functions/encounters"
	"github.com/medi-os/medi/functions/patients"
	"github.com/medi-os/medi/functions/scribe"
	"github.com/medi-os/medi/functions/summarize"
	"github.com/medi-os/medi/functions/triage"
	"github.com/medi-os/medi/scripts/repo"
	"github.com/medi-os/medi/shared/httpx"
)

func spec(t *testing.T) *openapi3.T {
	t.Helper()
	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := loadSpec(context.Background(), filepath.Join(root, specPath))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestAPIReferenceIsUpToDate fails when docs/api.md is not what docs/openapi.yaml
// renders to.
func TestAPIReferenceIsUpToDate(t *testing.T) {
	t.Parallel()
	want, err := render(spec(t))
	if err != nil {
		t.Fatal(err)
	}
	root, _ := repo.Root()
	have, err := os.ReadFile(filepath.Join(root, docPath))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(have, want) {
		t.Fatalf("%s is out of date with %s: run `go run ./scripts/cmd/apidoc` and commit the result", docPath, specPath)
	}
}

// TestEveryOperationHasExamples requires an example request for every JSON body and an
// example success response for every operation (given on the operation or on the schema
// of the envelope's data). The document's validation checks each example against its
// schema.
func TestEveryOperationHasExamples(t *testing.T) {
	t.Parallel()
	_, byFunction := operations(spec(t))
	n := 0
	for _, ops := range byFunction {
		for _, o := range ops {
			n++
			name := o.Method + " " + o.Path
			if rb := o.Op.RequestBody; rb != nil && rb.Value != nil {
				for ct, mt := range rb.Value.Content {
					if _, ok := mediaExample(mt); !ok {
						t.Errorf("%s: request body %s has no example", name, ct)
					}
				}
			}
			found, withBody := false, false
			for st, r := range o.Op.Responses.Map() {
				if !strings.HasPrefix(st, "2") {
					continue
				}
				for _, mt := range r.Value.Content {
					withBody = true
					if _, ok := responseExample(mt); ok {
						found = true
					}
				}
			}
			if withBody && !found {
				t.Errorf("%s: no example for its success response", name)
			}
		}
	}
	if n < 40 {
		t.Fatalf("only %d operations found; the document or the grouping is broken", n)
	}
}

// routeLister is what every HTTP function offers to list its endpoints.
type routeLister interface {
	Name() string
	Routes(context.Context) ([]httpx.Route, error)
}

// TestEveryPublicRouteIsDocumented checks both ways that the public functions' routes
// and the document's operations are the same set. Not parallel: it sets environment
// variables.
func TestEveryPublicRouteIsDocumented(t *testing.T) {
	t.Setenv("GOOGLE_CLOUD_PROJECT", "demo-routes")
	t.Setenv("MEDI_ENV", "dev")
	t.Setenv("MEDI_UPLOADS_BUCKET", "demo-uploads")
	doc := spec(t)
	served := map[string]bool{}
	for _, f := range []routeLister{auth.Function, patients.Function, encounters.Function, triage.Function, scribe.Function, summarize.Function} {
		routes, err := f.Routes(context.Background())
		if err != nil {
			t.Fatalf("%s: %v", f.Name(), err)
		}
		for _, r := range routes {
			key := strings.ToUpper(r.Method) + " " + r.Pattern
			served[key] = true
			item := doc.Paths.Find(r.Pattern)
			if item == nil || item.GetOperation(strings.ToUpper(r.Method)) == nil {
				t.Errorf("%s serves %s, which %s does not document", f.Name(), key, specPath)
			}
		}
	}
	_, byFunction := operations(doc)
	for _, ops := range byFunction {
		for _, o := range ops {
			if key := o.Method + " " + o.Path; !served[key] {
				t.Errorf("%s documents %s, which no function serves", specPath, key)
			}
		}
	}
}

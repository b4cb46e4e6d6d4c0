package patients_test

import (
	"context"
	"strings"
	"testing"

	"github.com/medi-os/medi/functions/patients"
	"github.com/medi-os/medi/tests/apitest"
)

// TestEveryRouteIsDocumented checks that each endpoint the function serves is in
// docs/openapi.yaml (the document is also validated), so no endpoint ships undocumented.
// Not parallel: it sets environment variables.
func TestEveryRouteIsDocumented(t *testing.T) {
	t.Setenv("GOOGLE_CLOUD_PROJECT", "demo-routes")
	t.Setenv("MEDI_ENV", "dev")
	routes, err := patients.Function.Routes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	spec := apitest.Spec(t)
	if len(routes) < 6 {
		t.Fatalf("only %d routes: %v", len(routes), routes)
	}
	for _, r := range routes {
		item := spec.Paths.Find(r.Pattern)
		if item == nil || item.GetOperation(strings.ToUpper(r.Method)) == nil {
			t.Errorf("%s %s is not documented in %s", r.Method, r.Pattern, apitest.SpecPath)
		}
	}
}

package summarize_test

import (
	"context"
	"strings"
	"testing"

	"github.com/medi-os/medi/functions/summarize"
	"github.com/medi-os/medi/tests/apitest"
)

// TestEveryRouteIsDocumented checks that each endpoint the function serves is in
// docs/openapi.yaml. Not parallel: it sets environment variables.
func TestEveryRouteIsDocumented(t *testing.T) {
	t.Setenv("GOOGLE_CLOUD_PROJECT", "demo-routes")
	t.Setenv("MEDI_ENV", "dev")
	routes, err := summarize.Function.Routes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	spec := apitest.Spec(t)
	found := false
	for _, r := range routes {
		if strings.HasPrefix(r.Pattern, "/v1/summaries") {
			found = true
		}
		item := spec.Paths.Find(r.Pattern)
		if item == nil || item.GetOperation(strings.ToUpper(r.Method)) == nil {
			t.Errorf("%s %s is not documented in %s", r.Method, r.Pattern, apitest.SpecPath)
		}
	}
	if !found {
		t.Errorf("no /v1/summaries route among %v", routes)
	}
}

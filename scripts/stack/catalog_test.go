package stack

import (
	"slices"
	"testing"

	"github.com/medi-os/medi/shared/routes"
)

// The catalog's public functions are exactly the route table's, with its prefixes.
func TestCatalogFollowsTheRouteTable(t *testing.T) {
	t.Parallel()
	table := routes.Get()
	public := map[string]bool{}
	for _, f := range Functions {
		if f.Trigger != TriggerHTTP {
			if len(f.Prefixes) > 0 {
				t.Errorf("%s is not public but has prefixes %v", f.Name, f.Prefixes)
			}
			continue
		}
		public[f.Name] = true
		if want := table.Prefixes(f.Name); len(want) == 0 || !slices.Equal(f.Prefixes, want) {
			t.Errorf("%s: prefixes %v, route table %v", f.Name, f.Prefixes, want)
		}
	}
	for _, r := range table.Routes {
		if !public[r.Function] {
			t.Errorf("the route table names %s, which the catalog does not run as a public function", r.Function)
		}
	}
	if DefaultService != table.Default || Route("/v1/no-such-route") != table.Default {
		t.Errorf("default %q, route table's %q", DefaultService, table.Default)
	}
}

package docs

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/shared/routes"
)

// routeTableMarker precedes the route table in docs/architecture.md.
const routeTableMarker = "<!-- route table: generated from shared/routes/routes.json"

// TestArchitectureListsTheRouteTable fails when the route table of docs/architecture.md
// is not shared/routes/routes.json, row for row; the message gives the table to paste.
func TestArchitectureListsTheRouteTable(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(b), routeTableMarker)
	if !ok {
		t.Fatalf("docs/architecture.md has no %q line before its route table", routeTableMarker)
	}
	var got []string
	for _, line := range strings.Split(after, "\n")[1:] {
		if !strings.HasPrefix(line, "|") {
			break
		}
		got = append(got, line)
	}
	want := routeTableRows(routes.Get())
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("docs/architecture.md's route table is not shared/routes/routes.json (-want +got):\n%s\nthe table:\n%s",
			diff, strings.Join(want, "\n"))
	}
}

// routeTableRows is the Markdown table of tab, header included.
func routeTableRows(tab routes.Table) []string {
	rows := []string{"| path prefix | function |", "|---|---|"}
	for _, r := range tab.Routes {
		for _, p := range r.Prefixes {
			rows = append(rows, fmt.Sprintf("| `%s` | `%s` |", p, r.Function))
		}
	}
	return append(rows, fmt.Sprintf("| anything else | `%s` (default) |", tab.Default))
}

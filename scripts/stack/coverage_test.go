package stack

import (
	"os"
	"path/filepath"
	"testing"
)

func TestIsTestSupport(t *testing.T) {
	t.Parallel()
	for pkg, want := range map[string]bool{
		"github.com/medi-os/medi/shared/testenv":            true,
		"github.com/medi-os/medi/shared/httpx/httpxtest":    true,
		"github.com/medi-os/medi/functions/auth/authtest":   true,
		"github.com/medi-os/medi/shared/httpx":              false,
		"github.com/medi-os/medi/shared/triage/evaluation":  false,
		"github.com/medi-os/medi/functions/encounteroutbox": false,
	} {
		if got := IsTestSupport(pkg); got != want {
			t.Errorf("IsTestSupport(%s) = %v, want %v", pkg, got, want)
		}
	}
}

// The total counts each block's statements once, covered when any run reached it (a
// merged profile may list a block several times).
func TestProfileTotal(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "coverage.out")
	profile := `mode: set
github.com/medi-os/medi/shared/a/a.go:3.10,5.2 2 1
github.com/medi-os/medi/shared/a/a.go:6.10,9.2 3 0
github.com/medi-os/medi/shared/a/a.go:6.10,9.2 3 1
github.com/medi-os/medi/shared/b/b.go:1.1,2.2 5 0
`
	if err := os.WriteFile(p, []byte(profile), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := profileTotal(p)
	if err != nil {
		t.Fatal(err)
	}
	if want := 50.0; got != want { // 5 of 10 statements
		t.Errorf("total = %v, want %v", got, want)
	}
}

package docid_test

import (
	"strings"
	"testing"

	"github.com/medi-os/medi/shared/docid"
)

func TestValid(t *testing.T) {
	t.Parallel()
	for id, want := range map[string]bool{
		"k3Vq8ZpR2mXwT7bN1cLd":              true,
		"bg-0123456789abcdef01234567":       true,
		"clinic_e2e-1":                      true,
		strings.Repeat("a", docid.MaxLen):   true,
		"":                                  false,
		strings.Repeat("a", docid.MaxLen+1): false,
		strings.Repeat("a", 2000):           false,
		"__name__":                          false,
		"__x__":                             false,
		"__":                                true, // not the reserved form (__.*__ needs 4 characters)
		"_x_":                               true,
		".":                                 false,
		"..":                                false,
		"a/b":                               false,
		"a b":                               false,
		"é":                                 false,
		"p1\x00":                            false,
		"%2e%2e":                            false,
		"' OR 1=1":                          false,
	} {
		if got := docid.Valid(id); got != want {
			t.Errorf("Valid(%.40q) = %v, want %v", id, got, want)
		}
	}
}

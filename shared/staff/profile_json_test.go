package staff

import (
	"encoding/json"
	"strings"
	"testing"
)

// A profile written outside staff management has no author or creation time: they are
// left out, never "" or a zero time.
func TestProfileJSONLeavesUnsetFieldsOut(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(Profile{UID: "u1", Email: "a@b.test", Role: "nurse", ClinicID: "c"})
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	for _, absent := range []string{"0001-01-01", "createdAt", "createdBy", "updatedAt", "updatedBy"} {
		if strings.Contains(got, absent) {
			t.Errorf("JSON has %q: %s", absent, got)
		}
	}
}

package devports

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestFromEnv(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		env  func(string) string
		want Ports
	}{
		{"defaults", env(), Ports{8080, 8086, 8085, 9099, 4410, 4510, 4443}},
		{"one port", env("MEDI_AUTH_PORT", "9199"), Ports{8080, 8086, 8085, 9199, 4410, 4510, 4443}},
		{"base moves every port", env("MEDI_PORT_BASE", "18080"), Ports{18080, 18081, 18082, 18083, 18084, 18085, 18086}},
		{"a port's own variable wins over the base", env("MEDI_PORT_BASE", "18080", "MEDI_PORT", "9000"),
			Ports{9000, 18081, 18082, 18083, 18084, 18085, 18086}},
	} {
		got, err := FromEnv(tc.env)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s: ports (-want +got):\n%s", tc.name, diff)
		}
	}
}

func TestFromEnvNamesTheBadVariable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, value string }{
		{"MEDI_PORT_BASE", "eighty"}, {"MEDI_PORT_BASE", "65534"}, {"MEDI_PORT", "80"}, {"MEDI_STORAGE_PORT", "70000"},
	} {
		_, err := FromEnv(env(tc.name, tc.value))
		if err == nil || !strings.Contains(err.Error(), tc.name+"=") {
			t.Errorf("%s=%s: err = %v, want one naming %s", tc.name, tc.value, err, tc.name)
		}
	}
}

func TestEveryPortHasItsOwnVariableAndBaseSlot(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	var zero Ports
	for _, pt := range All {
		if seen[pt.Var] || !strings.HasPrefix(pt.Var, "MEDI_") {
			t.Errorf("variable %q repeated or not MEDI_", pt.Var)
		}
		seen[pt.Var] = true
		if *pt.Field(&zero) != 0 {
			t.Errorf("%s shares its field with an earlier port", pt.Use)
		}
		*pt.Field(&zero) = 1
	}
	if zero != (Ports{1, 1, 1, 1, 1, 1, 1}) {
		t.Errorf("some port has no entry in All: %+v", zero)
	}
}

func TestClientFollowsTheStack(t *testing.T) {
	t.Parallel()
	base, auth, err := Client(env("MEDI_PORT_BASE", "18080"))
	if err != nil || base != "http://127.0.0.1:18080" || auth != "127.0.0.1:18083" {
		t.Errorf("Client(MEDI_PORT_BASE=18080) = %q, %q, %v", base, auth, err)
	}
	base, auth, _ = Client(env("MEDI_PORT_BASE", "18080", "MEDI_BASE_URL", "http://127.0.0.1:1234", "FIREBASE_AUTH_EMULATOR_HOST", "127.0.0.1:5678"))
	if base != "http://127.0.0.1:1234" || auth != "127.0.0.1:5678" {
		t.Errorf("explicit addresses lost: %q, %q", base, auth)
	}
	if got := strings.Join(Set(env("MEDI_AUTH_PORT", "9199", "MEDI_PORT_BASE", "18080")), " "); got != "MEDI_PORT_BASE=18080 MEDI_AUTH_PORT=9199" {
		t.Errorf("Set = %q", got)
	}
}

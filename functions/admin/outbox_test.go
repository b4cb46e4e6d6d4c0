package admin_test

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"

	authfn "github.com/medi-os/medi/functions/auth"
	"github.com/medi-os/medi/functions/auth/authtest"
	"github.com/medi-os/medi/shared/config"
)

// The dev outbox is served in the local stack only: not in staging, and not in a deployed
// dev environment (on Cloud Run, K_SERVICE set), where it would hand anyone every reset
// link (before the fix it was served there).
func TestDevOutboxOnlyInTheLocalStack(t *testing.T) {
	t.Parallel()
	f := authtest.New(t)
	if resp := f.Do(t, http.MethodGet, "/v1/dev/outbox", "", nil); resp.Status != http.StatusOK {
		t.Errorf("local stack: %d, want 200", resp.Status)
	}
	for name, opt := range map[string]func(*authfn.Config){
		"staging":           func(c *authfn.Config) { c.Tier = config.Staging },
		"deployed dev tier": func(c *authfn.Config) { c.Service = "auth" },
	} {
		g := authtest.New(t, opt)
		if resp := g.Do(t, http.MethodGet, "/v1/dev/outbox", "", nil); resp.Status != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", name, resp.Status)
		}
	}
}

// TestDevOutboxRouteOnlyInTheLocalStack lists the auth function's routes as a deployment
// would configure it (no emulator needed).
func TestDevOutboxRouteOnlyInTheLocalStack(t *testing.T) {
	t.Setenv("GOOGLE_CLOUD_PROJECT", "demo-outbox-routes")
	t.Setenv("MEDI_ENV", "dev")
	has := func() bool {
		routes, err := authfn.Function.Routes(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range routes {
			if r.Pattern == "/v1/dev/outbox" {
				return true
			}
		}
		return false
	}
	if !has() {
		t.Error("local stack: no /v1/dev/outbox route")
	}
	t.Setenv("K_SERVICE", "auth") // Cloud Run sets it: a deployed dev environment
	// which refuses emulator hosts (scripts/test sets them): unset them for this test.
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasSuffix(name, "_EMULATOR_HOST") {
			t.Setenv(name, "")
			os.Unsetenv(name)
		}
	}
	if has() {
		t.Error("deployed dev environment serves /v1/dev/outbox")
	}
}

package admin_test

import (
	"net/http"
	"testing"

	authfn "github.com/medi-os/medi/functions/auth"
	"github.com/medi-os/medi/functions/auth/authtest"
)

// The dev outbox is served in the dev tier only.
func TestDevOutboxOnlyInDev(t *testing.T) {
	t.Parallel()
	f := authtest.New(t)
	if resp := f.Do(t, http.MethodGet, "/v1/dev/outbox", "", nil); resp.Status != http.StatusOK {
		t.Errorf("dev: %d, want 200", resp.Status)
	}
	prod := authtest.New(t, func(c *authfn.Config) { c.Tier = "staging" })
	if resp := prod.Do(t, http.MethodGet, "/v1/dev/outbox", "", nil); resp.Status != http.StatusNotFound {
		t.Errorf("staging: %d, want 404", resp.Status)
	}
}

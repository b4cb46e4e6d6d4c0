// Package auth is the `auth` HTTP function: who am I, staff, sessions, access and the
// audit trail (DESIGN.md section 3). It decodes, calls shared logic, and encodes.
package auth

import (
	"context"
	"net/http"

	"github.com/medi-os/medi/shared/app"
	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/httpx"
)

// Config is the function's configuration, read from the environment.
type Config struct {
	config.Base
}

// Function is the deployable, registered in functions.go as "auth".
var Function = app.NewHTTP("auth", func() *Config { return new(Config) }, setup)

func setup(_ context.Context, _ *Config, env *app.Env, rt *httpx.Router) error {
	rt.Handle(http.MethodGet, "/v1/me", env.Require()(http.HandlerFunc(handleMe)))
	return nil
}

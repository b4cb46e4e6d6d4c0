// Package queue is the `queue` HTTP function (DESIGN.md section 3). Its endpoints arrive
// with their issue; until then it serves the health endpoint every function has.
package queue

import (
	"context"

	"github.com/medi-os/medi/shared/app"
	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/httpx"
)

// Config is the function's configuration, read from the environment.
type Config struct {
	config.Base
}

// Function is the deployable, registered in functions.go as "queue".
var Function = app.NewHTTP("queue", func() *Config { return new(Config) }, setup)

func setup(_ context.Context, _ *Config, _ *app.Env, _ *httpx.Router) error { return nil }

package app

import (
	"fmt"
	"net/http"
	"os"

	"github.com/GoogleCloudPlatform/functions-framework-go/functions"
)

// HTTPDeployable is what RegisterHTTP needs of a function.
type HTTPDeployable interface {
	Name() string
	CheckConfig() error
	ServeHTTP(http.ResponseWriter, *http.Request)
}

// RegisterHTTP registers f with the functions framework under its name. When this
// instance serves f (FUNCTION_TARGET), its configuration is checked now (environment
// parsing only, no clients, no network) and a bad configuration stops the process with
// a message naming every offending variable: a misconfigured revision never goes live.
// The instance also gets its SIGTERM handler (graceful shutdown, see handleShutdown).
func RegisterHTTP(f HTTPDeployable) {
	functions.HTTP(f.Name(), f.ServeHTTP)
	if IsTarget(f.Name()) {
		if err := f.CheckConfig(); err != nil {
			fmt.Fprintf(os.Stderr, "%s: refusing to start: %v\n", f.Name(), err)
			os.Exit(78) // EX_CONFIG
		}
		handleShutdown(f.Name())
	}
}

// Command baseline is the bare functions-framework-go hello world that cold starts are
// measured against (scripts/cmd/coldstart): one HTTP function, no dependencies.
package main

import (
	"fmt"
	"net/http"
	"os"

	"github.com/GoogleCloudPlatform/functions-framework-go/funcframework"
	"github.com/GoogleCloudPlatform/functions-framework-go/functions"
)

func main() {
	functions.HTTP("hello", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "ok")
	})
	if err := funcframework.StartHostPort(os.Getenv("MEDI_LISTEN_HOST"), os.Getenv("PORT")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// Command fnserve serves one Medi OS function the way the Cloud Run functions Go
// buildpack does: a main that imports the root package (whose init registers every
// function) and starts the functions framework, which serves the function named by
// FUNCTION_TARGET at "/". The local stack runs one fnserve process per function.
package main

import (
	"fmt"
	"os"

	"github.com/GoogleCloudPlatform/functions-framework-go/funcframework"

	_ "github.com/medi-os/medi"
)

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	// MEDI_LISTEN_HOST keeps the local stack on loopback; Cloud Run leaves it empty.
	if err := funcframework.StartHostPort(os.Getenv("MEDI_LISTEN_HOST"), port); err != nil {
		fmt.Fprintln(os.Stderr, "fnserve:", err)
		os.Exit(1)
	}
}

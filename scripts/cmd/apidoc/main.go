// Command apidoc renders docs/api.md, the readable API reference, from docs/openapi.yaml.
//
//	go run ./scripts/cmd/apidoc          rewrite docs/api.md
//	go run ./scripts/cmd/apidoc -check   exit 1 when docs/api.md is not up to date
//
// The test in this package fails when docs/api.md differs from what the document
// renders to, or when an operation lacks an example, so CI keeps the two in step.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/medi-os/medi/scripts/repo"
)

// Paths relative to the repository root.
const (
	specPath = "docs/openapi.yaml"
	docPath  = "docs/api.md"
)

func main() {
	check := flag.Bool("check", false, "exit 1 when "+docPath+" is not up to date instead of writing it")
	flag.Parse()
	if err := run(context.Background(), *check); err != nil {
		fmt.Fprintln(os.Stderr, "apidoc:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, check bool) error {
	root, err := repo.Root()
	if err != nil {
		return err
	}
	doc, err := loadSpec(ctx, filepath.Join(root, specPath))
	if err != nil {
		return err
	}
	out, err := render(doc)
	if err != nil {
		return err
	}
	target := filepath.Join(root, docPath)
	if check {
		have, err := os.ReadFile(target)
		if err != nil {
			return err
		}
		if !bytes.Equal(have, out) {
			return fmt.Errorf("%s is out of date: run go run ./scripts/cmd/apidoc", docPath)
		}
		return nil
	}
	return os.WriteFile(target, out, 0o644)
}

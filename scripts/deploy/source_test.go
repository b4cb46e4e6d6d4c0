package main

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestBuildSourceArchive(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"go.mod":                           "module example.com/m\n",
		"go.sum":                           "",
		"functions.go":                     "package m\n",
		"functions/auth/auth.go":           "package auth\n",
		"functions/auth/auth_test.go":      "package auth\n",
		"functions/auth/testdata/x.json":   "{}",
		"shared/config/config.go":          "package config\n",
		"shared/config/embedded/rules.txt": "rules",
		"shared/.hidden/secret.go":         "package hidden\n",
		"shared/.env":                      "SECRET=1",
		"scripts/deploy/main.go":           "package main\n",
		"tests/e2e/me_test.go":             "package e2e\n",
		"docs/deployment.md":               "# docs",
		"terraform/versions.tf":            "terraform {}",
	})
	// Different modification times must not change the archive.
	old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	if err := os.Chtimes(filepath.Join(root, "functions.go"), old, old); err != nil {
		t.Fatal(err)
	}

	archive, sum, err := buildSourceArchive(root)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		if !f.Modified.Equal(zipEpoch) {
			t.Errorf("%s: modified %v, want the fixed %v", f.Name, f.Modified, zipEpoch)
		}
	}
	want := []string{"functions.go", "functions/auth/auth.go", "go.mod", "go.sum", "shared/config/config.go", "shared/config/embedded/rules.txt"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("archive entries mismatch (-want +got):\n%s", diff)
	}

	again, sum2, err := buildSourceArchive(root)
	if err != nil {
		t.Fatal(err)
	}
	if sum2 != sum || !bytes.Equal(again, archive) {
		t.Errorf("two archives of the same tree differ (%s, %s)", sum, sum2)
	}

	// Files outside the archive do not change it; files inside do.
	writeTree(t, root, map[string]string{"docs/deployment.md": "# changed", "functions/auth/auth_test.go": "package auth // changed\n"})
	if _, s, err := buildSourceArchive(root); err != nil || s != sum {
		t.Errorf("changing docs or tests changed the archive digest (%s -> %s, %v)", sum, s, err)
	}
	writeTree(t, root, map[string]string{"shared/config/config.go": "package config // changed\n"})
	if _, s, err := buildSourceArchive(root); err != nil || s == sum {
		t.Errorf("changing shared code left the archive digest at %s (%v)", s, err)
	}
}

func TestBuildSourceArchiveMissingRoot(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	writeTree(t, root, map[string]string{"go.mod": "module m\n", "go.sum": "", "functions/a.go": "package a\n", "shared/b.go": "package b\n"})
	if _, _, err := buildSourceArchive(root); err == nil {
		t.Error("archive built without functions.go")
	}
}

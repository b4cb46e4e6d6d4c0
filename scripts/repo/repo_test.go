package repo

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRootFindsGoMod(t *testing.T) {
	root, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("%s has no go.mod: %v", root, err)
	}
	if got, want := filepath.Base(filepath.Dir(filepath.Dir(mustWd(t)))), filepath.Base(root); got != want {
		t.Errorf("root %s is not two levels above scripts/repo", root)
	}
}

func TestRootOutsideARepository(t *testing.T) {
	t.Chdir(t.TempDir())
	if _, err := Root(); err == nil {
		t.Fatal("found a repository root in an empty temporary directory")
	}
}

func mustWd(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return wd
}

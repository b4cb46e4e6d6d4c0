package main

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// sourceRoots are what the Cloud Run functions buildpack needs to build any function: the
// module files, the root package that registers every function, and the packages it
// imports. Tests, scripts and docs stay out.
var sourceRoots = []string{"go.mod", "go.sum", "functions.go", "functions", "shared"}

// zipEpoch is the modification time of every archive entry, so that the same tree gives
// the same bytes (and the same object name: an unchanged tree is not rebuilt).
var zipEpoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// sourceFiles lists the repository files that go into the archive, slash-separated and
// sorted.
func sourceFiles(root string) ([]string, error) {
	var files []string
	for _, r := range sourceRoots {
		p := filepath.Join(root, r)
		info, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("source archive: %w", err)
		}
		if !info.IsDir() {
			files = append(files, r)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			name := d.Name()
			if d.IsDir() {
				if name == "testdata" || (strings.HasPrefix(name, ".") && path != p) {
					return filepath.SkipDir
				}
				return nil
			}
			if strings.HasSuffix(name, "_test.go") || strings.HasPrefix(name, ".") || !d.Type().IsRegular() {
				return nil
			}
			rel, err := filepath.Rel(root, path)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("source archive: %w", err)
		}
	}
	slices.Sort(files)
	return files, nil
}

// buildSourceArchive zips the function sources of the repository at root,
// deterministically, and returns the archive and its SHA-256 (hex).
func buildSourceArchive(root string) ([]byte, string, error) {
	files, err := sourceFiles(root)
	if err != nil {
		return nil, "", err
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(f)))
		if err != nil {
			return nil, "", fmt.Errorf("source archive: %w", err)
		}
		h := &zip.FileHeader{Name: f, Method: zip.Deflate, Modified: zipEpoch}
		h.SetMode(0o644)
		w, err := zw.CreateHeader(h)
		if err != nil {
			return nil, "", fmt.Errorf("source archive: %w", err)
		}
		if _, err := w.Write(data); err != nil {
			return nil, "", fmt.Errorf("source archive: %w", err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, "", fmt.Errorf("source archive: %w", err)
	}
	sum := sha256.Sum256(buf.Bytes())
	return buf.Bytes(), hex.EncodeToString(sum[:]), nil
}

package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/medi-os/medi/scripts/repo"
)

// TestRenderKeepsOrdinaryWordsOnly: from a small dictionary, the list holds the ordinary
// words the reader would correct into a word of another meaning, and none of the others.
func TestRenderKeepsOrdinaryWordsOnly(t *testing.T) {
	dict := strings.Join([]string{
		"peptic", // would be corrected into "septic"
		"worse",  // into "worst"
		"anemic", // an inflection of "anemia": still corrected
		"chest",  // a vocabulary word
		"hello",  // no vocabulary word within one edit
		"Chess",  // a proper noun (capitalised) is left out
		"can't",  // an apostrophe
		"pain",   // too short to be corrected
	}, "\n")
	got, err := Render([]byte(dict))
	if err != nil {
		t.Fatal(err)
	}
	words := strings.TrimPrefix(string(got), header)
	if words != "peptic\nworse\n" {
		t.Errorf("words = %q, want peptic and worse", words)
	}
}

// TestCommittedListIsReproduced regenerates the committed list from the dictionary where it
// is installed (scripts/setup installs Debian's wamerican; MEDI_WAMERICAN names another copy
// of the same file).
func TestCommittedListIsReproduced(t *testing.T) {
	path := os.Getenv("MEDI_WAMERICAN")
	if path == "" {
		path = defaultDict
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("no dictionary at %s (apt install wamerican, or set MEDI_WAMERICAN): the list's reproduction is not checked", path)
	}
	if sum := sha256.Sum256(raw); hex.EncodeToString(sum[:]) != dictSHA256 {
		t.Skipf("%s is not wamerican 2020.12.07-2's list: the list's reproduction is not checked", path)
	}
	want, err := Render(raw)
	if err != nil {
		t.Fatal(err)
	}
	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(root, outPath))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("%s is not what %s makes: run go run ./scripts/cmd/triagewords", outPath, path)
	}
}

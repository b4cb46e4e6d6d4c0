// Command triagewords writes the triage engine's list of ordinary English words that the
// complaint reader keeps as written (shared/triage/data/plainwords.txt), from an English
// dictionary, bit for bit:
//
//	go run ./scripts/cmd/triagewords [-dict /usr/share/dict/american-english] [-out shared/triage/data/plainwords.txt]
//	go run ./scripts/cmd/triagewords -check   # exit 1 unless the committed list is what the dictionary makes
//
// The dictionary is SCOWL's American English list as Debian packages it (wamerican
// 2020.12.07-2); the command refuses any other file, so that the list is reproduced exactly.
// Without installing it:
//
//	apt-get download wamerican=2020.12.07-2 && dpkg -x wamerican_2020.12.07-2_all.deb /tmp/wamerican
//	go run ./scripts/cmd/triagewords -dict /tmp/wamerican/usr/share/dict/american-english
//
// Run it again whenever the vocabulary or the lexicon changes: the engine refuses to load a
// list that names a word it now knows.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/medi-os/medi/scripts/repo"
	"github.com/medi-os/medi/shared/triage"
)

const (
	defaultDict = "/usr/share/dict/american-english"
	outPath     = "shared/triage/data/plainwords.txt"
	// dictSHA256 is the SHA-256 of usr/share/dict/american-english in Debian's wamerican
	// 2020.12.07-2.
	dictSHA256 = "9f513f1ceadb6a01c5485b7dbdfd5118dc66cd70b59cae2851292112d4066a32"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "triagewords:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("triagewords", flag.ContinueOnError)
	dict := fs.String("dict", defaultDict, "the dictionary (Debian wamerican 2020.12.07-2)")
	check := fs.Bool("check", false, "compare with the committed list instead of writing it")
	out := fs.String("out", "", "where to write the list (default: "+outPath+" in the repository)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	raw, err := os.ReadFile(*dict)
	if err != nil {
		return fmt.Errorf("reading the dictionary: %w (see the command's documentation to get it)", err)
	}
	if sum := sha256.Sum256(raw); hex.EncodeToString(sum[:]) != dictSHA256 {
		return errors.New(*dict + " is not the american-english of Debian's wamerican 2020.12.07-2; the list is derived from that file only")
	}
	list, err := Render(raw)
	if err != nil {
		return err
	}
	path := *out
	if path == "" {
		root, err := repo.Root()
		if err != nil {
			return err
		}
		path = filepath.Join(root, outPath)
	}
	if *check {
		got, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if !bytes.Equal(got, list) {
			return errors.New(path + " is not what the dictionary makes: run go run ./scripts/cmd/triagewords")
		}
		fmt.Println(path + " is reproduced bit for bit from " + *dict)
		return nil
	}
	return os.WriteFile(path, list, 0o644)
}

// Render returns the list file made from the dictionary's contents.
func Render(dict []byte) ([]byte, error) {
	words, err := triage.PlainWords(bytes.NewReader(dict))
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString(header)
	for _, w := range words {
		b.WriteString(w)
		b.WriteByte('\n')
	}
	return b.Bytes(), nil
}

const header = `# Ordinary English words the triage engine's complaint reader keeps as written: the words of
# an English dictionary that it would otherwise correct, one letter away, into a vocabulary
# word of another meaning ("smell" into "swell", "worse" into "worst", "peptic" into
# "septic"). A word one letter from a vocabulary word by an inflection ("anemic", "bruised")
# is not listed: it is still read as that word. Generated, do not edit: reproduced bit for bit
# by "go run ./scripts/cmd/triagewords" (see shared/triage/plainwords.go for the rules).
#
# Source: SCOWL (Spell Checker Oriented Word Lists), American English, as packaged by Debian
# (wamerican 2020.12.07-2, /usr/share/dict/american-english, SHA-256
# 9f513f1ceadb6a01c5485b7dbdfd5118dc66cd70b59cae2851292112d4066a32).
#
#   Copyright 2000-2011 by Kevin Atkinson
#
#   Permission to use, copy, modify, distribute and sell these word
#   lists, the associated scripts, the output created from the scripts,
#   and its documentation for any purpose is hereby granted without fee,
#   provided that the above copyright notice appears in all copies and
#   that both that copyright notice and this permission notice appear in
#   supporting documentation. Kevin Atkinson makes no representations
#   about the suitability of this array for any purpose. It is provided
#   "as is" without express or implied warranty.
#
# The notices of the lists SCOWL is built from are in the Debian package's
# /usr/share/doc/wamerican/copyright.
`

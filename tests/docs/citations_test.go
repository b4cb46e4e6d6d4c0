package docs

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// citation matches a document named in text: "docs/reliability.md", "triage-rules.md §7.5",
// "runbooks/README.md". The section, when given, is a number like 7 or 7.5.
var citation = regexp.MustCompile(`((?:[A-Za-z0-9_-]+/)*[A-Za-z0-9_-]+\.md)(?:\s?§\s?([0-9]+(?:\.[0-9]+)*))?`)

// sectionHeading matches a numbered Markdown heading ("## 7. Beyond ESI v4", "### 7.5 How ...")
// and captures its number.
var sectionHeading = regexp.MustCompile(`(?m)^#{1,6}\s+([0-9]+(?:\.[0-9]+)*)\.?\s`)

// skippedDirs are never read: dependencies, build output and the local stack's state.
var skippedDirs = map[string]bool{".git": true, "node_modules": true, ".stack": true, "dist": true, "testdata": true, "playwright-report": true, "test-results": true}

// generated files are checked through their source: the web app's API types come from
// docs/openapi.yaml.
var generated = map[string]bool{"web/src/api/schema.d.ts": true}

// citedIn lists the documents a text names, with the section when one is given. An absolute
// path (an output file such as /tmp/load.md) is not a citation.
func citedIn(text string) [][2]string {
	var out [][2]string
	for _, m := range citation.FindAllStringSubmatchIndex(text, -1) {
		if m[0] > 0 && text[m[0]-1] == '/' {
			continue
		}
		sec := ""
		if m[4] >= 0 {
			sec = text[m[4]:m[5]]
		}
		out = append(out, [2]string{text[m[2]:m[3]], sec})
	}
	return out
}

// resolveCitation finds the file a citation in file from names: a path relative to the
// repository root or to the citing file's folder, or else a bare name that exactly one
// Markdown file of the repository has (docs cite each other by name).
func resolveCitation(root, from, name string, byBase map[string][]string) (string, error) {
	for _, p := range []string{filepath.Join(root, name), filepath.Join(root, filepath.Dir(from), name)} {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	if strings.Contains(name, "/") {
		// a longer path must exist as written (or end one that does)
		for _, p := range byBase[filepath.Base(name)] {
			if strings.HasSuffix(filepath.ToSlash(p), "/"+name) {
				return p, nil
			}
		}
		return "", fmt.Errorf("no file %s", name)
	}
	switch c := byBase[name]; len(c) {
	case 0:
		return "", fmt.Errorf("no file named %s in the repository", name)
	case 1:
		return c[0], nil
	default:
		return "", fmt.Errorf("%s is ambiguous (%d files have that name); give its path", name, len(c))
	}
}

// TestCitedDocumentsExist checks every document that a comment, a script, a Terraform file or
// a doc names (outside Markdown links, which TestRelativeLinksResolve checks): the file is in
// the repository, and a cited section ("triage-rules.md §7.5") is a numbered heading of it.
// A reader who has only the repository must be able to follow every reference.
func TestCitedDocumentsExist(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	byBase := map[string][]string{}
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if skippedDirs[d.Name()] && p != root {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(p, ".md") {
			byBase[d.Name()] = append(byBase[d.Name()], p)
		}
		// test files hold Markdown fixtures ("a-link.md"), not citations
		if !strings.HasSuffix(p, "_test.go") && !strings.HasSuffix(p, ".test.ts") && !strings.HasSuffix(p, ".spec.ts") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sections := map[string]map[string]bool{}
	sectionsOf := func(p string) map[string]bool {
		if s, ok := sections[p]; ok {
			return s
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		s := map[string]bool{}
		for _, m := range sectionHeading.FindAllStringSubmatch(string(b), -1) {
			s[m[1]] = true
		}
		sections[p] = s
		return s
	}
	checked := 0
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.IndexByte(b, 0) >= 0 || len(b) > 4<<20 {
			continue // binary or generated data
		}
		rel, _ := filepath.Rel(root, p)
		if generated[filepath.ToSlash(rel)] {
			continue
		}
		for i, line := range strings.Split(string(b), "\n") {
			for _, c := range citedIn(line) {
				checked++
				target, err := resolveCitation(root, rel, c[0], byBase)
				if err != nil {
					t.Errorf("%s:%d cites %s: %v", rel, i+1, c[0], err)
					continue
				}
				if c[1] != "" && !sectionsOf(target)[c[1]] {
					t.Errorf("%s:%d cites %s §%s: it has no heading numbered %s", rel, i+1, c[0], c[1], c[1])
				}
			}
		}
	}
	if checked < 100 {
		t.Fatalf("found only %d citations: the scan is broken", checked)
	}
}

// TestCitationParsing pins what counts as a citation.
func TestCitationParsing(t *testing.T) {
	got := citedIn("see triage-rules.md §7.5 and docs/reliability.md; OUTSIDE.md section 4; x.md§2; -out /tmp/load.md")
	want := [][2]string{{"triage-rules.md", "7.5"}, {"docs/reliability.md", ""}, {"OUTSIDE.md", ""}, {"x.md", "2"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("citedIn = %v, want %v", got, want)
	}
	s := sectionHeading.FindAllStringSubmatch("## 7. Beyond\n### 7.5 How\n## Not numbered\n", -1)
	if len(s) != 2 || s[0][1] != "7" || s[1][1] != "7.5" {
		t.Fatalf("sections = %v", s)
	}
}

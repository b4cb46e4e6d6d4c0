package docs

import (
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// scheme matches a link with a URL scheme (https:, mailto:, ...), which is not checked.
var scheme = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*:`)

// markdownFiles lists README.md and every Markdown file under docs/, relative to root.
func markdownFiles(t *testing.T, root string) []string {
	t.Helper()
	files := []string{"README.md"}
	err := filepath.WalkDir(filepath.Join(root, "docs"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".md") {
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	return files
}

// TestRelativeLinksResolve checks every relative link of README.md and docs/**/*.md: the
// file or directory exists, and an #anchor into a Markdown file names one of its
// headings (GitHub-style slugs). Links with a scheme (https:, mailto:) are not fetched.
func TestRelativeLinksResolve(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	files := markdownFiles(t, root)
	if len(files) < 10 {
		t.Fatalf("found only %d Markdown files (%v): the walk is broken", len(files), files)
	}
	anchorCache := map[string]map[string]bool{}
	anchorsOf := func(path string) (map[string]bool, error) {
		if a, ok := anchorCache[path]; ok {
			return a, nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		anchorCache[path] = anchors(string(b))
		return anchorCache[path], nil
	}
	checked := 0
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range links(string(b)) {
			if l.target == "" || scheme.MatchString(l.target) || strings.HasPrefix(l.target, "//") {
				continue
			}
			checked++
			pathPart, anchor, _ := strings.Cut(l.target, "#")
			if p, err := url.PathUnescape(pathPart); err == nil {
				pathPart = p
			}
			target := filepath.Join(root, f) // an anchor-only link points into the file itself
			if pathPart != "" {
				if strings.HasPrefix(pathPart, "/") {
					target = filepath.Join(root, filepath.FromSlash(pathPart))
				} else {
					target = filepath.Join(filepath.Dir(filepath.Join(root, f)), filepath.FromSlash(pathPart))
				}
			}
			info, err := os.Stat(target)
			if err != nil {
				t.Errorf("%s:%d: link %q: %s does not exist", f, l.line, l.target, rel(root, target))
				continue
			}
			if anchor == "" || info.IsDir() || !strings.HasSuffix(target, ".md") {
				continue
			}
			a, err := anchorsOf(target)
			if err != nil {
				t.Fatal(err)
			}
			if !a[strings.ToLower(anchor)] {
				t.Errorf("%s:%d: link %q: %s has no heading with anchor #%s", f, l.line, l.target, rel(root, target), anchor)
			}
		}
	}
	if checked < 50 {
		t.Errorf("checked only %d relative links: the link extraction is broken", checked)
	}
}

func rel(root, p string) string {
	if r, err := filepath.Rel(root, p); err == nil {
		return filepath.ToSlash(r)
	}
	return p
}

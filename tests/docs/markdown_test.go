package docs

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// repoRoot is the repository root: the test runs in tests/docs.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("repository root not found from the test directory: %v", err)
	}
	return root
}

// link is one Markdown link found in a file.
type link struct {
	line   int
	target string
}

var (
	// inlineLink matches [text](target) and ![alt](target); the text may hold one level of
	// brackets ([`x`][y] is not used in this repository).
	inlineLink = regexp.MustCompile(`!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*(<[^>]*>|[^()\s]*(?:\([^()\s]*\)[^()\s]*)*)(?:\s+(?:"[^"]*"|'[^']*'|\([^)]*\)))?\s*\)`)
	// refDefinition matches a reference definition: [id]: target.
	refDefinition = regexp.MustCompile(`^\s{0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)`)
	// codeSpan matches inline code, whose content is not Markdown.
	codeSpan = regexp.MustCompile("(`+)[^`]*?(`+)")
	// atxHeading matches "# Heading" to "###### Heading".
	atxHeading = regexp.MustCompile(`^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$`)
	// htmlAnchor matches explicit anchors: <a name="x"> or id="x".
	htmlAnchor = regexp.MustCompile(`<a\s+[^>]*(?:name|id)\s*=\s*"([^"]+)"`)
	// fence opens or closes a fenced code block.
	fence = regexp.MustCompile("^\\s{0,3}(```+|~~~+)")
)

// proseLines returns the lines of a Markdown document with fenced code blocks blanked
// out (line numbers are kept), so that links and headings inside code are ignored.
func proseLines(text string) []string {
	lines := strings.Split(text, "\n")
	out := make([]string, len(lines))
	open := ""
	for i, l := range lines {
		if m := fence.FindStringSubmatch(l); m != nil {
			marker := m[1][:1]
			switch {
			case open == "":
				open = marker
				continue
			case open == marker:
				open = ""
				continue
			}
		}
		if open == "" {
			out[i] = l
		}
	}
	return out
}

// links lists the link targets of a Markdown document, outside code blocks and spans.
func links(text string) []link {
	var out []link
	for i, l := range proseLines(text) {
		l = codeSpan.ReplaceAllString(l, "")
		if m := refDefinition.FindStringSubmatch(l); m != nil {
			out = append(out, link{line: i + 1, target: strings.Trim(m[1], "<>")})
			continue
		}
		for _, m := range inlineLink.FindAllStringSubmatch(l, -1) {
			out = append(out, link{line: i + 1, target: strings.Trim(m[1], "<>")})
		}
	}
	return out
}

// anchors returns the anchors GitHub generates for the headings of a Markdown document
// (plus explicit HTML anchors).
func anchors(text string) map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	for _, l := range proseLines(text) {
		for _, m := range htmlAnchor.FindAllStringSubmatch(l, -1) {
			out[m[1]] = true
		}
		m := atxHeading.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		s := slug(m[2])
		if n, ok := seen[s]; ok {
			seen[s] = n + 1
			out[fmt.Sprintf("%s-%d", s, n+1)] = true
			continue
		}
		seen[s] = 0
		out[s] = true
	}
	return out
}

var (
	mdLinkText = regexp.MustCompile(`!?\[([^\]]*)\]\([^)]*\)`)
	htmlTag    = regexp.MustCompile(`<[^>]+>`)
)

// slug is GitHub's heading anchor: the heading's text (link targets, HTML tags and
// emphasis markers dropped), lower case, every character that is not a letter, a digit,
// a space, '-' or '_' removed, spaces replaced by '-'.
func slug(heading string) string {
	s := mdLinkText.ReplaceAllString(heading, "$1")
	s = htmlTag.ReplaceAllString(s, "")
	s = strings.ToLower(s)
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

func TestSlug(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ heading, want string }{
		{"Setup: from a fresh Debian machine", "setup-from-a-fresh-debian-machine"},
		{"1. Prerequisites", "1-prerequisites"},
		{"Reasons in `details.reason`", "reasons-in-detailsreason"},
		{"Checks (`scripts/tfcheck`)", "checks-scriptstfcheck"},
		{`Emergency ("break-glass") access [GET /v1/access/break-glass]`, "emergency-break-glass-access-get-v1accessbreak-glass"},
		{"`invalid_argument`", "invalid_argument"},
		{"A [linked](other.md) heading", "a-linked-heading"},
		{"Café au lait", "café-au-lait"},
	} {
		if got := slug(tc.heading); got != tc.want {
			t.Errorf("slug(%q) = %q, want %q", tc.heading, got, tc.want)
		}
	}
}

func TestLinksAndAnchorsParsing(t *testing.T) {
	t.Parallel()
	doc := strings.Join([]string{
		"# Title",
		"See [setup](setup.md#ports) and [the API](<api reference.md>) and ![img](img/a.png \"title\").",
		"Code `[not](a-link.md)` is skipped.",
		"```",
		"[also not](skipped.md)",
		"## Not a heading",
		"```",
		"[ref]: runbooks/README.md",
		"## Title",
		"Plain [external](https://example.com/x) and [anchor](#title-1).",
	}, "\n")
	var got []string
	for _, l := range links(doc) {
		got = append(got, fmt.Sprintf("%d:%s", l.line, l.target))
	}
	want := []string{"2:setup.md#ports", "2:api reference.md", "2:img/a.png", "8:runbooks/README.md", "10:https://example.com/x", "10:#title-1"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("links = %q, want %q", got, want)
	}
	a := anchors(doc)
	for _, want := range []string{"title", "title-1"} {
		if !a[want] {
			t.Errorf("anchors lack %q: %v", want, a)
		}
	}
	if a["not-a-heading"] {
		t.Errorf("a heading inside a code block became an anchor: %v", a)
	}
}

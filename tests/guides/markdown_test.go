package guides

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// fencedBlock is one fenced code block of a Markdown document.
type fencedBlock struct {
	lang string // the first word of the info string: "sh", "http", ...
	text string // the lines between the fences
	line int    // line number of the opening fence (1-based)
	end  int    // line number of the closing fence
}

var fenceLine = regexp.MustCompile("^\\s{0,3}(```+|~~~+)\\s*(\\S*)")

// fencedBlocks lists the fenced code blocks of a Markdown document in order. An unclosed
// block is an error: everything after it would silently stop counting.
func fencedBlocks(doc string) ([]fencedBlock, error) {
	var out []fencedBlock
	var open *fencedBlock
	var marker string
	var body []string
	for i, l := range strings.Split(doc, "\n") {
		m := fenceLine.FindStringSubmatch(l)
		switch {
		case open == nil && m != nil:
			open = &fencedBlock{lang: m[2], line: i + 1}
			marker, body = m[1], nil
		case open != nil && m != nil && strings.HasPrefix(m[1], marker[:1]) && len(m[1]) >= len(marker) && m[2] == "":
			open.text, open.end = strings.Join(body, "\n"), i+1
			out = append(out, *open)
			open = nil
		case open != nil:
			body = append(body, l)
		}
	}
	if open != nil {
		return nil, fmt.Errorf("line %d: fenced block never closed", open.line)
	}
	return out, nil
}

// step is one runnable block of a guide and the answers the guide shows after it.
type step struct {
	line     int      // line of the ```sh fence
	script   string   // the commands
	answers  []answer // nil when no ```http block follows
	answerAt int      // line of the ```http fence, 0 when none
}

// answer is one HTTP answer: as the guide shows it or as the commands printed it.
type answer struct {
	status int
	body   any // decoded JSON; nil for an empty body
	raw    string
}

// steps takes the runnable blocks of a guide: every ```sh block, with the ```http block
// that follows it with nothing but blank lines in between, when there is one.
func steps(doc string) ([]step, error) {
	blocks, err := fencedBlocks(doc)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(doc, "\n")
	var out []step
	for i, b := range blocks {
		switch b.lang {
		case "sh":
			s := step{line: b.line, script: b.text}
			if i+1 < len(blocks) && blocks[i+1].lang == "http" && blank(lines[b.end:blocks[i+1].line-1]) {
				next := blocks[i+1]
				ans, err := parseAnswers(next.text)
				if err != nil {
					return nil, fmt.Errorf("line %d: shown answer: %w", next.line, err)
				}
				s.answers, s.answerAt = ans, next.line
			}
			out = append(out, s)
		case "http":
			if i == 0 || blocks[i-1].lang != "sh" || !blank(lines[blocks[i-1].end:b.line-1]) {
				return nil, fmt.Errorf("line %d: an ```http answer must follow a ```sh block directly", b.line)
			}
		}
	}
	return out, nil
}

func blank(lines []string) bool {
	for _, l := range lines {
		if strings.TrimSpace(l) != "" {
			return false
		}
	}
	return true
}

var statusLine = regexp.MustCompile(`^HTTP ([1-5][0-9][0-9])$`)

// parseAnswers reads answers as the guides show them and as the api helper prints them:
// a line "HTTP <status>", then the JSON body (any number of lines; none for an empty
// body) up to the next status line.
func parseAnswers(text string) ([]answer, error) {
	var out []answer
	var body []string
	flush := func() error {
		if len(out) == 0 {
			if strings.TrimSpace(strings.Join(body, "")) != "" {
				return fmt.Errorf("text before the first \"HTTP <status>\" line: %q", strings.Join(body, "\n"))
			}
			return nil
		}
		a := &out[len(out)-1]
		a.raw = strings.TrimSpace(strings.Join(body, "\n"))
		if a.raw != "" {
			dec := json.NewDecoder(strings.NewReader(a.raw))
			dec.UseNumber()
			if err := dec.Decode(&a.body); err != nil {
				return fmt.Errorf("answer %d (HTTP %d): not JSON: %v", len(out), a.status, err)
			}
			if dec.More() {
				return fmt.Errorf("answer %d (HTTP %d): more than one JSON value", len(out), a.status)
			}
		}
		body = nil
		return nil
	}
	for _, l := range strings.Split(text, "\n") {
		if m := statusLine.FindStringSubmatch(strings.TrimSpace(l)); m != nil {
			if err := flush(); err != nil {
				return nil, err
			}
			code, _ := strconv.Atoi(m[1])
			out = append(out, answer{status: code})
			continue
		}
		body = append(body, l)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

// The comparison rule (docs/user-guides/README.md, "Shown answers"): the status is equal;
// the shown body is abridged, so every field it shows must be in the real answer with a
// matching value, and fields it leaves out may be there. Values match when they are equal,
// except for these placeholders, written where a value differs from run to run (ids,
// times, tokens, counts):
//
//   - "..." matches any value that is there (not a missing field);
//   - "<anything>" (a string in angle brackets) matches any non-empty string;
//   - "abc..." (a string ending in three dots) matches any string that starts with "abc";
//   - an array ending with "..." matches an array that starts with the elements shown
//     before it (["..."] matches any array); any other array must have exactly the
//     elements shown.
const anyValue = "..."

// mismatches lists where real differs from shown, by JSON path.
func mismatches(path string, shown, real any) []string {
	if s, ok := shown.(string); ok {
		switch {
		case s == anyValue:
			return nil
		case len(s) > 2 && strings.HasPrefix(s, "<") && strings.HasSuffix(s, ">"):
			if r, ok := real.(string); !ok || r == "" {
				return []string{fmt.Sprintf("%s: shown %q (any non-empty string), got %s", path, s, compact(real))}
			}
			return nil
		case len(s) > 3 && strings.HasSuffix(s, anyValue):
			if r, ok := real.(string); !ok || !strings.HasPrefix(r, strings.TrimSuffix(s, anyValue)) {
				return []string{fmt.Sprintf("%s: shown %q (a string starting so), got %s", path, s, compact(real))}
			}
			return nil
		}
	}
	switch sv := shown.(type) {
	case map[string]any:
		rv, ok := real.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: shown an object, got %s", path, compact(real))}
		}
		var out []string
		for _, k := range slices.Sorted(maps.Keys(sv)) {
			r, there := rv[k]
			if !there {
				out = append(out, fmt.Sprintf("%s.%s: shown, but not in the real answer", path, k))
				continue
			}
			out = append(out, mismatches(path+"."+k, sv[k], r)...)
		}
		return out
	case []any:
		rv, ok := real.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: shown an array, got %s", path, compact(real))}
		}
		open := len(sv) > 0 && sv[len(sv)-1] == anyValue
		if open {
			sv = sv[:len(sv)-1]
		}
		if len(rv) < len(sv) || (!open && len(rv) != len(sv)) {
			return []string{fmt.Sprintf("%s: shown %d elements%s, got %d", path, len(sv), map[bool]string{true: " or more"}[open], len(rv))}
		}
		var out []string
		for i := range sv {
			out = append(out, mismatches(fmt.Sprintf("%s[%d]", path, i), sv[i], rv[i])...)
		}
		return out
	case json.Number:
		if rn, ok := real.(json.Number); ok {
			a, errA := sv.Float64()
			b, errB := rn.Float64()
			if errA == nil && errB == nil && a == b {
				return nil
			}
		}
	default:
		if shown == real {
			return nil
		}
	}
	return []string{fmt.Sprintf("%s: shown %s, got %s", path, compact(shown), compact(real))}
}

// compact renders a value for a message, cut short.
func compact(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	s := strings.TrimSpace(b.String())
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

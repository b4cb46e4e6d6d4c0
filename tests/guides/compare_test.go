package guides

import (
	"strings"
	"testing"
)

// The comparison rule of docs/user-guides/README.md, "Shown answers".
func TestMismatches(t *testing.T) {
	real := `{"success": true, "data": {"id": "Xk2m9", "mrn": "MRN-000001", "version": 2, "level": null,
		"items": [{"a": 1}, {"a": 2}], "empty": [], "text": "68-year-old male", "n": 36.9}}`
	tests := []struct {
		name, shown string
		want        string // "" = match; else a substring of the first difference
	}{
		{"equal subset", `{"data": {"version": 2, "level": null, "n": 36.9}}`, ""},
		{"abridged: fields left out", `{"success": true}`, ""},
		{"any value", `{"data": {"id": "...", "level": "...", "items": "..."}}`, ""},
		{"angle brackets: any non-empty string", `{"data": {"id": "<patient id>"}}`, ""},
		{"angle brackets refuse a non-string", `{"data": {"version": "<n>"}}`, "$.data.version"},
		{"angle brackets refuse null", `{"data": {"level": "<level>"}}`, "$.data.level"},
		{"prefix", `{"data": {"mrn": "MRN-..."}}`, ""},
		{"prefix differs", `{"data": {"mrn": "DEMO-..."}}`, "$.data.mrn"},
		{"field missing", `{"data": {"phone": "..."}}`, "$.data.phone: shown, but not in the real answer"},
		{"value differs", `{"data": {"version": 3}}`, "$.data.version: shown 3, got 2"},
		{"type differs", `{"data": {"version": "2"}}`, "$.data.version"},
		{"null differs", `{"data": {"id": null}}`, "$.data.id"},
		{"exact array", `{"data": {"items": [{"a": 1}, {"a": 2}]}}`, ""},
		{"exact array too short", `{"data": {"items": [{"a": 1}]}}`, "shown 1 elements, got 2"},
		{"open array", `{"data": {"items": [{"a": 1}, "..."]}}`, ""},
		{"open array element differs", `{"data": {"items": [{"a": 2}, "..."]}}`, "$.data.items[0].a"},
		{"open array longer than real", `{"data": {"items": [{}, {}, {}, "..."]}}`, "or more"},
		{"any array, even empty", `{"data": {"empty": ["..."]}}`, ""},
		{"empty array shown", `{"data": {"empty": []}}`, ""},
		{"empty array shown, real has elements", `{"data": {"items": []}}`, "shown 0 elements, got 2"},
		{"object shown, array real", `{"data": {"items": {}}}`, "shown an object"},
	}
	realAns, err := parseAnswers("HTTP 200\n" + real)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			shown, err := parseAnswers("HTTP 200\n" + tt.shown)
			if err != nil {
				t.Fatal(err)
			}
			got := mismatches("$", shown[0].body, realAns[0].body)
			switch {
			case tt.want == "" && len(got) > 0:
				t.Errorf("want a match, got %q", got)
			case tt.want != "" && (len(got) == 0 || !strings.Contains(got[0], tt.want)):
				t.Errorf("want a difference containing %q, got %q", tt.want, got)
			}
		})
	}
}

func TestParseAnswers(t *testing.T) {
	got, err := parseAnswers("HTTP 201\n{\"a\":\n  1}\nHTTP 200\n\nHTTP 409\n{\"b\": 2}\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].status != 201 || got[1].status != 200 || got[1].body != nil || got[2].status != 409 {
		t.Fatalf("parseAnswers = %+v", got)
	}
	for _, bad := range []string{
		"some text\nHTTP 200\n{}",          // text before the first answer
		"HTTP 200\n{\"a\": 1,}",            // not JSON
		"HTTP 200\n{\"a\": 1}\n{\"b\": 2}", // two values for one answer
	} {
		if _, err := parseAnswers(bad); err == nil {
			t.Errorf("parseAnswers(%q) accepted it", bad)
		}
	}
}

func TestSteps(t *testing.T) {
	doc := "# Guide\n\n```sh\napi GET /v1/me\n```\n\n```http\nHTTP 200\n{}\n```\n\ntext\n\n```sh\necho\n```\n\n" +
		"```json\n{}\n```\n\n```\nGET /v1/x\n```\n"
	got, err := steps(doc)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].line != 3 || got[0].answerAt != 7 || len(got[0].answers) != 1 || got[1].answerAt != 0 {
		t.Fatalf("steps = %+v", got)
	}
	for name, bad := range map[string]string{
		"answer after prose":     "```sh\necho\n```\n\ntext\n\n```http\nHTTP 200\n```\n",
		"answer without command": "```http\nHTTP 200\n```\n",
		"unclosed block":         "```sh\necho\n",
	} {
		if _, err := steps(bad); err == nil {
			t.Errorf("%s: steps accepted it", name)
		}
	}
}

package routes

import (
	"strings"
	"testing"
)

func TestOwner(t *testing.T) {
	t.Parallel()
	tab := Get()
	for path, want := range map[string]string{
		"/v1/staff":          "auth",
		"/v1/staff/abc":      "auth",
		"/v1/staffing":       "auth", // no prefix: the default
		"/v1/encounters/e1":  "queue",
		"/v1/queue":          "queue",
		"/v1/notes/n1/fhir":  "scribe",
		"/v1/summaries/p1":   "summarize",
		"/v1/patients":       "patients",
		"/v1/triage/assess":  "triage",
		"/v1/no-such-route":  tab.Default,
		"/":                  tab.Default,
		"/v1/patientsmore/x": tab.Default,
	} {
		if got := tab.Owner(path); got != want {
			t.Errorf("Owner(%q) = %q, want %q", path, got, want)
		}
	}
	if got := tab.Prefixes("scribe"); strings.Join(got, ",") != "/v1/scribe,/v1/notes" {
		t.Errorf("Prefixes(scribe) = %v", got)
	}
	if got := tab.Prefixes("mailer"); got != nil {
		t.Errorf("Prefixes(mailer) = %v, want none (not public)", got)
	}
}

func TestParseRefusesAmbiguousTables(t *testing.T) {
	t.Parallel()
	for name, doc := range map[string]string{
		"shared prefix":   `{"default":"a","routes":[{"function":"a","prefixes":["/v1/x"]},{"function":"b","prefixes":["/v1/x"]}]}`,
		"function twice":  `{"default":"a","routes":[{"function":"a","prefixes":["/v1/x"]},{"function":"a","prefixes":["/v1/y"]}]}`,
		"unknown default": `{"default":"c","routes":[{"function":"a","prefixes":["/v1/x"]}]}`,
		"outside /v1":     `{"default":"a","routes":[{"function":"a","prefixes":["/x"]}]}`,
		"trailing slash":  `{"default":"a","routes":[{"function":"a","prefixes":["/v1/x/"]}]}`,
		"no prefix":       `{"default":"a","routes":[{"function":"a","prefixes":[]}]}`,
		"unknown field":   `{"default":"a","routes":[],"extra":1}`,
	} {
		if _, err := Parse([]byte(doc)); err == nil {
			t.Errorf("%s: Parse accepted %s", name, doc)
		}
	}
}

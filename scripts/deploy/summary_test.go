package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	tfjson "github.com/hashicorp/terraform-json"
)

// planJSON is a trimmed `terraform show -json` of a saved plan.
func planJSON(t *testing.T, env string, changes map[string][]string) *tfjson.Plan {
	t.Helper()
	type change struct {
		Actions []string `json:"actions"`
	}
	type rc struct {
		Address string `json:"address"`
		Change  change `json:"change"`
	}
	doc := struct {
		FormatVersion    string                       `json:"format_version"`
		Variables        map[string]map[string]string `json:"variables"`
		ResourceChanges  []rc                         `json:"resource_changes"`
		TerraformVersion string                       `json:"terraform_version"`
	}{
		FormatVersion:    "1.2",
		TerraformVersion: "1.11.4",
		Variables:        map[string]map[string]string{"environment": {"value": env}, "release": {"value": "abc123"}},
	}
	for addr, actions := range changes {
		doc.ResourceChanges = append(doc.ResourceChanges, rc{Address: addr, Change: change{Actions: actions}})
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var p tfjson.Plan
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatalf("unmarshal plan: %v", err)
	}
	return &p
}

func TestSummarize(t *testing.T) {
	t.Parallel()
	p := planJSON(t, "staging", map[string][]string{
		"module.auth.google_cloudfunctions2_function.this":  {"update"},
		"google_pubsub_topic.b":                             {"create"},
		"google_pubsub_topic.a":                             {"create"},
		"google_storage_bucket.bucket[\"uploads\"]":         {"no-op"},
		"data.google_project.this":                          {"read"},
		"google_compute_managed_ssl_certificate.api":        {"create", "delete"},
		"google_firestore_index.composite[\"x\"]":           {"delete", "create"},
		"google_cloud_tasks_queue.queue[\"old\"]":           {"delete"},
		"google_monitoring_alert_policy.alert[\"removed\"]": {"forget"},
	})
	got, err := Summarize(p)
	if err != nil {
		t.Fatal(err)
	}
	want := Summary{
		Env:     "staging",
		Release: "abc123",
		Create:  []string{"google_pubsub_topic.a", "google_pubsub_topic.b"},
		Update:  []string{"module.auth.google_cloudfunctions2_function.this"},
		Replace: []string{"google_compute_managed_ssl_certificate.api", "google_firestore_index.composite[\"x\"]"},
		Delete:  []string{"google_cloud_tasks_queue.queue[\"old\"]"},
		Forget:  []string{"google_monitoring_alert_policy.alert[\"removed\"]"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Summarize mismatch (-want +got):\n%s", diff)
	}
	wantText := `environment staging, release abc123
create 2, update 1, replace 2, delete 1, forget 1
  + google_pubsub_topic.a
  + google_pubsub_topic.b
  ~ module.auth.google_cloudfunctions2_function.this
-/+ google_compute_managed_ssl_certificate.api
-/+ google_firestore_index.composite["x"]
  - google_cloud_tasks_queue.queue["old"]
  x google_monitoring_alert_policy.alert["removed"]
`
	if diff := cmp.Diff(wantText, got.Text()); diff != "" {
		t.Errorf("Text mismatch (-want +got):\n%s", diff)
	}
	if got.Empty() {
		t.Error("Empty() = true for a plan with changes")
	}
}

func TestSummaryDigest(t *testing.T) {
	t.Parallel()
	base := map[string][]string{"google_pubsub_topic.a": {"create"}, "google_pubsub_topic.b": {"update"}}
	digest := func(env string, changes map[string][]string) string {
		s, err := Summarize(planJSON(t, env, changes))
		if err != nil {
			t.Fatal(err)
		}
		return s.Digest()
	}
	d := digest("prod", base)
	if len(d) != 64 || strings.Trim(d, "0123456789abcdef") != "" {
		t.Fatalf("Digest() = %q, want 64 lower-case hex digits", d)
	}
	// Map order differs between calls; the digest must not.
	for range 5 {
		if again := digest("prod", base); again != d {
			t.Fatalf("digest of the same plan changed: %s then %s", d, again)
		}
	}
	variants := map[string]string{
		"other environment": digest("staging", base),
		"extra change":      digest("prod", map[string][]string{"google_pubsub_topic.a": {"create"}, "google_pubsub_topic.b": {"update"}, "google_pubsub_topic.c": {"delete"}}),
		"other action":      digest("prod", map[string][]string{"google_pubsub_topic.a": {"create"}, "google_pubsub_topic.b": {"delete"}}),
	}
	for name, v := range variants {
		if v == d {
			t.Errorf("%s: digest unchanged (%s); an approval would carry over to a different plan", name, v)
		}
	}
}

func TestSummarizeEmptyAndInvalid(t *testing.T) {
	t.Parallel()
	s, err := Summarize(planJSON(t, "dev", map[string][]string{"google_pubsub_topic.a": {"no-op"}}))
	if err != nil {
		t.Fatal(err)
	}
	if !s.Empty() {
		t.Errorf("Empty() = false for a no-op plan: %+v", s)
	}
	if _, err := Summarize(nil); err == nil {
		t.Error("Summarize(nil) succeeded")
	}
	if _, err := Summarize(planJSON(t, "dev", map[string][]string{"google_pubsub_topic.a": {"create", "update"}})); err == nil {
		t.Error("Summarize accepted an unknown combination of actions")
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/terraform-exec/tfexec"
	tfjson "github.com/hashicorp/terraform-json"
)

// fakeTerraform records the commands the deployer runs. Options are recorded in their %+v
// form (tfexec options are structs with unexported fields), e.g. "&{path:plans/dev.tfplan}".
type fakeTerraform struct {
	dir      string
	plan     *tfjson.Plan // what ShowPlanFile returns
	outputs  map[string]tfexec.OutputMeta
	planErr  error
	applyErr error
	calls    []string
}

func record[T any](f *fakeTerraform, name string, opts []T) {
	parts := []string{name}
	for _, o := range opts {
		parts = append(parts, fmt.Sprintf("%+v", o))
	}
	f.calls = append(f.calls, strings.Join(parts, " "))
}

func (f *fakeTerraform) Init(_ context.Context, opts ...tfexec.InitOption) error {
	record(f, "init", opts)
	return nil
}

func (f *fakeTerraform) Plan(_ context.Context, opts ...tfexec.PlanOption) (bool, error) {
	record(f, "plan", opts)
	if f.planErr != nil {
		return false, f.planErr
	}
	// terraform plan -out writes the saved plan.
	for _, o := range opts {
		if out, ok := o.(*tfexec.OutOption); ok {
			p := strings.TrimSuffix(strings.TrimPrefix(fmt.Sprintf("%+v", out), "&{path:"), "}")
			if err := os.WriteFile(filepath.Join(f.dir, p), []byte("saved plan"), 0o644); err != nil {
				return false, err
			}
		}
	}
	return true, nil
}

func (f *fakeTerraform) ShowPlanFile(_ context.Context, path string, _ ...tfexec.ShowOption) (*tfjson.Plan, error) {
	f.calls = append(f.calls, "show "+path)
	return f.plan, nil
}

func (f *fakeTerraform) Apply(_ context.Context, opts ...tfexec.ApplyOption) error {
	record(f, "apply", opts)
	return f.applyErr
}

func (f *fakeTerraform) Output(_ context.Context, opts ...tfexec.OutputOption) (map[string]tfexec.OutputMeta, error) {
	record(f, "output", opts)
	return f.outputs, nil
}

// newTestDeployer returns a deployer on a temporary root module next to a minimal
// repository (for the source archive).
func newTestDeployer(t *testing.T, plan *tfjson.Plan) (*deployer, *fakeTerraform, *bytes.Buffer) {
	t.Helper()
	repo := t.TempDir()
	writeTree(t, repo, map[string]string{
		"go.mod": "module m\n", "go.sum": "", "functions.go": "package m\n",
		"functions/a/a.go": "package a\n", "shared/b/b.go": "package b\n",
		"web/dist/index.html": "<!doctype html>",
	})
	dir := filepath.Join(repo, "terraform")
	if err := os.MkdirAll(filepath.Join(dir, "plans"), 0o755); err != nil {
		t.Fatal(err)
	}
	fake := &fakeTerraform{dir: dir, plan: plan}
	var out bytes.Buffer
	d := &deployer{
		tf: fake, dir: dir, repo: repo, pluginDir: "/mirror",
		release: func() (string, error) { return "gitsha", nil },
		stdout:  &out, stderr: &bytes.Buffer{},
	}
	return d, fake, &out
}

func savePlan(t *testing.T, d *deployer, env string) {
	t.Helper()
	if err := os.WriteFile(d.path(planFile(env)), []byte("saved plan"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func TestPlanWritesSavedPlanAndSummary(t *testing.T) {
	t.Parallel()
	plan := planJSON(t, "staging", map[string][]string{"google_pubsub_topic.a": {"create"}})
	d, fake, out := newTestDeployer(t, plan)
	// A stale summary of an earlier plan must not survive.
	if err := os.WriteFile(d.path(summaryFile("staging")), []byte("stale"), 0o644); err != nil {
		t.Fatal(err)
	}

	s, err := d.plan(t.Context(), "staging", "rel-1")
	if err != nil {
		t.Fatal(err)
	}
	_, sum, err := buildSourceArchive(d.repo)
	if err != nil {
		t.Fatal(err)
	}
	wantCalls := []string{
		"init &{path:backends/staging.gcs.tfbackend} &{reconfigure:true} &{pluginDir:/mirror}",
		"plan &{path:plans/staging.tfplan} &{path:envs/staging.tfvars} &{assignment:release=rel-1} &{assignment:source_archive=plans/source-" + sum + ".zip} &{assignment:source_sha256=" + sum + "}",
		"show plans/staging.tfplan",
	}
	if diff := cmp.Diff(wantCalls, fake.calls); diff != "" {
		t.Errorf("terraform calls mismatch (-want +got):\n%s", diff)
	}
	if !exists(d.path(filepath.Join("plans", "source-"+sum+".zip"))) {
		t.Error("the source archive the plan references was not written")
	}
	saved, err := os.ReadFile(d.path(summaryFile("staging")))
	if err != nil {
		t.Fatal(err)
	}
	if string(saved) != s.Text() {
		t.Errorf("saved summary = %q, want %q", saved, s.Text())
	}
	if !strings.Contains(out.String(), s.Text()) || !strings.Contains(out.String(), "digest "+s.Digest()) {
		t.Errorf("plan output lacks the summary or its digest:\n%s", out)
	}
	if strings.Contains(out.String(), "-approve") {
		t.Errorf("staging needs no approval, but the output suggests one:\n%s", out)
	}
}

func TestPlanProdPrintsApprovalCommand(t *testing.T) {
	t.Parallel()
	d, _, out := newTestDeployer(t, planJSON(t, "prod", map[string][]string{"google_pubsub_topic.a": {"update"}}))
	s, err := d.plan(t.Context(), "prod", "")
	if err != nil {
		t.Fatal(err)
	}
	if s.Release != "abc123" {
		t.Fatalf("summary release = %q", s.Release)
	}
	if want := "apply -env prod -approve " + s.Digest(); !strings.Contains(out.String(), want) {
		t.Errorf("plan output lacks %q:\n%s", want, out)
	}
}

func TestPlanFailureLeavesNoSavedPlan(t *testing.T) {
	t.Parallel()
	d, fake, _ := newTestDeployer(t, nil)
	savePlan(t, d, "dev") // from an earlier run
	fake.planErr = errors.New("boom")
	if _, err := d.plan(t.Context(), "dev", "r"); err == nil {
		t.Fatal("plan succeeded although terraform plan failed")
	}
	if exists(d.path(planFile("dev"))) {
		t.Error("an earlier saved plan survived a failed plan and could be applied by mistake")
	}
}

func TestApply(t *testing.T) {
	t.Parallel()
	prodPlan := planJSON(t, "prod", map[string][]string{"google_pubsub_topic.a": {"create"}})
	prodSummary, err := Summarize(prodPlan)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		env       string
		plan      *tfjson.Plan
		saved     bool
		approve   string
		wantErr   string
		wantApply bool
	}{
		{name: "staging applies its saved plan", env: "staging", plan: planJSON(t, "staging", nil), saved: true, wantApply: true},
		{name: "no saved plan", env: "staging", plan: planJSON(t, "staging", nil), saved: false, wantErr: "no saved plan for staging"},
		{name: "plan of another environment", env: "staging", plan: planJSON(t, "prod", nil), saved: true, wantErr: `is for environment "prod", not "staging"`},
		{name: "prod without approval", env: "prod", plan: prodPlan, saved: true, wantErr: "prod needs -approve"},
		{name: "prod with a digest of another summary", env: "prod", plan: prodPlan, saved: true, approve: strings.Repeat("0", 64), wantErr: "not the approved"},
		{name: "prod with the approved digest", env: "prod", plan: prodPlan, saved: true, approve: prodSummary.Digest(), wantApply: true},
		{name: "staging with a wrong digest is refused too", env: "staging", plan: planJSON(t, "staging", nil), saved: true, approve: strings.Repeat("1", 64), wantErr: "not the approved"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, fake, out := newTestDeployer(t, tt.plan)
			if tt.saved {
				savePlan(t, d, tt.env)
			}
			err := d.apply(t.Context(), tt.env, tt.approve)
			applied := false
			for _, c := range fake.calls {
				if strings.HasPrefix(c, "apply") {
					applied = true
					if want := "apply &{path:plans/" + tt.env + ".tfplan}"; c != want {
						t.Errorf("apply call = %q, want %q (only the saved plan)", c, want)
					}
				}
			}
			if applied != tt.wantApply {
				t.Errorf("terraform apply ran = %v, want %v (calls %q)", applied, tt.wantApply, fake.calls)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("apply error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if exists(d.path(planFile(tt.env))) {
				t.Error("the applied plan is still there; a second apply would reuse it")
			}
			if !strings.Contains(out.String(), "applied plans/"+tt.env+".tfplan") {
				t.Errorf("apply output:\n%s", out)
			}
		})
	}
}

func TestApplyFailureKeepsPlan(t *testing.T) {
	t.Parallel()
	d, fake, _ := newTestDeployer(t, planJSON(t, "dev", nil))
	savePlan(t, d, "dev")
	fake.applyErr = errors.New("quota exceeded")
	if err := d.apply(t.Context(), "dev", ""); err == nil || !strings.Contains(err.Error(), "quota exceeded") {
		t.Fatalf("apply error = %v", err)
	}
	if !exists(d.path(planFile("dev"))) {
		t.Error("a failed apply removed the saved plan")
	}
}

func TestOutput(t *testing.T) {
	t.Parallel()
	raw := func(v any) json.RawMessage {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	outputs := map[string]tfexec.OutputMeta{
		"api_base_url":  {Value: raw("https://api.medi-os.example")},
		"function_urls": {Value: raw(map[string]string{"queue": "https://queue-1.run.app", "auth": "https://auth-1.run.app"})},
		"buckets":       {Value: raw(map[string]string{"uploads": "p-uploads"})},
		"secret":        {Value: raw("hidden"), Sensitive: true},
	}
	d, fake, out := newTestDeployer(t, nil)
	fake.outputs = outputs
	if err := d.output(t.Context(), "prod", false); err != nil {
		t.Fatal(err)
	}
	want := "api                https://api.medi-os.example\n" +
		"auth               https://auth-1.run.app\n" +
		"queue              https://queue-1.run.app\n"
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("output mismatch (-want +got):\n%s", diff)
	}
	if fake.calls[0] != "init &{path:backends/prod.gcs.tfbackend} &{reconfigure:true} &{pluginDir:/mirror}" {
		t.Errorf("output did not init the prod backend first: %q", fake.calls)
	}

	out.Reset()
	if err := d.output(t.Context(), "prod", true); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("-json output is not JSON: %v\n%s", err, out)
	}
	if _, ok := got["secret"]; ok {
		t.Error("-json printed a sensitive output")
	}
	if got["api_base_url"] != "https://api.medi-os.example" {
		t.Errorf("-json api_base_url = %v", got["api_base_url"])
	}

	fake.outputs = map[string]tfexec.OutputMeta{}
	if err := d.output(t.Context(), "dev", false); err == nil || !strings.Contains(err.Error(), "has the environment been applied") {
		t.Errorf("output of an empty state: %v", err)
	}
}

func TestPlanNeedsTheWebAppBuilt(t *testing.T) {
	t.Parallel()
	d, _, _ := newTestDeployer(t, planJSON(t, "staging", nil))
	if err := os.Remove(filepath.Join(d.repo, "web", "dist", "index.html")); err != nil {
		t.Fatal(err)
	}
	if _, err := d.plan(t.Context(), "staging", "r"); err == nil || !strings.Contains(err.Error(), "scripts/web build") {
		t.Errorf("plan without web/dist: %v, want an error naming scripts/web build", err)
	}
	if exists(d.path(planFile("staging"))) {
		t.Error("a plan was saved without the web app")
	}
}

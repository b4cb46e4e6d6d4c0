package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-exec/tfexec"
	tfjson "github.com/hashicorp/terraform-json"
)

// terraform is what the deploy tool needs of *tfexec.Terraform.
type terraform interface {
	Init(ctx context.Context, opts ...tfexec.InitOption) error
	Plan(ctx context.Context, opts ...tfexec.PlanOption) (bool, error)
	ShowPlanFile(ctx context.Context, planPath string, opts ...tfexec.ShowOption) (*tfjson.Plan, error)
	Apply(ctx context.Context, opts ...tfexec.ApplyOption) error
	Output(ctx context.Context, opts ...tfexec.OutputOption) (map[string]tfexec.OutputMeta, error)
}

// deployer runs one command against the Terraform root module in dir.
type deployer struct {
	tf        terraform
	dir       string // the Terraform root module
	repo      string // the repository (for the source archive)
	pluginDir string
	release   func() (string, error) // default release when -release is not given
	stdout    io.Writer
	stderr    io.Writer
}

// Paths inside the root module, relative to it (Terraform runs there).
func planFile(env string) string    { return filepath.Join("plans", env+".tfplan") }
func summaryFile(env string) string { return filepath.Join("plans", env+".summary.txt") }
func varFile(env string) string     { return filepath.Join("envs", env+".tfvars") }
func backendFile(env string) string { return filepath.Join("backends", env+".gcs.tfbackend") }

func (d *deployer) path(rel string) string { return filepath.Join(d.dir, rel) }

// init initializes the root module against env's state bucket.
func (d *deployer) init(ctx context.Context, env string) error {
	opts := []tfexec.InitOption{
		tfexec.BackendConfig(backendFile(env)),
		tfexec.Reconfigure(true),
	}
	if d.pluginDir != "" {
		opts = append(opts, tfexec.PluginDir(d.pluginDir))
	}
	if err := d.tf.Init(ctx, opts...); err != nil {
		return fmt.Errorf("terraform init (%s): %w", env, err)
	}
	return nil
}

// plan writes the saved plan of env and its summary, and prints the summary.
func (d *deployer) plan(ctx context.Context, env, release string) (Summary, error) {
	if release == "" {
		r, err := d.release()
		if err != nil {
			return Summary{}, fmt.Errorf("no -release given and none found: %w", err)
		}
		release = r
	}
	if err := os.MkdirAll(d.path("plans"), 0o755); err != nil {
		return Summary{}, err
	}
	// Terraform uploads the web app's build (terraform/web.tf): without it the plan would
	// delete the app from its bucket.
	if _, err := os.Stat(filepath.Join(d.repo, "web", "dist", "index.html")); err != nil {
		return Summary{}, fmt.Errorf("the web app is not built (web/dist/index.html): run scripts/web build first")
	}
	archive, sum, err := buildSourceArchive(d.repo)
	if err != nil {
		return Summary{}, err
	}
	archiveRel := filepath.Join("plans", "source-"+sum+".zip")
	if err := os.WriteFile(d.path(archiveRel), archive, 0o644); err != nil {
		return Summary{}, err
	}
	fmt.Fprintf(d.stderr, "source archive %s (%d bytes)\n", archiveRel, len(archive))

	if err := d.init(ctx, env); err != nil {
		return Summary{}, err
	}
	// A stale plan must never be applied by mistake if this one fails.
	for _, f := range []string{planFile(env), summaryFile(env)} {
		if err := os.Remove(d.path(f)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return Summary{}, err
		}
	}
	_, err = d.tf.Plan(ctx,
		tfexec.Out(planFile(env)),
		tfexec.VarFile(varFile(env)),
		tfexec.Var("release="+release),
		tfexec.Var("source_archive="+filepath.ToSlash(archiveRel)),
		tfexec.Var("source_sha256="+sum),
	)
	if err != nil {
		return Summary{}, fmt.Errorf("terraform plan (%s): %w", env, err)
	}
	s, err := d.summary(ctx, env)
	if err != nil {
		return Summary{}, err
	}
	if err := os.WriteFile(d.path(summaryFile(env)), []byte(s.Text()), 0o644); err != nil {
		return Summary{}, err
	}
	fmt.Fprint(d.stdout, s.Text())
	fmt.Fprintf(d.stdout, "digest %s\n", s.Digest())
	fmt.Fprintf(d.stdout, "saved plan %s; apply with: go run ./scripts/deploy apply -env %s", planFile(env), env)
	if env == "prod" {
		fmt.Fprintf(d.stdout, " -approve %s", s.Digest())
	}
	fmt.Fprintln(d.stdout)
	return s, nil
}

// summary reads the saved plan of env.
func (d *deployer) summary(ctx context.Context, env string) (Summary, error) {
	p, err := d.tf.ShowPlanFile(ctx, planFile(env))
	if err != nil {
		return Summary{}, fmt.Errorf("terraform show %s: %w", planFile(env), err)
	}
	return Summarize(p)
}

// apply applies the saved plan of env, and nothing else. A plan for another environment
// is refused; in prod (and wherever approve is given) the plan's summary digest must be
// the approved one.
func (d *deployer) apply(ctx context.Context, env, approve string) error {
	if _, err := os.Stat(d.path(planFile(env))); err != nil {
		return fmt.Errorf("no saved plan for %s (%s): run `deploy plan -env %s` first", env, planFile(env), env)
	}
	if err := d.init(ctx, env); err != nil {
		return err
	}
	s, err := d.summary(ctx, env)
	if err != nil {
		return err
	}
	if s.Env != env {
		return fmt.Errorf("the saved plan %s is for environment %q, not %q", planFile(env), s.Env, env)
	}
	if env == "prod" && approve == "" {
		return errors.New("prod needs -approve <digest>")
	}
	if approve != "" && approve != s.Digest() {
		fmt.Fprint(d.stderr, s.Text())
		return fmt.Errorf("the saved plan's summary digest is %s, not the approved %s: review the summary above and approve it, or plan again", s.Digest(), approve)
	}
	fmt.Fprint(d.stdout, s.Text())
	if err := d.tf.Apply(ctx, tfexec.DirOrPlan(planFile(env))); err != nil {
		return fmt.Errorf("terraform apply (%s): %w", env, err)
	}
	// A saved plan applies once; remove it so the next apply needs a new plan.
	for _, f := range []string{planFile(env), summaryFile(env)} {
		if err := os.Remove(d.path(f)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	fmt.Fprintf(d.stdout, "applied %s (digest %s)\n", planFile(env), s.Digest())
	return nil
}

// output prints the API base URL and the function URLs of env (or every output as JSON).
func (d *deployer) output(ctx context.Context, env string, asJSON bool) error {
	if err := d.init(ctx, env); err != nil {
		return err
	}
	outs, err := d.tf.Output(ctx)
	if err != nil {
		return fmt.Errorf("terraform output (%s): %w", env, err)
	}
	if asJSON {
		values := map[string]json.RawMessage{}
		for k, o := range outs {
			if !o.Sensitive {
				values[k] = o.Value
			}
		}
		enc := json.NewEncoder(d.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(values)
	}
	return printURLs(d.stdout, outs)
}

// printURLs prints api_base_url and function_urls, one "name url" line each.
func printURLs(w io.Writer, outs map[string]tfexec.OutputMeta) error {
	base, ok := outs["api_base_url"]
	if !ok {
		return errors.New("no output api_base_url: has the environment been applied?")
	}
	var api string
	if err := json.Unmarshal(base.Value, &api); err != nil {
		return fmt.Errorf("output api_base_url: %w", err)
	}
	fmt.Fprintf(w, "%-18s %s\n", "api", api)
	var fns map[string]string
	if o, ok := outs["function_urls"]; ok {
		if err := json.Unmarshal(o.Value, &fns); err != nil {
			return fmt.Errorf("output function_urls: %w", err)
		}
	}
	names := make([]string, 0, len(fns))
	for n := range fns {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		fmt.Fprintf(w, "%-18s %s\n", n, fns[n])
	}
	return nil
}

// gitRelease is the default release: the short commit hash, with "-dirty" when the work
// tree has uncommitted changes.
func gitRelease(repo string) func() (string, error) {
	return func() (string, error) {
		out, err := exec.Command("git", "-C", repo, "rev-parse", "--short=12", "HEAD").Output()
		if err != nil {
			return "", fmt.Errorf("git rev-parse: %w (pass -release)", err)
		}
		rel := strings.TrimSpace(string(out))
		status, err := exec.Command("git", "-C", repo, "status", "--porcelain", "--untracked-files=no").Output()
		if err == nil && len(strings.TrimSpace(string(status))) > 0 {
			rel += "-dirty"
		}
		return rel, nil
	}
}

package main

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-exec/tfexec"
)

// These tests drive the real terraform binary through terraform-exec against the
// schema-only stand-in for the google provider (../shared/tools/tf-google-schema-provider)
// or the provider mirror in TF_PLUGIN_DIR: init, validate and the terraform/tests suite,
// then the same checks on copies with planted errors, which must fail. They skip (saying
// why) when terraform or a provider cannot be had, and under -short.

func repoDir(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func cacheDir() string {
	if d := os.Getenv("MEDI_CACHE_DIR"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "medi-os")
	}
	return filepath.Join(os.TempDir(), "medi-os-cache")
}

// providerMirror returns TF_PLUGIN_DIR, or builds the stand-in provider (cached) and
// returns its mirror folder; it skips the test when neither is possible.
func providerMirror(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("TF_PLUGIN_DIR"); d != "" {
		return d
	}
	script := filepath.Join(repoDir(t), "..", "shared", "tools", "tf-google-schema-provider", "install.sh")
	if _, err := os.Stat(script); err != nil {
		t.Skipf("no provider: set TF_PLUGIN_DIR to a mirror of hashicorp/google, or provide the stand-in at %s (%v)", script, err)
	}
	cmd := exec.Command(script, filepath.Join(cacheDir(), "tf-plugins"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Skipf("building the stand-in provider with %s failed (%v); set TF_PLUGIN_DIR instead:\n%s", script, err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

func terraformBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs terraform: skipped under -short")
	}
	bin, err := exec.LookPath("terraform")
	if err != nil {
		t.Skip("terraform is not installed: skipping the terraform-exec tests")
	}
	return bin
}

// copyConfig lays out a copy of terraform/ (with the runbooks, firestore.rules and the
// route table it references from its parent) and the code facts, and returns the copy's
// terraform dir.
func copyConfig(t *testing.T, env string) string {
	t.Helper()
	repo := repoDir(t)
	dst := t.TempDir()
	skip := map[string]bool{".terraform": true, ".terraform.lock.hcl": true, "plans": true}
	copyTree := func(from, to string) {
		err := filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(from, path)
			if err != nil {
				return err
			}
			if skip[d.Name()] || strings.HasSuffix(d.Name(), ".tfstate") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			target := filepath.Join(to, rel)
			if d.IsDir() {
				return os.MkdirAll(target, 0o755)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			return os.WriteFile(target, b, 0o644)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	copyTree(filepath.Join(repo, "terraform"), filepath.Join(dst, "terraform"))
	copyTree(filepath.Join(repo, "docs", "runbooks"), filepath.Join(dst, "docs", "runbooks"))
	copyTree(filepath.Join(repo, "shared", "routes"), filepath.Join(dst, "shared", "routes"))
	rules, err := os.ReadFile(filepath.Join(repo, "firestore.rules"))
	if err != nil {
		t.Fatalf("firestore.rules (deployed by terraform/firestore.tf): %v", err)
	}
	if err := os.WriteFile(filepath.Join(dst, "firestore.rules"), rules, 0o644); err != nil {
		t.Fatal(err)
	}
	// The web app's headers and routes (terraform/web.tf reads them).
	for _, f := range []string{"security-headers.json", "routes.json"} {
		b, err := os.ReadFile(filepath.Join(repo, "web", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dst, "web"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, "web", f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(dst, "terraform")

	facts, err := CollectFacts(repo)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, "tests", "code_facts.auto.tfvars.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteFacts(f, facts); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	// terraform-exec has no -var-file for `terraform test`: the environment's values go
	// in an auto-loaded file of the root module instead.
	vars, err := os.ReadFile(filepath.Join(dir, "envs", env+".tfvars"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "env.auto.tfvars"), vars, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func initTerraform(t *testing.T, ctx context.Context, dir string) *tfexec.Terraform {
	t.Helper()
	tf, err := tfexec.NewTerraform(dir, terraformBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	mirror := providerMirror(t)
	if err := tf.Init(ctx, tfexec.Backend(false), tfexec.PluginDir(mirror)); err != nil {
		t.Fatalf("terraform init -backend=false -plugin-dir=%s: %v", mirror, err)
	}
	return tf
}

// plant replaces old by new in file (relative to the terraform dir), failing if old is
// not there (the planted error would silently be nothing).
func plant(t *testing.T, dir, file, old, new string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(file))
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("cannot plant the error: %s no longer contains %q", file, old)
	}
	if err := os.WriteFile(p, bytes.Replace(b, []byte(old), []byte(new), 1), 0o644); err != nil {
		t.Fatal(err)
	}
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func TestTerraformValidateAndTest(t *testing.T) {
	t.Parallel()
	terraformBinary(t)
	ctx := testContext(t)
	dir := copyConfig(t, "staging")
	tf := initTerraform(t, ctx, dir)

	v, err := tf.Validate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !v.Valid {
		t.Fatalf("terraform validate: %d errors: %+v", v.ErrorCount, v.Diagnostics)
	}

	var out bytes.Buffer
	if err := tf.Test(ctx, &out); err != nil {
		t.Fatalf("terraform test: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), `"status":"pass"`) || strings.Contains(out.String(), `"status":"fail"`) {
		t.Errorf("terraform test did not report a pass:\n%s", out.String())
	}
}

// TestTerraformChecksCatchPlantedErrors shows that the checks fail on each kind of
// error the issue names: an unknown argument (validate), a public bucket (terraform test,
// tfsec and the static check) and a subscription without a dead-letter policy (terraform
// test).
func TestTerraformChecksCatchPlantedErrors(t *testing.T) {
	t.Parallel()
	terraformBinary(t)

	t.Run("unknown argument fails validate", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t)
		dir := copyConfig(t, "staging")
		plant(t, dir, "storage.tf", "  force_destroy               = false\n", "  force_destroy               = false\n  colour                      = \"blue\"\n")
		tf := initTerraform(t, ctx, dir)
		v, err := tf.Validate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if v.Valid {
			t.Fatal("terraform validate accepted an unknown argument")
		}
		var summaries []string
		for _, d := range v.Diagnostics {
			summaries = append(summaries, d.Summary+": "+d.Detail)
		}
		if got := strings.Join(summaries, "\n"); !strings.Contains(got, "Unsupported argument") || !strings.Contains(got, `"colour"`) {
			t.Errorf("validate diagnostics do not name the unknown argument:\n%s", got)
		}
	})

	t.Run("public bucket and subscription without dead-letter policy fail terraform test", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t)
		dir := copyConfig(t, "prod")
		plant(t, dir, "storage.tf", `public_access_prevention    = "enforced"`, `public_access_prevention    = "inherited"`)
		plant(t, dir, "modules/pubsub_topic/main.tf", `  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter.id
    max_delivery_attempts = each.value.max_delivery_attempts
  }
`, "")
		tf := initTerraform(t, ctx, dir)
		var out bytes.Buffer
		err := tf.Test(ctx, &out)
		if err == nil {
			t.Fatalf("terraform test passed with a public bucket and a subscription without dead-letter policy:\n%s", out.String())
		}
		for _, want := range []string{
			"Every bucket enforces public access prevention",
			"Every subscription needs a dead-letter policy",
		} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("terraform test output lacks the failed assertion %q:\n%s", want, out.String())
			}
		}
	})

	t.Run("allUsers on a bucket fails tfsec and the static check", func(t *testing.T) {
		t.Parallel()
		dir := copyConfig(t, "prod")
		const grant = `
resource "google_storage_bucket_iam_member" "planted_public" {
  bucket = google_storage_bucket.bucket["uploads"].name
  role   = "roles/storage.objectViewer"
  member = "allUsers"
}
`
		plant(t, dir, "storage.tf", "# Eventarc storage triggers:", grant+"\n# Eventarc storage triggers:")
		if got := publicPrincipals(tfFilesIn(t, dir)); len(got) != 1 || got[0] != "storage.tf: allUsers" {
			t.Errorf("static check found %q, want the planted storage.tf: allUsers", got)
		}
		tfsec := filepath.Join(cacheDir(), "bin", "tfsec")
		if _, err := os.Stat(tfsec); err != nil {
			t.Skipf("tfsec not built yet (scripts/tfcheck builds it into %s)", tfsec)
		}
		cmd := exec.CommandContext(testContext(t), tfsec, dir, "--no-color", "--concise-output", "--minimum-severity", "HIGH", "--exclude-downloaded-modules")
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Fatalf("tfsec passed a bucket readable by allUsers:\n%s", out)
		}
		if !strings.Contains(string(out), "google-storage-no-public-access") {
			t.Errorf("tfsec failed, but not on the public bucket:\n%s", out)
		}
	})
}

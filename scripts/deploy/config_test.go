package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// These checks keep the Terraform configuration in the shape terraform/tests relies on:
// the tests see functions through local.functions, subscriptions through the topic
// module, buckets through google_storage_bucket.bucket. A resource declared outside those
// places would escape the invariants, so it fails here (no Terraform needed).

// tfFiles reads every .tf file of the repository's terraform/.
func tfFiles(t *testing.T) map[string]string {
	t.Helper()
	return tfFilesIn(t, filepath.Join("..", "..", "terraform"))
}

// tfFilesIn reads every .tf file under dir except the tests, keyed by slash path relative
// to dir, with comments removed.
func tfFilesIn(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".terraform" || d.Name() == "tests" || d.Name() == "plans") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".tf") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		files[filepath.ToSlash(rel)] = stripComments(string(b))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no .tf files found under terraform/")
	}
	return files
}

// stripComments drops # and // line comments outside double-quoted strings (enough for
// this configuration, which has no /* */ comments or heredocs with # in them).
func stripComments(src string) string {
	var b strings.Builder
	for line := range strings.Lines(src) {
		inString := false
		cut := len(line)
		for i := 0; i < len(line); i++ {
			switch {
			case line[i] == '\\' && inString:
				i++
			case line[i] == '"':
				inString = !inString
			case !inString && (line[i] == '#' || (line[i] == '/' && i+1 < len(line) && line[i+1] == '/')):
				cut = i
				i = len(line)
			}
		}
		b.WriteString(strings.TrimRight(line[:cut], " \t\n"))
		b.WriteString("\n")
	}
	return b.String()
}

var resourcePattern = regexp.MustCompile(`(?m)^\s*resource\s+"([a-z0-9_]+)"\s+"([A-Za-z0-9_-]+)"`)

// declarations lists "file: type.name" of every resource of type typ.
func declarations(files map[string]string, typ string) []string {
	var out []string
	for f, src := range files {
		for _, m := range resourcePattern.FindAllStringSubmatch(src, -1) {
			if m[1] == typ {
				out = append(out, f+": "+m[1]+"."+m[2])
			}
		}
	}
	slices.Sort(out)
	return out
}

// publicPrincipals lists the files granting allUsers or allAuthenticatedUsers, except the
// documented exceptions (docs/deployment.md): public HTTP functions
// (modules/function/main.tf, allUsers) and the web app's static files, which the load
// balancer's backend bucket reads anonymously (web.tf, allUsers).
func publicPrincipals(files map[string]string) []string {
	var out []string
	for f, src := range files {
		for _, principal := range []string{"allUsers", "allAuthenticatedUsers"} {
			exception := (f == "modules/function/main.tf" || f == "web.tf") && principal == "allUsers"
			if strings.Contains(src, principal) && !exception {
				out = append(out, f+": "+principal)
			}
		}
	}
	slices.Sort(out)
	return out
}

func TestTerraformPublicPrincipalsOnlyInFunctionModule(t *testing.T) {
	t.Parallel()
	for _, v := range publicPrincipals(tfFiles(t)) {
		t.Errorf("%s; only public HTTP functions may be invoked by allUsers (docs/deployment.md, \"Public functions\")", v)
	}
}

func TestTerraformResourcesLiveWhereTheTestsSeeThem(t *testing.T) {
	t.Parallel()
	files := tfFiles(t)
	tests := []struct {
		typ  string
		want []string
		why  string
	}{
		{"google_pubsub_subscription", []string{
			"modules/pubsub_topic/main.tf: google_pubsub_subscription.dead_letter_hold",
			"modules/pubsub_topic/main.tf: google_pubsub_subscription.push",
		}, "subscriptions are made by modules/pubsub_topic, which gives each a dead-letter policy the tests check"},
		{"google_storage_bucket", []string{"audit_anchors.tf: google_storage_bucket.audit_anchors", "storage.tf: google_storage_bucket.bucket", "web.tf: google_storage_bucket.web"},
			"buckets are entries of local.buckets, which the tests check for public access prevention; the web app's public bucket and the audit anchors' retention-locked bucket are the exceptions, with tests of their own"},
		{"google_cloudfunctions2_function", []string{"modules/function/main.tf: google_cloudfunctions2_function.this"},
			"functions are made by modules/function (own service account, invoker, ingress)"},
		{"google_firestore_database", []string{"firestore.tf: google_firestore_database.default"},
			"the tests check delete protection and PITR of this database"},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, declarations(files, tt.typ)); diff != "" {
			t.Errorf("%s declarations (-want +got):\n%s\nwhy: %s", tt.typ, diff, tt.why)
		}
	}
}

func TestTerraformFunctionFiles(t *testing.T) {
	t.Parallel()
	files := tfFiles(t)
	moduleBlock := regexp.MustCompile(`(?s)module\s+"([a-z0-9_]+)"\s+\{\s*source\s*=\s*"\./modules/function"\s+name\s*=\s*"([a-z0-9-]+)"`)
	locals := files["locals.tf"]
	var services []string
	for f, src := range files {
		ms := moduleBlock.FindAllStringSubmatch(src, -1)
		if !strings.HasPrefix(f, "service_") {
			if len(ms) > 0 {
				t.Errorf("%s declares function module %s: one function per service_<name>.tf", f, ms[0][1])
			}
			continue
		}
		if len(ms) != 1 {
			t.Errorf("%s declares %d function modules, want exactly 1 (source first, then name)", f, len(ms))
			continue
		}
		module, name := ms[0][1], ms[0][2]
		if want := "service_" + strings.ReplaceAll(name, "-", "_") + ".tf"; f != want {
			t.Errorf("function %s is declared in %s, want %s", name, f, want)
		}
		if module != strings.ReplaceAll(name, "-", "_") {
			t.Errorf("module %q of function %q: name it after the function", module, name)
		}
		entry := regexp.MustCompile(`(?m)^\s*"?` + regexp.QuoteMeta(name) + `"?\s*=\s*module\.` + module + `\s*$`)
		if !entry.MatchString(locals) {
			t.Errorf("function %s is missing from local.functions in locals.tf: the load balancer, outputs and tests would not see it", name)
		}
		services = append(services, name)
	}
	if len(services) < 12 {
		t.Errorf("found %d function files (%v), want the 12 of the first release", len(services), services)
	}
}

func TestStripComments(t *testing.T) {
	t.Parallel()
	in := "a = \"x # not a comment\" # comment\n# whole line allUsers\nb = \"//x\" // c\nc = \"q\\\"#\" #d\n"
	want := "a = \"x # not a comment\"\n\nb = \"//x\"\nc = \"q\\\"#\"\n"
	if got := stripComments(in); got != want {
		t.Errorf("stripComments:\n got %q\nwant %q", got, want)
	}
}

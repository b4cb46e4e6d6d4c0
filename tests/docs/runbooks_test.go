package docs

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

var (
	alertPolicyResource = regexp.MustCompile(`(?m)^resource\s+"google_monitoring_alert_policy"\s+"([^"]+)"\s*\{`)
	forEachLocal        = regexp.MustCompile(`^\s*for_each\s*=\s*local\.([A-Za-z0-9_]+)\s*$`)
	runbookLink         = regexp.MustCompile(`runbook_base_url\}/([a-z0-9-]+)\.md`)
	mapKey              = regexp.MustCompile(`^\s*"?([A-Za-z0-9_-]+)"?\s*=\s*\{`)
)

// hclLines returns the lines of an HCL file without comments (whole-line # and //
// comments; trailing ones after code are rare in this repository and harmless here).
func hclLines(text string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "#") || strings.HasPrefix(t, "//") {
			out = append(out, "")
			continue
		}
		out = append(out, l)
	}
	return out
}

// block returns the lines of the block that opens on line start (its braces balanced).
func block(lines []string, start int) []string {
	depth := 0
	for i := start; i < len(lines); i++ {
		depth += strings.Count(lines[i], "{") - strings.Count(lines[i], "}")
		if depth == 0 && i > start {
			return lines[start : i+1]
		}
	}
	return lines[start:]
}

// mapKeys returns the top-level keys of the map attribute name (e.g. "alerts = {") in
// any of the files.
func mapKeys(files map[string][]string, name string) []string {
	open := regexp.MustCompile(`^\s*` + regexp.QuoteMeta(name) + `\s*=\s*\{\s*$`)
	var keys []string
	for _, lines := range files {
		for i, l := range lines {
			if !open.MatchString(l) {
				continue
			}
			depth := 0
			for _, bl := range block(lines, i) {
				if depth == 1 {
					if m := mapKey.FindStringSubmatch(bl); m != nil {
						keys = append(keys, m[1])
					}
				}
				depth += strings.Count(bl, "{") - strings.Count(bl, "}")
			}
		}
	}
	return keys
}

// alertNames lists the alerts the Terraform configuration defines: the keys of the local
// maps that google_monitoring_alert_policy resources iterate over, or the runbook a
// single policy links.
func alertNames(t *testing.T, tfDir string) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(tfDir, "*.tf"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]string{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files[p] = hclLines(string(b))
	}
	var names []string
	policies := 0
	for p, lines := range files {
		text := strings.Join(lines, "\n")
		for _, m := range alertPolicyResource.FindAllStringIndex(text, -1) {
			policies++
			start := strings.Count(text[:m[0]], "\n")
			body := block(lines, start)
			local := ""
			for _, l := range body {
				if fm := forEachLocal.FindStringSubmatch(l); fm != nil {
					local = fm[1]
					break
				}
			}
			if local != "" {
				keys := mapKeys(files, local)
				if len(keys) == 0 {
					t.Errorf("%s: alert policies iterate over local.%s, whose keys were not found", filepath.Base(p), local)
				}
				names = append(names, keys...)
				continue
			}
			if rm := runbookLink.FindStringSubmatch(strings.Join(body, "\n")); rm != nil {
				names = append(names, rm[1])
				continue
			}
			t.Errorf("%s: an alert policy without for_each = local.<map> and without a runbook link", filepath.Base(p))
		}
	}
	if policies == 0 {
		t.Fatalf("no google_monitoring_alert_policy in %s: the parsing is broken", tfDir)
	}
	sort.Strings(names)
	return names
}

// TestEveryAlertHasARunbook checks that every alert policy in terraform/ has its page
// docs/runbooks/<alert>.md and a link to it in docs/runbooks/README.md.
func TestEveryAlertHasARunbook(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	names := alertNames(t, filepath.Join(root, "terraform"))
	if len(names) < 5 {
		t.Fatalf("found only %d alerts (%v): the parsing is broken", len(names), names)
	}
	readme, err := os.ReadFile(filepath.Join(root, "docs", "runbooks", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	linked := map[string]bool{}
	for _, l := range links(string(readme)) {
		linked[l.target] = true
	}
	for _, n := range names {
		page := n + ".md"
		if _, err := os.Stat(filepath.Join(root, "docs", "runbooks", page)); err != nil {
			t.Errorf("alert %s has no runbook: write docs/runbooks/%s", n, page)
		}
		if !linked[page] {
			t.Errorf("docs/runbooks/README.md does not link the runbook of alert %s (%s)", n, page)
		}
	}
	t.Logf("alerts: %v", names)
}

func TestAlertNamesParsing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tf := `locals {
  alerts = {
    # a comment with a brace {
    "api-5xx-rate" = {
      display_name = "API 5xx rate above ${var.x * 100}%"
      conditions = [{
        filter = "a"
      }]
    }
    "task-queue-backlog" = {
      display_name = "x"
    }
  }
}

resource "google_monitoring_alert_policy" "alert" {
  for_each = local.alerts
  documentation {
    content = "x"
  }
}

resource "google_monitoring_alert_policy" "single" {
  documentation {
    links {
      url = "${var.runbook_base_url}/one-off.md"
    }
  }
}
`
	if err := os.WriteFile(filepath.Join(dir, "monitoring.tf"), []byte(tf), 0o644); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(alertNames(t, dir), " ")
	if want := "api-5xx-rate one-off task-queue-backlog"; got != want {
		t.Errorf("alertNames = %q, want %q", got, want)
	}
}

// Package web tests the staff web app as it is served by the running local stack: the
// gateway's answers (cache and security headers, the app's routes), and the browser
// tests (web/e2e) in headless Chromium: a patient from registration to an approved note,
// the admin's screens, axe-core on every screen.
package web

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/medi-os/medi/tests/apitest"
)

func baseURL(t *testing.T) string {
	t.Helper()
	apitest.StackClient(t) // skips under -short, fails without a stack
	return strings.TrimRight(os.Getenv("MEDI_BASE_URL"), "/")
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestGatewayServesTheApp(t *testing.T) {
	t.Parallel()
	base := baseURL(t)

	// The app's own routes answer index.html, revalidated on every load, with the CSP.
	for _, p := range []string{"/", "/board", "/encounters/abc123", "/admin/access/break-glass"} {
		resp, body := get(t, base+p)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `<div id="root">`) {
			t.Fatalf("GET %s: %d %.200s", p, resp.StatusCode, body)
		}
		if got := resp.Header.Get("Cache-Control"); got != "no-cache" {
			t.Errorf("GET %s: Cache-Control %q, want no-cache", p, got)
		}
		csp := resp.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("GET %s: CSP %q lacks %q", p, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("GET %s: CSP allows inline or eval: %q", p, csp)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no X-Content-Type-Options", p)
		}
	}

	// Hashed assets are immutable for a year; a missing one is 404, not the app.
	_, index := get(t, base+"/")
	asset := regexp.MustCompile(`/assets/[A-Za-z0-9_.-]+\.js`).FindString(index)
	if asset == "" {
		t.Fatalf("index.html names no script under /assets/: %.300s", index)
	}
	resp, _ := get(t, base+asset)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
		t.Errorf("GET %s: %d, Cache-Control %q", asset, resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
	if resp, _ := get(t, base+"/assets/no-such-file.js"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("missing asset: %d, want 404", resp.StatusCode)
	}

	// The runtime configuration points at the Auth emulator and lists the demo accounts.
	resp, cfg := get(t, base+"/config.json")
	if resp.StatusCode != http.StatusOK || !strings.Contains(cfg, `"authEmulatorUrl"`) || !strings.Contains(cfg, "receptionist@demo-clinic.medi.test") {
		t.Errorf("config.json: %d %s", resp.StatusCode, cfg)
	}

	// The API keeps its own answers under /v1.
	if resp, body := get(t, base+"/v1/no-such-route"); resp.StatusCode != http.StatusNotFound || !strings.Contains(body, `"success":false`) {
		t.Errorf("/v1/no-such-route: %d %s", resp.StatusCode, body)
	}
}

// TestBrowser runs the web app's browser tests (web/e2e, Vitest driving Debian's
// Chromium through playwright-core) against the stack. scripts/setup installs Chromium.
func TestBrowser(t *testing.T) {
	base := baseURL(t)
	chromium := os.Getenv("MEDI_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("Chromium not found at %s (apt install chromium; scripts/setup does it as root)", chromium)
	}
	root := apitest.RepoRoot()
	cmd := exec.Command(filepath.Join(root, "scripts", "web"), "e2e")
	cmd.Env = append(os.Environ(), "MEDI_BASE_URL="+base, "MEDI_CHROMIUM="+chromium, "NO_COLOR=1")
	out, err := cmd.CombinedOutput()
	t.Logf("web/e2e:\n%s", out)
	if err != nil {
		t.Fatalf("browser tests failed: %v", err)
	}
}

// TestInitialJavaScriptBudget: what index.html loads before the first screen (entry
// script and module preloads) stays under 200 kB gzipped. Screens load their own chunks
// when opened (docs/performance.md has the figures: cd web && node scripts/perf.mjs).
func TestInitialJavaScriptBudget(t *testing.T) {
	t.Parallel()
	dist := filepath.Join(apitest.RepoRoot(), "web", "dist")
	index, err := os.ReadFile(filepath.Join(dist, "index.html"))
	if err != nil {
		t.Skipf("web/dist not built (scripts/web build; scripts/test builds it): %v", err)
	}
	var total int
	for _, m := range regexp.MustCompile(`(?:src|href)="(/assets/[^"]+\.js)"`).FindAllStringSubmatch(string(index), -1) {
		b, err := os.ReadFile(filepath.Join(dist, filepath.FromSlash(m[1])))
		if err != nil {
			t.Fatal(err)
		}
		var gz bytes.Buffer
		w, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		w.Write(b)
		w.Close()
		total += gz.Len()
	}
	if total == 0 {
		t.Fatalf("index.html loads no script: %s", index)
	}
	if total > 200*1024 {
		t.Errorf("initial JavaScript %d bytes gzipped, over the 200 kB budget", total)
	}
	t.Logf("initial JavaScript: %.1f kB gzipped", float64(total)/1024)
}

package stack

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// WebApp serves the staff web app's build (web/dist, made by `scripts/web build`) at "/"
// the way the production load balancer's backend bucket does: hashed files under
// /assets/ cached for a year as immutable, index.html and config.json revalidated on
// every load, any other path without a file extension answered with index.html (the
// app's own routes), and the security headers of web/security-headers.json on every
// answer. config.json is the app's runtime configuration for this stack (the Auth
// emulator, the seeded demo accounts).
type WebApp struct {
	Dir string
	// Headers are the security headers, the CSP's {connect} already filled in.
	Headers map[string]string
	// Config returns config.json's content.
	Config func() any
}

// LoadWebHeaders reads web/security-headers.json and fills the CSP's {connect} with
// connect (the extra origins the app may call).
func LoadWebHeaders(root string, connect []string) (map[string]string, error) {
	b, err := os.ReadFile(filepath.Join(root, "web", "security-headers.json"))
	if err != nil {
		return nil, err
	}
	var raw map[string]string
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("web/security-headers.json: %w", err)
	}
	out := map[string]string{}
	for k, v := range raw {
		if strings.HasPrefix(k, "/") {
			continue // comments
		}
		out[k] = strings.TrimSpace(strings.ReplaceAll(v, "{connect}", strings.Join(connect, " ")))
	}
	return out, nil
}

// IsAPIPath reports whether the load balancer sends path to the functions (everything
// under /v1) rather than to the web app.
func IsAPIPath(p string) bool { return p == "/v1" || strings.HasPrefix(p, "/v1/") }

func (w *WebApp) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	h := rw.Header()
	for k, v := range w.Headers {
		h.Set(k, v)
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		// Nothing outside /v1 takes a body: a worker's path posted to the load balancer
		// (a task delivery gone astray) finds nothing there.
		http.NotFound(rw, r)
		return
	}
	p := path.Clean("/" + r.URL.Path)
	if p == "/config.json" {
		h.Set("Cache-Control", "no-cache")
		h.Set("Content-Type", "application/json")
		_ = json.NewEncoder(rw).Encode(w.Config())
		return
	}
	index := filepath.Join(w.Dir, "index.html")
	if _, err := os.Stat(index); err != nil {
		h.Set("Content-Type", "text/plain; charset=utf-8")
		rw.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(rw, "The web app is not built: scripts/dev builds it (scripts/web build).")
		return
	}
	file := filepath.Join(w.Dir, filepath.FromSlash(strings.TrimPrefix(p, "/")))
	st, err := os.Stat(file)
	switch {
	case err == nil && !st.IsDir() && p != "/index.html":
		if strings.HasPrefix(p, "/assets/") {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "public, max-age=3600")
		}
		http.ServeFile(rw, r, file)
	case strings.HasPrefix(p, "/assets/") || strings.Contains(path.Base(p), "."):
		http.NotFound(rw, r)
	default:
		// The app's own routes (/board, /encounters/{id}, ...) and "/".
		h.Set("Cache-Control", "no-cache")
		h.Set("Content-Type", "text/html; charset=utf-8")
		b, err := os.ReadFile(index)
		if err != nil {
			http.Error(rw, "index.html unreadable", http.StatusInternalServerError)
			return
		}
		_, _ = rw.Write(b)
	}
}

// webConfig is the app's config.json on the local stack.
func (s *Stack) webConfig() any {
	type demo struct {
		Role     string `json:"role"`
		Email    string `json:"email"`
		Password string `json:"password"`
		Label    string `json:"label,omitempty"`
	}
	accounts := []demo{}
	for _, a := range s.Accounts {
		accounts = append(accounts, demo{a.Role, a.Email, a.Password, a.Label})
	}
	return map[string]any{
		"environment":     "dev",
		"firebase":        map[string]string{"apiKey": "demo-key", "projectId": s.cfg.ProjectID, "authDomain": "127.0.0.1"},
		"authEmulatorUrl": fmt.Sprintf("http://127.0.0.1:%d", s.ports.Auth),
		"demoAccounts":    accounts,
	}
}

// webHandler is the web app of this stack, or an error when its headers are unreadable.
func (s *Stack) webHandler() (http.Handler, error) {
	connect := []string{
		fmt.Sprintf("http://127.0.0.1:%d", s.ports.Auth),    // Auth emulator
		fmt.Sprintf("http://127.0.0.1:%d", s.ports.Storage), // signed uploads to fake-gcs-server
	}
	headers, err := LoadWebHeaders(s.cfg.Root, connect)
	if err != nil {
		return nil, err
	}
	return &WebApp{Dir: filepath.Join(s.cfg.Root, "web", "dist"), Headers: headers, Config: s.webConfig}, nil
}

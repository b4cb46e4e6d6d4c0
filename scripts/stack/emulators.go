package stack

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// sdkRoot finds the Google Cloud SDK: $CLOUDSDK_ROOT, else the directory above the
// gcloud binary on PATH (following links).
func sdkRoot() (string, error) {
	if r := os.Getenv("CLOUDSDK_ROOT"); r != "" {
		return r, nil
	}
	g, err := exec.LookPath("gcloud")
	if err != nil {
		return "", fmt.Errorf("gcloud CLI not found on PATH: install the Google Cloud SDK with the Firestore and Pub/Sub emulator components (see README)")
	}
	if real, err := filepath.EvalSymlinks(g); err == nil {
		g = real
	}
	return filepath.Dir(filepath.Dir(g)), nil
}

func (s *Stack) startFirestore(ctx context.Context) error {
	root, err := sdkRoot()
	if err != nil {
		return err
	}
	launcher := filepath.Join(root, "platform", "cloud-firestore-emulator", "cloud_firestore_emulator")
	if _, err := os.Stat(launcher); err != nil {
		return fmt.Errorf("Firestore emulator not found at %s: run `gcloud components install cloud-firestore-emulator` (or apt install google-cloud-cli-firestore-emulator)", launcher)
	}
	args := []string{launcher, "start", "--host", "127.0.0.1", "--port", strconv.Itoa(s.ports.Firestore)}
	if rules := filepath.Join(s.cfg.Root, "firestore.rules"); fileExists(rules) {
		args = append(args, "--rules", rules)
	}
	p, err := startProcess("firestore", s.logDir(), s.cfg.StateDir, os.Environ(), args...)
	if err != nil {
		return err
	}
	s.procs = append(s.procs, p)
	return waitHTTP(ctx, p, fmt.Sprintf("http://127.0.0.1:%d/", s.ports.Firestore))
}

func (s *Stack) startPubSub(ctx context.Context) error {
	root, err := sdkRoot()
	if err != nil {
		return err
	}
	launcher := filepath.Join(root, "platform", "pubsub-emulator", "bin", "cloud-pubsub-emulator")
	if _, err := os.Stat(launcher); err != nil {
		return fmt.Errorf("Pub/Sub emulator not found at %s: run `gcloud components install pubsub-emulator` (or apt install google-cloud-cli-pubsub-emulator)", launcher)
	}
	p, err := startProcess("pubsub", s.logDir(), s.cfg.StateDir, os.Environ(), launcher,
		"--host=127.0.0.1", "--port="+strconv.Itoa(s.ports.PubSub))
	if err != nil {
		return err
	}
	s.procs = append(s.procs, p)
	return waitHTTP(ctx, p, fmt.Sprintf("http://127.0.0.1:%d/", s.ports.PubSub))
}

// startAuth runs the Firebase Auth emulator from the repo's pinned firebase-tools
// (package.json; installed by scripts/dev and scripts/test with `npm ci --ignore-scripts`).
func (s *Stack) startAuth(ctx context.Context) error {
	bin := filepath.Join(s.cfg.Root, "node_modules", ".bin", "firebase")
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("firebase-tools not installed at %s: run `npm ci --ignore-scripts` in the repository (scripts/dev and scripts/test do it)", bin)
	}
	conf := map[string]any{"emulators": map[string]any{
		"auth":              map[string]any{"host": "127.0.0.1", "port": s.ports.Auth},
		"hub":               map[string]any{"host": "127.0.0.1", "port": s.ports.AuthHub},
		"logging":           map[string]any{"host": "127.0.0.1", "port": s.ports.AuthLogging},
		"ui":                map[string]any{"enabled": false},
		"singleProjectMode": false,
	}}
	b, _ := json.MarshalIndent(conf, "", "  ")
	confPath := filepath.Join(s.cfg.StateDir, "firebase.json")
	if err := os.WriteFile(confPath, b, 0o644); err != nil {
		return err
	}
	env := append(os.Environ(), "FIREBASE_CLI_DISABLE_UPDATE_CHECK=true", "NO_UPDATE_NOTIFIER=1", "CI=true")
	p, err := startProcess("auth", s.logDir(), s.cfg.StateDir, env, bin,
		"emulators:start", "--only", "auth", "--project", s.cfg.ProjectID, "--config", confPath)
	if err != nil {
		return err
	}
	s.procs = append(s.procs, p)
	return waitHTTP(ctx, p, fmt.Sprintf("http://127.0.0.1:%d/", s.ports.Auth))
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// emulatorEnv are the variables that point Google clients at the local emulators.
func (s *Stack) emulatorEnv() []string {
	return []string{
		"FIRESTORE_EMULATOR_HOST=127.0.0.1:" + strconv.Itoa(s.ports.Firestore),
		"PUBSUB_EMULATOR_HOST=127.0.0.1:" + strconv.Itoa(s.ports.PubSub),
		"FIREBASE_AUTH_EMULATOR_HOST=127.0.0.1:" + strconv.Itoa(s.ports.Auth),
		"STORAGE_EMULATOR_HOST=http://127.0.0.1:" + strconv.Itoa(s.ports.Storage),
	}
}

func setEnv(env []string) {
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		os.Setenv(k, v)
	}
}

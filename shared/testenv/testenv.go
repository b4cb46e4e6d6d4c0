// Package testenv gives integration tests their backends: the emulators started by
// scripts/test (or scripts/dev) and a project id of their own, so that tests can run in
// parallel against one emulator without seeing each other's data.
package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"regexp"
	"strings"
	"testing"
)

// Require skips the test under -short and fails it when one of the named environment
// variables (e.g. FIRESTORE_EMULATOR_HOST) is not set. Integration tests call it first.
func Require(t testing.TB, vars ...string) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: skipped with -short")
	}
	var missing []string
	for _, v := range vars {
		if os.Getenv(v) == "" {
			missing = append(missing, v)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("integration test needs %s; run it through scripts/test (which starts the emulators) or use -short",
			strings.Join(missing, ", "))
	}
}

var nonID = regexp.MustCompile(`[^a-z0-9-]+`)

// ProjectID returns a project id unique to this test ("demo-" prefixed, as the Firebase
// emulators expect for offline projects), valid for Firestore, Pub/Sub and Auth emulators.
func ProjectID(t testing.TB) string {
	t.Helper()
	name := strings.ToLower(t.Name())
	name = strings.Trim(nonID.ReplaceAllString(name, "-"), "-")
	if len(name) > 12 {
		name = name[:12]
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return strings.TrimSuffix("demo-"+name, "-") + "-" + hex.EncodeToString(b[:])
}

// FunctionURL returns the local stack's URL of one function's own server.
func FunctionURL(t testing.TB, name string) string {
	t.Helper()
	v := "MEDI_FUNCTION_URL_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
	Require(t, v)
	return os.Getenv(v)
}

// Package rules tests firestore.rules (repository root) against the Firestore
// emulator: the rules are loaded for a project of the test's own through the
// emulator's REST API, and requests are made as end users with unsigned ID tokens,
// which the emulator accepts.
package rules

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/medi-os/medi/shared/testenv"
)

// loadRules installs the repository's firestore.rules for project.
func loadRules(t *testing.T, host, project string) {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	src, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "firestore.rules"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"rules": map[string]any{"files": []map[string]string{{"content": string(src)}}}})
	req, _ := http.NewRequest(http.MethodPut, fmt.Sprintf("http://%s/emulator/v1/projects/%s:securityRules", host, project), bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("loading rules: %d %s", resp.StatusCode, b)
	}
}

// idToken is an unsigned Firebase ID token for project with the given custom claims.
func idToken(project, uid string, claims map[string]any) string {
	now := time.Now().Unix()
	payload := map[string]any{
		"iss": "https://securetoken.google.com/" + project, "aud": project,
		"sub": uid, "user_id": uid, "iat": now, "auth_time": now, "exp": now + 3600,
		"firebase": map[string]any{"sign_in_provider": "password", "identities": map[string]any{}},
	}
	for k, v := range claims {
		payload[k] = v
	}
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return enc(map[string]string{"alg": "none", "typ": "JWT"}) + "." + enc(payload) + "."
}

type rulesFixture struct {
	host, project string
}

func newRulesFixture(t *testing.T) *rulesFixture {
	t.Helper()
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST")
	f := &rulesFixture{host: os.Getenv("FIRESTORE_EMULATOR_HOST"), project: testenv.ProjectID(t)}
	loadRules(t, f.host, f.project)
	// Seed with the Admin SDK (the emulator's owner credentials bypass rules).
	ctx := context.Background()
	fs, err := firestore.NewClient(ctx, f.project)
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	for path, data := range map[string]map[string]any{
		"clinics/c1":                  {"name": "Clinic one", "doctorsOnDuty": 2},
		"clinics/c1/boards/queue":     {"clinicId": "c1", "version": 3, "entries": []any{}},
		"clinics/c1/boards/other":     {"x": 1},
		"clinics/c2/boards/queue":     {"clinicId": "c2", "version": 1, "entries": []any{}},
		"clinics/c1/patients/p1":      {"givenName": "Synthetic", "familyName": "Patient"},
		"clinics/c1/encounters/e1":    {"status": "waiting", "patientId": "p1"},
		"clinics/c1/audit/a1":         {"action": "patient.read"},
		"users/u-nurse":               {"role": "nurse", "clinicId": "c1"},
		"processedEvents/x__1":        {"eventId": "1"},
		"clinics/c1/queue/boards":     {"decoy": true}, // not the board path
		"clinics/c1/boards/queue/x/y": {"nested": true},
	} {
		if _, err := fs.Doc(path).Set(ctx, data); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// rest makes one Firestore REST request as the holder of token ("" for none) and
// returns the HTTP status.
func (f *rulesFixture) rest(t *testing.T, method, path, token string, body any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	url := fmt.Sprintf("http://%s/v1/projects/%s/databases/(default)/documents%s", f.host, f.project, path)
	req, _ := http.NewRequest(method, url, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

func TestFirestoreRules(t *testing.T) {
	t.Parallel()
	f := newRulesFixture(t)
	p := f.project
	nurse := idToken(p, "u-nurse", map[string]any{"role": "nurse", "clinicId": "c1"})
	staff := map[string]string{}
	for _, role := range []string{"receptionist", "nurse", "doctor", "admin"} {
		staff[role] = idToken(p, "u-"+role, map[string]any{"role": role, "clinicId": "c1"})
	}
	otherClinic := idToken(p, "u-other", map[string]any{"role": "doctor", "clinicId": "c2"})
	noClaims := idToken(p, "u-none", nil)
	patientRole := idToken(p, "u-patient", map[string]any{"role": "patient", "clinicId": "c1"})
	listBoards := map[string]any{"structuredQuery": map[string]any{"from": []map[string]any{{"collectionId": "boards"}}}}
	write := map[string]any{"fields": map[string]any{"version": map[string]any{"integerValue": "99"}}}

	const allowed, denied = http.StatusOK, http.StatusForbidden
	for _, tc := range []struct {
		name   string
		method string
		path   string
		token  string
		body   any
		want   int
	}{
		{"receptionist reads own board", "GET", "/clinics/c1/boards/queue", staff["receptionist"], nil, allowed},
		{"nurse reads own board", "GET", "/clinics/c1/boards/queue", staff["nurse"], nil, allowed},
		{"doctor reads own board", "GET", "/clinics/c1/boards/queue", staff["doctor"], nil, allowed},
		{"admin reads own board", "GET", "/clinics/c1/boards/queue", staff["admin"], nil, allowed},
		{"staff of another clinic", "GET", "/clinics/c1/boards/queue", otherClinic, nil, denied},
		{"own board of the other clinic's staff", "GET", "/clinics/c2/boards/queue", otherClinic, nil, allowed},
		{"nurse reads another clinic's board", "GET", "/clinics/c2/boards/queue", nurse, nil, denied},
		{"signed out", "GET", "/clinics/c1/boards/queue", "", nil, denied},
		{"no role or clinic claims", "GET", "/clinics/c1/boards/queue", noClaims, nil, denied},
		{"not a staff role", "GET", "/clinics/c1/boards/queue", patientRole, nil, denied},
		{"another board document", "GET", "/clinics/c1/boards/other", nurse, nil, denied},
		{"below the board", "GET", "/clinics/c1/boards/queue/x/y", nurse, nil, denied},
		{"a look-alike path", "GET", "/clinics/c1/queue/boards", nurse, nil, denied},
		{"the clinic document", "GET", "/clinics/c1", nurse, nil, denied},
		{"a patient", "GET", "/clinics/c1/patients/p1", nurse, nil, denied},
		{"an encounter", "GET", "/clinics/c1/encounters/e1", nurse, nil, denied},
		{"the audit trail", "GET", "/clinics/c1/audit/a1", staff["admin"], nil, denied},
		{"a staff profile, even one's own", "GET", "/users/u-nurse", nurse, nil, denied},
		{"dedupe marks", "GET", "/processedEvents/x__1", nurse, nil, denied},
		{"listing the boards", "GET", "/clinics/c1/boards", nurse, nil, denied},
		{"listing patients", "GET", "/clinics/c1/patients", nurse, nil, denied},
		{"querying the boards", "POST", "/clinics/c1:runQuery", nurse, listBoards, denied},
		{"updating own board", "PATCH", "/clinics/c1/boards/queue", staff["admin"], write, denied},
		{"creating a board", "PATCH", "/clinics/c3/boards/queue", staff["admin"], write, denied},
		{"deleting own board", "DELETE", "/clinics/c1/boards/queue", staff["admin"], nil, denied},
		{"writing a patient", "PATCH", "/clinics/c1/patients/p2", nurse, write, denied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := f.rest(t, tc.method, tc.path, tc.token, tc.body); got != tc.want {
				t.Errorf("%s %s: status %d, want %d", tc.method, tc.path, got, tc.want)
			}
		})
	}
}

// tokenCreds sends an end user's ID token with every RPC.
type tokenCreds string

func (c tokenCreds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	if c == "" {
		return nil, nil // signed out
	}
	return map[string]string{"authorization": "Bearer " + string(c)}, nil
}
func (tokenCreds) RequireTransportSecurity() bool { return false }

// endUserClient is a Firestore client that calls the emulator as the holder of token
// (as the Firebase SDKs in the apps do), not with the Admin SDK's owner credentials.
func (f *rulesFixture) endUserClient(t *testing.T, token string) *firestore.Client {
	t.Helper()
	conn, err := grpc.NewClient(f.host, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithPerRPCCredentials(tokenCreds(token)))
	if err != nil {
		t.Fatal(err)
	}
	c, err := firestore.NewClient(context.Background(), f.project, option.WithGRPCConn(conn))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestBoardListeners(t *testing.T) {
	t.Parallel()
	f := newRulesFixture(t)
	nurse := idToken(f.project, "u-nurse", map[string]any{"role": "nurse", "clinicId": "c1"})
	for _, tc := range []struct {
		name  string
		token string
		path  string
		ok    bool
	}{
		{"own clinic's board", nurse, "clinics/c1/boards/queue", true},
		{"another clinic's board", nurse, "clinics/c2/boards/queue", false},
		{"a patient", nurse, "clinics/c1/patients/p1", false},
		{"signed out", "", "clinics/c1/boards/queue", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			c := f.endUserClient(t, tc.token)
			it := c.Doc(tc.path).Snapshots(ctx)
			defer it.Stop()
			snap, err := it.Next()
			switch {
			case tc.ok && err != nil:
				t.Fatalf("listen: %v", err)
			case tc.ok:
				if v, _ := snap.DataAt("version"); v != int64(3) {
					t.Errorf("listened board version %v, want 3", v)
				}
			case status.Code(err) != codes.PermissionDenied:
				t.Errorf("listen: err %v, want PermissionDenied", err)
			}
		})
	}
	// The end-user client is really subject to the rules: its writes are refused.
	c := f.endUserClient(t, nurse)
	_, err := c.Doc("clinics/c1/boards/queue").Set(context.Background(), map[string]any{"version": 4})
	if status.Code(err) != codes.PermissionDenied || !strings.Contains(strings.ToLower(err.Error()), "permission") {
		t.Errorf("end-user write: err %v, want PermissionDenied", err)
	}
}

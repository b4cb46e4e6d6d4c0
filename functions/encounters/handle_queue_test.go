package encounters_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/functions/encounters"
	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/encounter"
	boards "github.com/medi-os/medi/shared/queue"
	"github.com/medi-os/medi/shared/testenv"
)

// boardFixture is the queue function built in-process on a Firestore project of the
// test's own, with a clinic whose board is already written.
type boardFixture struct {
	h      http.Handler
	clinic string
	board  boards.Board
}

func newBoardFixture(t *testing.T) *boardFixture {
	t.Helper()
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST", "FIREBASE_AUTH_EMULATOR_HOST")
	ctx := context.Background()
	project := testenv.ProjectID(t)
	h, err := encounters.Function.Handler(ctx, &encounters.Config{
		Base:                 config.Base{ProjectID: project, AuthProjectID: testenv.AuthProject(), Tier: config.Dev},
		EncounterEventsTopic: "encounter-events",
	})
	if err != nil {
		t.Fatal(err)
	}
	fs, err := firestore.NewClient(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fs.Close() })
	var b [4]byte
	_, _ = rand.Read(b[:])
	f := &boardFixture{h: h, clinic: "clinic-qb-" + hex.EncodeToString(b[:])}
	now := time.Now().UTC().Truncate(time.Millisecond)
	level := 2
	board := boards.EmptyBoard(f.clinic)
	board.BuiltAt, board.SourceReadAt, board.DoctorsOnDuty = now, now, 2
	board.Entries = []boards.Entry{
		{EncounterID: "e1", PatientID: "p1", Position: 1, Level: &level, Status: encounter.StatusTriaged,
			ArrivedAt: now.Add(-7 * time.Minute), WaitedMinutes: 7, TargetMinutes: 15,
			WaitEstimate: &boards.WaitEstimate{P50Minutes: 4, P90Minutes: 11}},
		{EncounterID: "e2", PatientID: "p2", Position: 2, Status: encounter.StatusWaiting,
			ArrivedAt: now.Add(-2 * time.Minute), WaitedMinutes: 2, TargetMinutes: 15},
	}
	stored, written, err := boards.NewStore(fs).WriteBoard(ctx, board)
	if err != nil || !written {
		t.Fatalf("writing the board: %v %v", written, err)
	}
	f.board = stored
	return f
}

func (f *boardFixture) get(t *testing.T, path, token string) (*httptest.ResponseRecorder, boards.Board, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	var env struct {
		Success bool         `json:"success"`
		Data    boards.Board `json:"data"`
		Error   *struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
		t.Fatalf("GET %s: not the envelope: %v\n%s", path, err, rec.Body)
	}
	code := ""
	if env.Error != nil {
		code = env.Error.Code
	}
	return rec, env.Data, code
}

func TestGetQueueBoard(t *testing.T) {
	t.Parallel()
	f := newBoardFixture(t)
	for _, role := range []string{"receptionist", "nurse", "doctor", "admin"} {
		t.Run(role, func(t *testing.T) {
			t.Parallel()
			token := testenv.SignIn(t, testenv.NewStaff(t, map[string]any{"role": role, "clinicId": f.clinic}))
			rec, got, _ := f.get(t, "/v1/queue", token)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			if diff := cmp.Diff(f.board, got); diff != "" {
				t.Errorf("board (-stored +served):\n%s", diff)
			}
		})
	}

	t.Run("another clinic sees only its own (empty) board", func(t *testing.T) {
		t.Parallel()
		other := f.clinic + "-other"
		token := testenv.SignIn(t, testenv.NewStaff(t, map[string]any{"role": "doctor", "clinicId": other}))
		// The query string cannot select a clinic: it is ignored.
		rec, got, _ := f.get(t, "/v1/queue?clinicId="+f.clinic, token)
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		want := boards.EmptyBoard(other)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("board (-want +got):\n%s", diff)
		}
	})

	for _, tc := range []struct {
		name   string
		path   string
		claims map[string]any
		status int
		code   string
	}{
		{"no token", "/v1/queue", nil, http.StatusUnauthorized, "unauthenticated"},
		{"no role", "/v1/queue", map[string]any{}, http.StatusForbidden, "permission_denied"},
		{"unknown role", "/v1/queue", map[string]any{"role": "patient", "clinicId": "x"}, http.StatusForbidden, "permission_denied"},
		{"stream without token", "/v1/queue/stream", nil, http.StatusUnauthorized, "unauthenticated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			token := ""
			if tc.claims != nil {
				token = testenv.SignIn(t, testenv.NewStaff(t, tc.claims))
			}
			rec, _, code := f.get(t, tc.path, token)
			if rec.Code != tc.status || code != tc.code {
				t.Errorf("status %d code %q, want %d %q", rec.Code, code, tc.status, tc.code)
			}
		})
	}
}

func TestQueueRoutes(t *testing.T) {
	t.Setenv("GOOGLE_CLOUD_PROJECT", "demo-routes")
	routes, err := encounters.Function.Routes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"/v1/queue", "/v1/queue/stream"} {
		found := false
		for _, r := range routes {
			found = found || (r.Method == http.MethodGet && r.Pattern == want)
		}
		if !found {
			t.Errorf("GET %s missing from %v", want, routes)
		}
	}
	// Only the board stream is exempt from the request deadline once it has started.
	for _, r := range routes {
		if want := r.Method == http.MethodGet && r.Pattern == "/v1/queue/stream"; r.Stream != want {
			t.Errorf("%s %s: stream route %v, want %v", r.Method, r.Pattern, r.Stream, want)
		}
	}
}

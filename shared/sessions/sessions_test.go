package sessions_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/sessions"
	"github.com/medi-os/medi/shared/testenv"
)

// clock is an injectable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func firestoreClient(t *testing.T) *firestore.Client {
	t.Helper()
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST", "FIREBASE_AUTH_EMULATOR_HOST")
	fs, err := firestore.NewClient(context.Background(), testenv.ProjectID(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fs.Close() })
	return fs
}

func cookieRequest(cookie string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/v1/me", nil)
	r.AddCookie(&http.Cookie{Name: auth.SessionCookieName, Value: cookie})
	return r
}

func reasonOf(t *testing.T, err error) string {
	t.Helper()
	var he *httpx.Error
	if !errors.As(err, &he) {
		t.Fatalf("error %v is not an API error", err)
	}
	if he.Status != http.StatusUnauthorized {
		t.Errorf("status %d, want 401", he.Status)
	}
	switch d := he.Details.(type) {
	case map[string]string:
		return d["reason"]
	case map[string]any:
		r, _ := d["reason"].(string)
		return r
	}
	t.Fatalf("error details %T carry no reason", he.Details)
	return ""
}

func TestSessionIdleTimeoutAndLogout(t *testing.T) {
	t.Parallel()
	fs := firestoreClient(t)
	ac := testenv.AuthClient(t)
	ctx := context.Background()
	clinic := "clinic-" + testenv.ProjectID(t)
	if _, err := fs.Collection("clinics").Doc(clinic).Set(ctx, map[string]any{"sessionIdleMinutes": 20, "sessionMaxAgeHours": 8}); err != nil {
		t.Fatal(err)
	}
	staff := testenv.NewStaff(t, map[string]any{"role": "nurse", "clinicId": clinic})
	clk := &clock{t: time.Now()}
	store := sessions.New(ac, fs, clk.Now)
	a := auth.New(ac).WithSessions(store)

	sess, err := store.Create(ctx, testenv.SignIn(t, staff), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := sess.IdleTimeout, 20*time.Minute; got != want {
		t.Errorf("idle timeout %v, want the clinic's %v", got, want)
	}
	if got, want := sess.MaxAge, 8*time.Hour; got != want {
		t.Errorf("max age %v, want the clinic's %v", got, want)
	}

	// Used within the idle timeout, repeatedly: each use moves the idle deadline.
	for i := 0; i < 3; i++ {
		clk.Advance(15 * time.Minute)
		p, err := a.Authenticate(cookieRequest(sess.Cookie))
		if err != nil {
			t.Fatalf("use %d after 15 min idle: %v", i, err)
		}
		if p.UID != staff.UID || p.ClinicID != clinic || p.Role != auth.RoleNurse {
			t.Fatalf("principal = %+v", p)
		}
	}

	// Idle for longer than the clinic's timeout: refused, and it stays refused.
	clk.Advance(21 * time.Minute)
	for i := 0; i < 2; i++ {
		_, err := a.Authenticate(cookieRequest(sess.Cookie))
		if err == nil {
			t.Fatal("idle session accepted")
		}
		want := auth.ReasonSessionIdle
		if i == 1 {
			want = auth.ReasonSessionRevoked // the record is gone after the first refusal
		}
		if got := reasonOf(t, err); got != want {
			t.Errorf("attempt %d: reason %q, want %q", i, got, want)
		}
	}

	// A new session, then logout: the cookie stops working at once.
	clk.Set(time.Now())
	sess2, err := store.Create(ctx, testenv.SignIn(t, staff), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(cookieRequest(sess2.Cookie)); err != nil {
		t.Fatalf("fresh session refused: %v", err)
	}
	if err := store.End(ctx, sess2.Cookie); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(cookieRequest(sess2.Cookie)); err == nil {
		t.Fatal("session accepted after logout")
	}
}

func TestCreateRefusesStaleSignInAndBadTokens(t *testing.T) {
	t.Parallel()
	fs := firestoreClient(t)
	ac := testenv.AuthClient(t)
	staff := testenv.NewStaff(t, map[string]any{"role": "doctor", "clinicId": "clinic-stale"})
	token := testenv.SignIn(t, staff)
	clk := &clock{t: time.Now().Add(10 * time.Minute)} // the sign-in is 10 minutes old
	store := sessions.New(ac, fs, clk.Now)
	for _, tc := range []struct {
		name, token, reason string
	}{
		{"stale sign-in", token, auth.ReasonReauthRequired},
		{"garbage token", "not-a-token", auth.ReasonInvalid},
	} {
		_, err := store.Create(context.Background(), tc.token, nil)
		if err == nil {
			t.Fatalf("%s: session created", tc.name)
		}
		if got := reasonOf(t, err); got != tc.reason {
			t.Errorf("%s: reason %q, want %q", tc.name, got, tc.reason)
		}
	}
}

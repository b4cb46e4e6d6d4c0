package testenv

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"testing"

	firebase "firebase.google.com/go/v4"
	fbauth "firebase.google.com/go/v4/auth"
)

// AuthProject is the Auth emulator's project: the emulator signs users in only for the
// project it was started with, so tests that need ID tokens share it and isolate
// themselves with unique users and clinic ids instead.
func AuthProject() string {
	if p := os.Getenv("MEDI_STACK_PROJECT"); p != "" {
		return p
	}
	return "demo-medi"
}

// AuthClient returns an Admin SDK Auth client for the emulator's project.
func AuthClient(t testing.TB) *fbauth.Client {
	t.Helper()
	Require(t, "FIREBASE_AUTH_EMULATOR_HOST")
	ctx := context.Background()
	app, err := firebase.NewApp(ctx, &firebase.Config{ProjectID: AuthProject()})
	if err != nil {
		t.Fatalf("firebase app: %v", err)
	}
	c, err := app.Auth(ctx)
	if err != nil {
		t.Fatalf("auth client: %v", err)
	}
	return c
}

// Staff is a user created in the Auth emulator for one test.
type Staff struct {
	UID, Email, Password string
}

// NewStaff creates a user with the given custom claims (nil: none) and returns it.
func NewStaff(t testing.TB, claims map[string]any) Staff {
	t.Helper()
	c := AuthClient(t)
	ctx := context.Background()
	var b [6]byte
	_, _ = rand.Read(b[:])
	s := Staff{Email: "staff-" + hex.EncodeToString(b[:]) + "@medi.test", Password: "pw-" + hex.EncodeToString(b[:])}
	u, err := c.CreateUser(ctx, (&fbauth.UserToCreate{}).Email(s.Email).Password(s.Password).EmailVerified(true))
	if err != nil {
		t.Fatalf("create user: %v", err)
	}
	s.UID = u.UID
	if claims != nil {
		if err := c.SetCustomUserClaims(ctx, u.UID, claims); err != nil {
			t.Fatalf("set claims: %v", err)
		}
	}
	return s
}

// SignIn returns a fresh ID token for s from the Auth emulator's REST API, as a client
// app would get one.
func SignIn(t testing.TB, s Staff) string {
	t.Helper()
	Require(t, "FIREBASE_AUTH_EMULATOR_HOST")
	body, _ := json.Marshal(map[string]any{"email": s.Email, "password": s.Password, "returnSecureToken": true})
	url := fmt.Sprintf("http://%s/identitytoolkit.googleapis.com/v1/accounts:signInWithPassword?key=demo-key",
		os.Getenv("FIREBASE_AUTH_EMULATOR_HOST"))
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
	defer resp.Body.Close()
	var out struct {
		IDToken string `json:"idToken"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK || out.IDToken == "" {
		t.Fatalf("sign in: status %d, err %v", resp.StatusCode, err)
	}
	return out.IDToken
}

// Package e2e drives the running local stack (started by scripts/test) over HTTP through
// the gateway, as the apps do, with ID tokens from the Auth emulator.
package e2e

import (
	"context"
	"net/http"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	fbauth "firebase.google.com/go/v4/auth"

	"github.com/medi-os/medi/scripts/stack"
	"github.com/medi-os/medi/shared/testenv"
	"github.com/medi-os/medi/tests/apitest"
)

func TestHealthOnEveryFunction(t *testing.T) {
	t.Parallel()
	c := apitest.StackClient(t)
	resp := c.Do(t, apitest.Request{Method: http.MethodGet, Path: "/v1/health"})
	if resp.Status != http.StatusOK || !resp.Envelope.Success {
		t.Fatalf("gateway health: %d %s", resp.Status, resp.Body)
	}
	for _, f := range stack.Functions {
		if f.Trigger == stack.TriggerPubSub || f.Trigger == stack.TriggerStorage {
			continue // CloudEvent functions have no HTTP routes
		}
		fn := f.Name
		fc := apitest.NewClient(t, testenv.FunctionURL(t, fn))
		resp := fc.Do(t, apitest.Request{Method: http.MethodGet, Path: "/v1/health"})
		var h struct{ Status, Version, Function string }
		resp.Decode(t, &h)
		if resp.Status != http.StatusOK || h.Status != "ok" || h.Function != fn {
			t.Errorf("%s health: %d %+v", fn, resp.Status, h)
		}
	}
}

func TestMeThroughGateway(t *testing.T) {
	t.Parallel()
	c := apitest.StackClient(t)
	staff := testenv.NewStaff(t, map[string]any{"role": "doctor", "clinicId": "clinic-e2e"})
	token := testenv.SignIn(t, staff)

	const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	resp := c.Do(t, apitest.Request{Method: http.MethodGet, Path: "/v1/me", Token: token,
		Header: map[string]string{"traceparent": traceparent}})
	if resp.Status != http.StatusOK {
		t.Fatalf("status %d: %s", resp.Status, resp.Body)
	}
	var me struct{ UID, Email, Role, ClinicID string }
	resp.Decode(t, &me)
	if me.UID != staff.UID || me.Email != staff.Email || me.Role != "doctor" || me.ClinicID != "clinic-e2e" {
		t.Errorf("me = %+v, want uid %s doctor clinic-e2e", me, staff.UID)
	}
	// The request id is the server's: a second request with the same traceparent gets
	// another one, and neither is the client's trace id.
	again := c.Do(t, apitest.Request{Method: http.MethodGet, Path: "/v1/me", Token: token,
		Header: map[string]string{"traceparent": traceparent}})
	for _, id := range []string{resp.Envelope.RequestID, again.Envelope.RequestID} {
		if len(id) != 32 || id == "4bf92f3577b34da6a3ce929d0e0e4736" {
			t.Errorf("requestId = %q, want 32 hex digits made by the server, not the traceparent's trace id", id)
		}
	}
	if resp.Envelope.RequestID == again.Envelope.RequestID {
		t.Errorf("two requests share request id %q", resp.Envelope.RequestID)
	}
	if resp.Header.Get("X-Request-Id") != resp.Envelope.RequestID {
		t.Errorf("X-Request-Id %q differs from body requestId %q", resp.Header.Get("X-Request-Id"), resp.Envelope.RequestID)
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("security headers missing: %v", resp.Header)
	}
}

func TestMeRejectsBadTokens(t *testing.T) {
	t.Parallel()
	c := apitest.StackClient(t)
	ac := testenv.AuthClient(t)
	ctx := context.Background()

	revoked := testenv.NewStaff(t, map[string]any{"role": "nurse", "clinicId": "clinic-e2e"})
	revokedToken := testenv.SignIn(t, revoked)
	disabled := testenv.NewStaff(t, map[string]any{"role": "nurse", "clinicId": "clinic-e2e"})
	disabledToken := testenv.SignIn(t, disabled)
	noRole := testenv.SignIn(t, testenv.NewStaff(t, nil))
	time.Sleep(1100 * time.Millisecond) // revocation has one-second granularity
	if err := ac.RevokeRefreshTokens(ctx, revoked.UID); err != nil {
		t.Fatal(err)
	}
	if _, err := ac.UpdateUser(ctx, disabled.UID, (&fbauth.UserToUpdate{}).Disabled(true)); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name   string
		token  string
		status int
		code   string
	}{
		{"no token", "", http.StatusUnauthorized, "unauthenticated"},
		{"malformed token", "abc.def", http.StatusUnauthorized, "unauthenticated"},
		{"revoked token", revokedToken, http.StatusUnauthorized, "unauthenticated"},
		{"disabled account", disabledToken, http.StatusUnauthorized, "unauthenticated"},
		{"no role claim", noRole, http.StatusForbidden, "permission_denied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp := c.Do(t, apitest.Request{Method: http.MethodGet, Path: "/v1/me", Token: tc.token})
			if resp.Status != tc.status || resp.Envelope.Code() != tc.code || resp.Envelope.Success {
				t.Errorf("status %d code %q, want %d %q", resp.Status, resp.Envelope.Code(), tc.status, tc.code)
			}
			if resp.Envelope.RequestID == "" {
				t.Error("error response without requestId")
			}
		})
	}
}

// /v1/me answers the caller's profile with its uid and only the fields that are set: the
// seeded account's full profile, a profile written outside staff management without its
// author or times (left out, never "" or a zero time), and null without a profile.
func TestMeProfileLeavesUnsetFieldsOut(t *testing.T) {
	t.Parallel()
	c := apitest.StackClient(t)
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST")
	ctx := context.Background()
	fs, err := firestore.NewClient(ctx, testenv.AuthProject())
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	bare := testenv.NewStaff(t, map[string]any{"role": "nurse", "clinicId": "clinic-e2e"})
	if _, err := fs.Collection("users").Doc(bare.UID).Set(ctx, map[string]any{
		"email": bare.Email, "displayName": "Bare profile", "role": "nurse", "clinicId": "clinic-e2e", "disabled": false,
	}); err != nil {
		t.Fatal(err)
	}
	none := testenv.NewStaff(t, map[string]any{"role": "nurse", "clinicId": "clinic-e2e"})
	seeded := testenv.Staff{Email: "doctor@" + stack.DemoClinicID + ".medi.test", Password: "demo-doctor-pass"}

	for _, tc := range []struct {
		name    string
		staff   testenv.Staff
		present []string
		absent  []string
	}{
		{"seeded account", seeded, []string{"uid", "createdAt", "createdBy", "updatedAt", "updatedBy"}, nil},
		{"profile without author", bare, []string{"uid", "displayName"}, []string{"createdAt", "createdBy", "updatedAt", "updatedBy"}},
		{"no profile", none, nil, nil},
	} {
		resp := c.Do(t, apitest.Request{Method: http.MethodGet, Path: "/v1/me", Token: testenv.SignIn(t, tc.staff)})
		var me struct {
			UID     string         `json:"uid"`
			Profile map[string]any `json:"profile"`
		}
		resp.Decode(t, &me)
		if resp.Status != http.StatusOK {
			t.Fatalf("%s: status %d: %s", tc.name, resp.Status, resp.Body)
		}
		if tc.present == nil {
			if me.Profile != nil {
				t.Errorf("%s: profile = %v, want null", tc.name, me.Profile)
			}
			continue
		}
		if me.Profile["uid"] != me.UID {
			t.Errorf("%s: profile uid %v, want the caller's %s", tc.name, me.Profile["uid"], me.UID)
		}
		for _, k := range tc.present {
			if v, ok := me.Profile[k]; !ok || v == "" {
				t.Errorf("%s: profile.%s = %v, want it set", tc.name, k, v)
			}
		}
		for _, k := range tc.absent {
			if v, ok := me.Profile[k]; ok {
				t.Errorf("%s: profile.%s = %v, want it left out", tc.name, k, v)
			}
		}
	}
}

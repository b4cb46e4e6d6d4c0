package staff

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/medi-os/medi/shared/httpx"
)

// bindFuzz decodes body into dst as the auth function does; false when the binder
// refused it (always with a 4xx).
func bindFuzz(t *testing.T, body []byte, dst any) bool {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if err := httpx.Bind(httptest.NewRecorder(), r, dst, 64<<10); err != nil {
		if s := httpx.AsError(err).Status; s < 400 || s > 499 {
			t.Fatalf("binder answered %d", s)
		}
		return false
	}
	return true
}

// requireDisplayName fails t unless an accepted display name is non-blank, at most 100
// characters, and free of control and text-direction control characters (it is shown
// in every app and in the audit trail).
func requireDisplayName(t *testing.T, n string) {
	t.Helper()
	if strings.TrimSpace(n) == "" || utf8.RuneCountInString(strings.TrimSpace(n)) > 100 || !utf8.ValidString(n) {
		t.Fatalf("accepted display name of %d characters", utf8.RuneCountInString(n))
	}
	if strings.ContainsFunc(n, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) }) {
		t.Fatalf("accepted display name with a control character: %q", n)
	}
}

// FuzzNewStaff decodes POST /v1/staff bodies and validates them: errors name known
// fields; an accepted body has one e-mail address of at most 254 bytes, a clean display
// name and a defined role.
func FuzzNewStaff(f *testing.F) {
	f.Add([]byte(`{"email":"nurse@example.org","displayName":"Ana Lee","role":"nurse"}`))
	f.Add([]byte(`{"email":"Dr <dr@example.org>","displayName":" ","role":"superuser","clinicId":"c1"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var in NewStaff
		if !bindFuzz(t, body, &in) {
			return
		}
		errs := in.Validate()
		for _, e := range errs {
			if e.Field != "email" && e.Field != "displayName" && e.Field != "role" {
				t.Fatalf("field error names %q", e.Field)
			}
		}
		if len(errs) > 0 {
			return
		}
		if a, err := mail.ParseAddress(in.Email); err != nil || a.Address != in.Email || len(in.Email) > 254 {
			t.Fatalf("accepted e-mail %q", in.Email)
		}
		requireDisplayName(t, in.DisplayName)
		if !in.Role.Valid() {
			t.Fatalf("accepted role %q", in.Role)
		}
	})
}

// FuzzStaffPatch decodes PATCH /v1/staff/{uid} bodies and validates them: an accepted
// patch changes something, with a defined role and a clean display name.
func FuzzStaffPatch(f *testing.F) {
	f.Add([]byte(`{"role":"doctor"}`))
	f.Add([]byte(`{"displayName":"Dr Ana Lee","disabled":true}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var p Patch
		if !bindFuzz(t, body, &p) {
			return
		}
		if errs := p.Validate(); len(errs) > 0 {
			return
		}
		if p.Role == nil && p.DisplayName == nil && p.Disabled == nil {
			t.Fatal("accepted an empty patch")
		}
		if p.Role != nil && !p.Role.Valid() {
			t.Fatalf("accepted role %q", *p.Role)
		}
		if p.DisplayName != nil {
			requireDisplayName(t, *p.DisplayName)
		}
	})
}

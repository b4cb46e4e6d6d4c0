package patient

import (
	"encoding/base64"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCursorRoundTrip(t *testing.T) {
	t.Parallel()
	q := fingerprint("patients.search", "", "nu", "")
	tok := encodeCursor(q, "nunez jose", "abcDEF123")
	got, err := decodeCursor(tok, q)
	if err != nil {
		t.Fatal(err)
	}
	want := cursor{Version: cursorVersion, Query: q, Key: "nunez jose", ID: "abcDEF123"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("cursor (-want +got):\n%s", diff)
	}
}

func TestCursorRejectsTampering(t *testing.T) {
	t.Parallel()
	q := fingerprint("patients.search", "", "nu", "")
	tok := encodeCursor(q, "nunez jose", "abc")
	raw, _ := base64.RawURLEncoding.DecodeString(tok)

	flipped := append([]byte(nil), raw...)
	flipped[5] ^= 0x01
	forged := encodeCursor(q, "nunez jose", "../other")
	reversion := func() string {
		c := encodeCursor(q, "k", "abc")
		r, _ := base64.RawURLEncoding.DecodeString(c)
		return base64.RawURLEncoding.EncodeToString(r[:len(r)-1])
	}()

	for _, tc := range []struct {
		name, token, query string
	}{
		{"flipped byte", base64.RawURLEncoding.EncodeToString(flipped), q},
		{"truncated", reversion, q},
		{"not base64", "%%%", q},
		{"empty payload", base64.RawURLEncoding.EncodeToString([]byte("short")), q},
		{"other query", tok, fingerprint("patients.search", "", "ab", "")},
		{"id not a document id", forged, q},
		{"huge", string(make([]byte, 4096)), q},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := decodeCursor(tc.token, tc.query)
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Fields) != 1 || ve.Fields[0].Field != "pageToken" {
				t.Errorf("decodeCursor = %v, want a field error on pageToken", err)
			}
		})
	}
}

func TestFingerprintIsUnambiguous(t *testing.T) {
	t.Parallel()
	if fingerprint("a", "bc") == fingerprint("ab", "c") {
		t.Error("fingerprint parts are not delimited")
	}
}

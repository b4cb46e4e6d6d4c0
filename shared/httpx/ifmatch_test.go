package httpx_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/medi-os/medi/shared/httpx"
)

func TestIfMatch(t *testing.T) {
	for _, tc := range []struct {
		name     string
		values   []string
		required bool
		version  int64
		ok       bool
		status   int
		code     string
	}{
		{name: "strong", values: []string{`"3"`}, required: true, version: 3, ok: true},
		{name: "strong, optional", values: []string{`"12"`}, version: 12, ok: true},
		{name: "absent, required", required: true, status: 428, code: "precondition_required"},
		{name: "absent, optional"},
		{name: "weak never matches", values: []string{`W/"3"`}, required: true, status: 412, code: "failed_precondition"},
		{name: "weak never matches, optional", values: []string{`W/"3"`}, status: 412, code: "failed_precondition"},
		{name: "star, optional"},
		{name: "star, required", values: []string{"*"}, required: true, status: 400, code: "invalid_argument"},
		{name: "unquoted", values: []string{"3"}, status: 400, code: "invalid_argument"},
		{name: "list", values: []string{`"3", "4"`}, status: 400, code: "invalid_argument"},
		{name: "repeated", values: []string{`"3"`, `"4"`}, status: 400, code: "invalid_argument"},
		{name: "zero", values: []string{`"0"`}, status: 400, code: "invalid_argument"},
		{name: "leading zero", values: []string{`"03"`}, status: 400, code: "invalid_argument"},
		{name: "not a number", values: []string{`"v1"`}, status: 400, code: "invalid_argument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPatch, "/", nil)
			for _, v := range tc.values {
				r.Header.Add("If-Match", v)
			}
			if tc.name == "star, optional" {
				r.Header.Set("If-Match", "*")
			}
			v, ok, err := httpx.IfMatch(r, tc.required)
			switch {
			case tc.status == 0 && err != nil:
				t.Fatalf("error %v, want version %d ok=%v", err, tc.version, tc.ok)
			case tc.status != 0 && (err == nil || err.Status != tc.status || err.Code != tc.code):
				t.Fatalf("= %d %v %v, want %d %s", v, ok, err, tc.status, tc.code)
			case v != tc.version || ok != tc.ok:
				t.Fatalf("= %d %v, want %d %v", v, ok, tc.version, tc.ok)
			}
		})
	}
	if got := httpx.ETag(7); got != `"7"` {
		t.Errorf("ETag(7) = %s", got)
	}
}

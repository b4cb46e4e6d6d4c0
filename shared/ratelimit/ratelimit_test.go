package ratelimit_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/medi-os/medi/shared/apierr"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/ratelimit"
	"github.com/medi-os/medi/shared/testenv"
)

func TestLimiterSharedCounterAndWindow(t *testing.T) {
	t.Parallel()
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST")
	ctx := context.Background()
	fs, err := firestore.NewClient(ctx, testenv.ProjectID(t))
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	now := time.Date(2026, 1, 1, 10, 0, 30, 0, time.UTC)
	clock := func() time.Time { return now }
	// Two limiters stand for two instances sharing the counters.
	a, b := ratelimit.New(fs, clock), ratelimit.New(fs, clock)
	lim := ratelimit.Limit{N: 3, Window: time.Minute}
	for i, l := range []*ratelimit.Limiter{a, b, a} {
		d, err := l.Allow(ctx, "n:k", lim)
		if err != nil || !d.Allowed || d.Remaining != 2-i {
			t.Fatalf("request %d: %+v %v", i, d, err)
		}
	}
	d, err := b.Allow(ctx, "n:k", lim)
	if err != nil || d.Allowed || d.RetryAfter != 30*time.Second {
		t.Fatalf("4th request: %+v %v, want refused with 30s to wait", d, err)
	}
	if d, _ := a.Allow(ctx, "other", lim); !d.Allowed {
		t.Error("another key is limited too")
	}
	err = a.Check(ctx, ratelimit.Rule{Name: "x", Key: "", Limit: lim}, ratelimit.Rule{Name: "n", Key: "k", Limit: lim})
	var he *apierr.Error
	if !errors.As(err, &he) || httpx.FromAPI(he).Status != http.StatusTooManyRequests || he.Code != apierr.CodeRateLimited || httpx.FromAPI(he).Header.Get("Retry-After") != "30" {
		t.Fatalf("Check = %v, want 429 rate_limited with Retry-After 30", err)
	}
	now = now.Add(31 * time.Second) // next window
	if d, _ := a.Allow(ctx, "n:k", lim); !d.Allowed {
		t.Error("still refused in the next window")
	}
}

func TestClientIP(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		xff    []string
		remote string
		want   string
	}{
		{nil, "192.0.2.1:5555", "192.0.2.1"},
		// Through the load balancer: "<client>, <load balancer>" appended.
		{[]string{"203.0.113.9, 35.191.0.1"}, "169.254.1.1:1", "203.0.113.9"},
		{[]string{"198.51.100.1, 203.0.113.9, 35.191.0.1"}, "169.254.1.1:1", "203.0.113.9"},   // forged first entry ignored
		{[]string{"198.51.100.1", "203.0.113.9, 35.191.0.1"}, "169.254.1.1:1", "203.0.113.9"}, // forged line ignored
		// Reached without the load balancer: a client's own single entry is never trusted.
		{[]string{"203.0.113.9"}, "192.0.2.1:5555", "192.0.2.1"},
		{[]string{"198.51.100.7"}, "192.0.2.1:5555", "192.0.2.1"},
		{[]string{"garbage"}, "192.0.2.1:5555", "192.0.2.1"},
		{[]string{"garbage, 35.191.0.1"}, "192.0.2.1:5555", "192.0.2.1"},
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = tc.remote
		for _, v := range tc.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := ratelimit.ClientIP(r); got != tc.want {
			t.Errorf("ClientIP(xff %q, remote %q) = %q, want %q", tc.xff, tc.remote, got, tc.want)
		}
	}
}

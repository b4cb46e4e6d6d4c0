package app

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// A client that depends on a location is created once per location, and a failed
// creation is retried by the next use rather than remembered.
func TestClientPerLocationCreatedOnce(t *testing.T) {
	t.Parallel()
	type client struct{ location string }
	created := map[string]int{}
	fail := true
	l := lazyByKey[*client]{what: "Test", create: func(_ context.Context, location string) (*client, error) {
		created[location]++
		if location == "europe-west4" && fail {
			fail = false
			return nil, errors.New("no route to the endpoint")
		}
		return &client{location: location}, nil
	}}
	ctx := context.Background()

	g1, err := l.get(ctx, "global")
	if err != nil {
		t.Fatal(err)
	}
	g2, _ := l.get(ctx, "global")
	if g1 != g2 || g1.location != "global" {
		t.Errorf("global: two calls gave %p and %p, want the same client", g1, g2)
	}
	if _, err := l.get(ctx, "europe-west4"); err == nil || !strings.Contains(err.Error(), "creating Test client: no route") {
		t.Fatalf("first europe-west4 = %v, want the creation error named", err)
	}
	r, err := l.get(ctx, "europe-west4")
	if err != nil || r.location != "europe-west4" || r == g1 {
		t.Fatalf("second europe-west4 = %+v, %v; want its own client", r, err)
	}
	if created["global"] != 1 || created["europe-west4"] != 2 {
		t.Errorf("created %v, want global once, europe-west4 twice (a failure, then success)", created)
	}
}

// The platform's clients are process-wide: every caller gets the same one, and with the
// emulator variables of the local stack they need no credentials.
func TestPlatformGivesOneClientEach(t *testing.T) {
	t.Setenv("STORAGE_EMULATOR_HOST", "127.0.0.1:1")
	t.Setenv("FIRESTORE_EMULATOR_HOST", "127.0.0.1:1")
	ctx := context.Background()
	p := NewPlatform("demo-platform-test")

	s1, err := p.Storage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := p.Storage(ctx)
	f1, err := p.Firestore(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f2, _ := p.Firestore(ctx)
	if s1 != s2 || f1 != f2 {
		t.Error("a second call created a second client")
	}
	if other, _ := NewPlatform("demo-platform-test").Storage(ctx); other == s1 {
		t.Error("two platforms share a client (tests need one per project)")
	}
}

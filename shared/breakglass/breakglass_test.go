package breakglass_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/breakglass"
	"github.com/medi-os/medi/shared/events"
	"github.com/medi-os/medi/shared/testenv"
)

// recorder is an in-memory events.Publisher.
type recorder struct {
	mu   sync.Mutex
	envs []events.Envelope
	tops []string
}

func (r *recorder) Publish(_ context.Context, topic string, e events.Envelope, _ string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.envs, r.tops = append(r.envs, e), append(r.tops, topic)
	return "1", nil
}

func TestGrantExpiresAfterOneHourAndAlerts(t *testing.T) {
	t.Parallel()
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST")
	ctx := context.Background()
	fs, err := firestore.NewClient(ctx, testenv.ProjectID(t))
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	for c, org := range map[string]string{"a": "o", "b": "o"} {
		if _, err := fs.Collection("clinics").Doc(c).Set(ctx, map[string]any{"organizationId": org}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := fs.Collection("clinics").Doc("b").Collection("patients").Doc("p1").Set(ctx, map[string]any{}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	clock := func() time.Time { return now }
	pub := &recorder{}
	s := breakglass.New(fs, pub, "", clock)
	doctor := auth.Principal{UID: "doc-1", Role: auth.RoleDoctor, ClinicID: "a"}
	g, err := s.Grant(ctx, doctor, breakglass.Request{PatientID: "p1", Reason: "Emergency transfer, unresponsive", ClinicID: "b"})
	if err != nil {
		t.Fatal(err)
	}
	if len(pub.envs) != 1 || pub.tops[0] != breakglass.DefaultTopic || pub.envs[0].Type != breakglass.EventGranted {
		t.Fatalf("published %v to %v", pub.envs, pub.tops)
	}
	var alert breakglass.Alert
	if err := pub.envs[0].DecodeData(&alert); err != nil || alert.GrantID != g.ID || alert.ClinicID != "b" {
		t.Errorf("alert = %+v %v", alert, err)
	}
	for _, tc := range []struct {
		after time.Duration
		want  bool
	}{{59 * time.Minute, true}, {61 * time.Minute, false}} {
		now = g.CreatedAt.Add(tc.after)
		held, ok, err := s.GrantFor(ctx, "doc-1", "p1")
		if err != nil || ok != tc.want || (ok && held.ClinicID != "b") {
			t.Errorf("after %v: active %v %v, want %v", tc.after, ok, err, tc.want)
		}
		active, err := s.List(ctx, "b", true)
		if err != nil || (len(active) == 1) != tc.want {
			t.Errorf("after %v: %d active grants listed, want active=%v", tc.after, len(active), tc.want)
		}
	}
	if _, ok, _ := s.GrantFor(ctx, "someone-else", "p1"); ok {
		t.Error("grant applies to another user")
	}
}

package accessalerts_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/functions/accessalerts"
	"github.com/medi-os/medi/shared/app"
	"github.com/medi-os/medi/shared/breakglass"
	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/events"
	"github.com/medi-os/medi/shared/events/eventstest"
	"github.com/medi-os/medi/shared/mail"
	"github.com/medi-os/medi/shared/tasks"
	"github.com/medi-os/medi/shared/testenv"
)

const taskSecret = "task-s3cret"

// mailerStub stands in for the mailer: it records the mail tasks the local dispatcher
// delivers (task name and body) and acknowledges them.
type mailerStub struct {
	mu        sync.Mutex
	names     []string
	bodies    map[string]mail.Task
	rawBodies []string
}

func (m *mailerStub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	if r.URL.Path != mail.TaskPath || r.Header.Get(tasks.SecretHeader) != taskSecret {
		http.Error(w, "not a mail task", http.StatusBadRequest)
		return
	}
	var t mail.Task
	_ = json.Unmarshal(b, &t)
	m.mu.Lock()
	defer m.mu.Unlock()
	name := r.Header.Get(tasks.HeaderTaskName)
	m.names = append(m.names, name)
	m.bodies[name] = t
	m.rawBodies = append(m.rawBodies, string(b))
}

func (m *mailerStub) delivered() ([]string, map[string]mail.Task, []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.names...), m.bodies, append([]string(nil), m.rawBodies...)
}

func handler(t *testing.T, project, mailerURL string) app.EventHandler {
	t.Helper()
	h, err := accessalerts.Function.Handler(context.Background(), &accessalerts.Config{
		Base:        config.Base{ProjectID: project, Tier: config.Dev, Version: "test"},
		TasksConfig: app.TasksConfig{DevSecret: taskSecret},
		MailerURL:   mailerURL,
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// A grant event delivered three times at once (Pub/Sub delivers at least once) queues
// exactly one alert mail per active admin of the patient's clinic, named by event and
// admin, without the patient or the reason.
func TestGrantEventDeliveredThreeTimesAlertsEachAdminOnce(t *testing.T) {
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST")
	t.Parallel()
	ctx := context.Background()
	project := testenv.ProjectID(t)
	fs, err := firestore.NewClient(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	const clinic, home = "clinic-b", "clinic-a"
	for uid, p := range map[string]map[string]any{
		"adm-1":    {"email": "one@b.test", "displayName": "Admin One", "role": "admin", "clinicId": clinic, "disabled": false},
		"adm-2":    {"email": "two@b.test", "displayName": "Admin Two", "role": "admin", "clinicId": clinic, "disabled": false},
		"adm-off":  {"email": "off@b.test", "role": "admin", "clinicId": clinic, "disabled": true},
		"adm-home": {"email": "home@a.test", "role": "admin", "clinicId": home, "disabled": false},
		"doc-1":    {"email": "doc@a.test", "displayName": "Dr Grey", "role": "doctor", "clinicId": home, "disabled": false},
	} {
		if _, err := fs.Collection("users").Doc(uid).Set(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := fs.Collection("clinics").Doc(clinic).Set(ctx, map[string]any{"name": "Northside", "timezone": "Europe/Paris"}); err != nil {
		t.Fatal(err)
	}
	stub := &mailerStub{bodies: map[string]mail.Task{}}
	srv := httptest.NewServer(stub)
	defer srv.Close()
	h := handler(t, project, srv.URL)

	granted := time.Now().UTC().Truncate(time.Second)
	env, err := events.NewEnvelope(ctx, breakglass.EventGranted, 1, clinic, breakglass.Alert{
		GrantID: "bg-feed", GranteeUID: "doc-1", GranteeClinic: home, ClinicID: clinic, PatientID: "patient-42",
		GrantedAt: granted, ExpiresAt: granted.Add(breakglass.Duration),
	})
	if err != nil {
		t.Fatal(err)
	}
	ce := eventstest.Push(t, "msg-1", "access-events", env)
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = h(ctx, ce) }()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("delivery %d: %v (want acknowledged)", i, err)
		}
	}
	// A fourth, later delivery is skipped by the dedupe mark.
	if err := h(ctx, ce); err != nil {
		t.Errorf("late redelivery: %v", err)
	}

	want := []string{breakglass.AlertTaskID(env.EventID, "adm-1"), breakglass.AlertTaskID(env.EventID, "adm-2")}
	sort.Strings(want)
	// The dispatcher delivers asynchronously: wait for the expected mails, then give a
	// duplicate the time to show up too (the dispatch of every accepted task started
	// before the handler returned).
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if names, _, _ := stub.delivered(); len(names) >= len(want) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	names, bodies, raw := stub.delivered()
	sort.Strings(names)
	if diff := cmp.Diff(want, names); diff != "" {
		t.Fatalf("mail tasks delivered (-want +got):\n%s", diff)
	}
	to := map[string]string{}
	for _, n := range names {
		b := bodies[n]
		to[b.To] = b.DisplayName
		if b.Kind != mail.KindBreakGlassAlert || b.Alert == nil || b.Alert.GrantID != "bg-feed" || b.Alert.ClinicName != "Northside" ||
			b.Alert.RequesterName != "Dr Grey" || b.Alert.RequesterClinicID != home || !b.Alert.GrantedAt.Equal(granted) {
			t.Errorf("task %s: %+v, alert %+v", n, b, b.Alert)
		}
	}
	if diff := cmp.Diff(map[string]string{"one@b.test": "Admin One", "two@b.test": "Admin Two"}, to); diff != "" {
		t.Errorf("recipients (-want +got):\n%s", diff)
	}
	for _, b := range raw {
		if strings.Contains(b, "patient-42") {
			t.Errorf("a mail task carries the patient id: %s", b)
		}
	}
}

// Events the consumer cannot act on are acknowledged (not retried forever); a revocation
// queues nothing.
func TestUnusableEventsAreAcknowledged(t *testing.T) {
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST")
	t.Parallel()
	ctx := context.Background()
	stub := &mailerStub{bodies: map[string]mail.Task{}}
	srv := httptest.NewServer(stub)
	defer srv.Close()
	h := handler(t, testenv.ProjectID(t), srv.URL)
	revoked, err := events.NewEnvelope(ctx, breakglass.EventRevoked, 1, "clinic-b", breakglass.Alert{GrantID: "bg-1", GranteeUID: "u", ClinicID: "clinic-b"})
	if err != nil {
		t.Fatal(err)
	}
	inconsistent, err := events.NewEnvelope(ctx, breakglass.EventGranted, 1, "clinic-b", breakglass.Alert{GrantID: "bg-1", GranteeUID: "u", ClinicID: "clinic-c"})
	if err != nil {
		t.Fatal(err)
	}
	garbage := event.New()
	garbage.SetID("msg-garbage")
	garbage.SetType(events.CloudEventPubSubPublished)
	garbage.SetSource("//pubsub.googleapis.com/projects/p/topics/access-events")
	if err := garbage.SetData(event.ApplicationJSON, map[string]any{"message": map[string]any{"messageId": "m", "data": base64.StdEncoding.EncodeToString([]byte("not json"))}}); err != nil {
		t.Fatal(err)
	}
	for name, ce := range map[string]event.Event{
		"revocation":      eventstest.Push(t, "msg-r", "access-events", revoked),
		"another clinic":  eventstest.Push(t, "msg-i", "access-events", inconsistent),
		"not an envelope": garbage,
	} {
		if err := h(ctx, ce); err != nil {
			t.Errorf("%s: %v, want acknowledged", name, err)
		}
	}
	if names, _, _ := stub.delivered(); len(names) != 0 {
		t.Errorf("mail queued for unusable events: %v", names)
	}
}

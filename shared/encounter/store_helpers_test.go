package encounter_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"google.golang.org/api/iterator"

	"github.com/medi-os/medi/shared/apierr"
	"github.com/medi-os/medi/shared/audit"
	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/commitmark"
	"github.com/medi-os/medi/shared/encounter"
	"github.com/medi-os/medi/shared/events"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/logging"
	"github.com/medi-os/medi/shared/testenv"
)

// fixture is one test's backends: Firestore and Pub/Sub emulators in a project of the
// test's own, a Store over them and a clinic.
type fixture struct {
	t      *testing.T
	fs     *firestore.Client
	ps     *pubsub.Client
	pub    *events.PubSubPublisher
	store  *encounter.Store
	clinic string
}

type fixtureOptions struct {
	noTopic bool // leave the topic out, so that every publish fails
}

func newFixture(t *testing.T, opts ...fixtureOptions) *fixture {
	t.Helper()
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST", "PUBSUB_EMULATOR_HOST")
	var o fixtureOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	ctx := context.Background()
	project := testenv.ProjectID(t)
	fs, err := firestore.NewClient(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := pubsub.NewClient(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	pub := events.NewPubSubPublisher(ps)
	t.Cleanup(func() {
		_ = pub.Close()
		_ = ps.Close()
		_ = fs.Close()
	})
	f := &fixture{t: t, fs: fs, ps: ps, pub: pub, store: encounter.NewStore(fs, pub, ""), clinic: "clinic-" + randomHex(4)}
	if !o.noTopic {
		f.createTopic()
	}
	return f
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (f *fixture) topicName() string {
	return fmt.Sprintf("projects/%s/topics/%s", f.ps.Project(), encounter.DefaultTopic)
}

func (f *fixture) createTopic() {
	f.t.Helper()
	if _, err := f.ps.TopicAdminClient.CreateTopic(context.Background(), &pubsubpb.Topic{Name: f.topicName()}); err != nil {
		f.t.Fatalf("CreateTopic: %v", err)
	}
}

// subscribe creates an ordered pull subscription on the topic and returns its name.
func (f *fixture) subscribe() string {
	f.t.Helper()
	name := fmt.Sprintf("projects/%s/subscriptions/test-%s", f.ps.Project(), randomHex(4))
	if _, err := f.ps.SubscriptionAdminClient.CreateSubscription(context.Background(), &pubsubpb.Subscription{
		Name: name, Topic: f.topicName(), AckDeadlineSeconds: 60, EnableMessageOrdering: true,
	}); err != nil {
		f.t.Fatalf("CreateSubscription: %v", err)
	}
	return name
}

// pull receives and acknowledges n messages from sub, in delivery order.
func (f *fixture) pull(sub string, n int) []*pubsubpb.PubsubMessage {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var got []*pubsubpb.PubsubMessage
	for len(got) < n {
		resp, err := f.ps.SubscriptionAdminClient.Pull(ctx, &pubsubpb.PullRequest{Subscription: sub, MaxMessages: int32(n - len(got))})
		if err != nil {
			f.t.Fatalf("Pull after %d of %d messages: %v", len(got), n, err)
		}
		var ackIDs []string
		for _, rm := range resp.GetReceivedMessages() {
			got = append(got, rm.GetMessage())
			ackIDs = append(ackIDs, rm.GetAckId())
		}
		if len(ackIDs) > 0 {
			if err := f.ps.SubscriptionAdminClient.Acknowledge(ctx, &pubsubpb.AcknowledgeRequest{Subscription: sub, AckIds: ackIDs}); err != nil {
				f.t.Fatalf("Acknowledge: %v", err)
			}
		}
	}
	return got
}

// patient writes a synthetic patient of clinic and returns its id.
func (f *fixture) patient(clinic string) string {
	f.t.Helper()
	id := "p-" + randomHex(6)
	if _, err := f.fs.Collection("clinics").Doc(clinic).Collection("patients").Doc(id).Set(context.Background(),
		map[string]any{"givenName": "Test", "familyName": "Patient", "version": 1}); err != nil {
		f.t.Fatal(err)
	}
	return id
}

// staffUser writes users/{uid} as the auth function keeps it.
func (f *fixture) staffUser(uid string, role auth.Role, clinic string, disabled bool) {
	f.t.Helper()
	if _, err := f.fs.Collection("users").Doc(uid).Set(context.Background(), map[string]any{
		"role": string(role), "clinicId": clinic, "disabled": disabled,
	}); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) actor(role auth.Role) auth.Principal {
	return auth.Principal{UID: string(role) + "-uid", Role: role, ClinicID: f.clinic}
}

// reqCtx returns a request context with a fresh request id and the principal.
func reqCtx(p auth.Principal) (context.Context, string) {
	tr := logging.NewTrace()
	ctx := logging.WithTrace(context.Background(), tr)
	return auth.WithPrincipal(ctx, p), tr.RequestID()
}

// checkIn checks a new patient in and returns the encounter.
func (f *fixture) checkIn() encounter.Encounter {
	f.t.Helper()
	ctx, _ := reqCtx(f.actor(auth.RoleReceptionist))
	enc, err := f.store.CheckIn(ctx, f.actor(auth.RoleReceptionist), encounter.CheckIn{
		PatientID: f.patient(f.clinic), ChiefComplaint: "chest pain since this morning", ArrivalMode: encounter.ArrivalWalkIn,
	}, commitmark.Marker{})
	if err != nil {
		f.t.Fatalf("CheckIn: %v", err)
	}
	return enc
}

// step is one transition of a walk.
type step struct {
	to     encounter.Status
	role   auth.Role
	reason string
}

// walk applies steps to enc and returns the encounter after the last.
func (f *fixture) walk(enc encounter.Encounter, steps ...step) encounter.Encounter {
	f.t.Helper()
	for _, s := range steps {
		ctx, _ := reqCtx(f.actor(s.role))
		var err error
		enc, _, err = f.store.Transition(ctx, f.clinic, enc.ID, s.to, s.reason, f.actor(s.role))
		if err != nil {
			f.t.Fatalf("walk to %s as %s: %v", s.to, s.role, err)
		}
	}
	return enc
}

// pathTo lists the steps that bring a new encounter to status st.
func pathTo(st encounter.Status) []step {
	triage := step{encounter.StatusTriaged, auth.RoleNurse, ""}
	start := step{encounter.StatusInConsultation, auth.RoleDoctor, ""}
	switch st {
	case encounter.StatusTriaged:
		return []step{triage}
	case encounter.StatusInConsultation:
		return []step{triage, start}
	case encounter.StatusCompleted:
		return []step{triage, start, {encounter.StatusCompleted, auth.RoleDoctor, ""}}
	case encounter.StatusCancelled:
		return []step{{encounter.StatusCancelled, auth.RoleReceptionist, "registered twice"}}
	case encounter.StatusLeftWithout:
		return []step{{encounter.StatusLeftWithout, auth.RoleReceptionist, "not in the waiting room when called"}}
	}
	return nil
}

// wantError checks that err is an *apierr.Error with status and code, and returns it.
func wantError(t *testing.T, err error, status int, code string) *apierr.Error {
	t.Helper()
	var he *apierr.Error
	if !errors.As(err, &he) {
		t.Fatalf("err = %v (%T), want *apierr.Error %d %s", err, err, status, code)
	}
	if httpx.FromAPI(he).Status != status || he.Code != code {
		t.Fatalf("err = %d %s (%s), want %d %s", httpx.FromAPI(he).Status, he.Code, he.Message, status, code)
	}
	return he
}

// auditRecords returns the clinic's audit trail.
func (f *fixture) auditRecords(clinic string) []audit.Record {
	f.t.Helper()
	docs, err := f.fs.Collection("clinics").Doc(clinic).Collection(audit.Collection).Documents(context.Background()).GetAll()
	if err != nil {
		f.t.Fatal(err)
	}
	out := make([]audit.Record, 0, len(docs))
	for _, d := range docs {
		var r audit.Record
		if err := d.DataTo(&r); err != nil {
			f.t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// countDocuments counts every document below ref, recursively, by collection path
// relative to ref.
func countDocuments(t *testing.T, ref *firestore.DocumentRef) map[string]int {
	t.Helper()
	counts := map[string]int{}
	var walk func(doc *firestore.DocumentRef, prefix string)
	walk = func(doc *firestore.DocumentRef, prefix string) {
		it := doc.Collections(context.Background())
		for {
			col, err := it.Next()
			if err == iterator.Done {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			docs, err := col.DocumentRefs(context.Background()).GetAll()
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range docs {
				snap, err := d.Get(context.Background())
				if err == nil && snap.Exists() {
					counts[prefix+col.ID]++
				}
				walk(d, prefix+col.ID+"/*/")
			}
		}
	}
	walk(ref, "")
	return counts
}

func (f *fixture) openPointer(patientID string) (string, bool) {
	f.t.Helper()
	snap, err := f.fs.Collection("clinics").Doc(f.clinic).Collection(encounter.CollectionOpen).Doc(patientID).Get(context.Background())
	if err != nil {
		if !snap.Exists() {
			return "", false
		}
		f.t.Fatal(err)
	}
	id, _ := snap.Data()["encounterId"].(string)
	return id, true
}

func (f *fixture) events(id string) []encounter.Event {
	f.t.Helper()
	ctx, _ := reqCtx(f.actor(auth.RoleNurse))
	_, page, err := f.store.Events(ctx, f.clinic, id, encounter.MaxPageSize, "")
	if err != nil {
		f.t.Fatal(err)
	}
	return page.Items
}

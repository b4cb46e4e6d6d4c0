package breakglass_test

import (
	"context"
	"errors"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/shared/breakglass"
	"github.com/medi-os/medi/shared/events"
	"github.com/medi-os/medi/shared/mail"
	"github.com/medi-os/medi/shared/testenv"
)

type fakeDirectory struct {
	admins    []breakglass.Admin
	adminsErr error
	requester breakglass.Requester
	clinic    breakglass.ClinicInfo
}

func (d *fakeDirectory) ActiveAdmins(context.Context, string) ([]breakglass.Admin, error) {
	return d.admins, d.adminsErr
}
func (d *fakeDirectory) Requester(context.Context, string) (breakglass.Requester, bool, error) {
	return d.requester, d.requester.Name != "", nil
}
func (d *fakeDirectory) Clinic(context.Context, string) (breakglass.ClinicInfo, error) {
	return d.clinic, nil
}

// fakeQueue records mail tasks; failFor makes enqueueing for one address fail.
type fakeQueue struct {
	mu      sync.Mutex
	tasks   []mail.Task
	failFor string
}

func (q *fakeQueue) Enqueue(_ context.Context, t mail.Task) error {
	if t.To == q.failFor {
		return errors.New("cloud tasks: unavailable")
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.tasks = append(q.tasks, t)
	return nil
}

var grantTime = time.Date(2026, 7, 1, 13, 5, 0, 0, time.UTC)

func grantEvent(t *testing.T, typ, clinic string, data any) events.Envelope {
	t.Helper()
	env, err := events.NewEnvelope(context.Background(), typ, 1, clinic, data)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func validAlert() breakglass.Alert {
	return breakglass.Alert{GrantID: "bg-1", GranteeUID: "doc-1", GranteeClinic: "a", ClinicID: "b", PatientID: "p-secret-1",
		GrantedAt: grantTime, ExpiresAt: grantTime.Add(breakglass.Duration)}
}

func TestNotify(t *testing.T) {
	t.Parallel()
	admins := []breakglass.Admin{{UID: "adm-1", Email: "one@b.test", DisplayName: "One"}, {UID: "adm-2", Email: "two@b.test"}}
	noGrantTime := validAlert()
	noGrantTime.GrantedAt = time.Time{}
	otherClinic := validAlert()
	otherClinic.ClinicID = "c"
	for _, tc := range []struct {
		name      string
		env       events.Envelope
		dir       fakeDirectory
		failFor   string
		wantTo    []string
		wantErr   string // "", "retry" or "permanent"
		wantGrant time.Time
	}{
		{name: "grant alerts every active admin", env: grantEvent(t, breakglass.EventGranted, "b", validAlert()),
			dir:    fakeDirectory{admins: admins, requester: breakglass.Requester{Name: "Dr Who", Role: "doctor"}, clinic: breakglass.ClinicInfo{Name: "B", TimeZone: "Europe/London"}},
			wantTo: []string{"one@b.test", "two@b.test"}, wantGrant: grantTime},
		{name: "grant time from the expiry of older events", env: grantEvent(t, breakglass.EventGranted, "b", noGrantTime),
			dir: fakeDirectory{admins: admins[:1]}, wantTo: []string{"one@b.test"}, wantGrant: grantTime},
		{name: "revocation is not alerted", env: grantEvent(t, breakglass.EventRevoked, "b", validAlert()), dir: fakeDirectory{admins: admins}},
		{name: "other event types are ignored", env: grantEvent(t, "access.something_else", "b", map[string]any{}), dir: fakeDirectory{admins: admins}},
		{name: "no admin: logged, not retried", env: grantEvent(t, breakglass.EventGranted, "b", validAlert())},
		{name: "admin without a usable address is skipped", env: grantEvent(t, breakglass.EventGranted, "b", validAlert()),
			dir: fakeDirectory{admins: []breakglass.Admin{{UID: "adm-x", Email: "not-an-address"}, admins[1]}}, wantTo: []string{"two@b.test"}, wantGrant: grantTime},
		{name: "event names another clinic", env: grantEvent(t, breakglass.EventGranted, "b", otherClinic), dir: fakeDirectory{admins: admins}, wantErr: "permanent"},
		{name: "event without grant", env: grantEvent(t, breakglass.EventGranted, "b", map[string]any{"clinicId": "b"}), dir: fakeDirectory{admins: admins}, wantErr: "permanent"},
		{name: "admins cannot be listed", env: grantEvent(t, breakglass.EventGranted, "b", validAlert()), dir: fakeDirectory{adminsErr: errors.New("unavailable")}, wantErr: "retry"},
		{name: "queue fails for one admin: the other is queued, the event retried", env: grantEvent(t, breakglass.EventGranted, "b", validAlert()),
			dir: fakeDirectory{admins: admins}, failFor: "two@b.test", wantTo: []string{"one@b.test"}, wantErr: "retry", wantGrant: grantTime},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			q := &fakeQueue{failFor: tc.failFor}
			err := breakglass.NewNotifier(&tc.dir, q).Notify(context.Background(), tc.env)
			got := ""
			switch {
			case err == nil:
			case events.IsPermanent(err):
				got = "permanent"
			default:
				got = "retry"
			}
			if got != tc.wantErr {
				t.Errorf("Notify error %v (%q), want %q", err, got, tc.wantErr)
			}
			var to []string
			for _, task := range q.tasks {
				to = append(to, task.To)
				if task.Kind != mail.KindBreakGlassAlert || task.Alert == nil {
					t.Fatalf("task %+v is not an alert", task)
				}
				if task.Alert.GrantID != "bg-1" || task.Alert.ClinicID != "b" || task.Alert.RequesterUID != "doc-1" || task.Alert.RequesterClinicID != "a" {
					t.Errorf("alert %+v does not name the grant", task.Alert)
				}
				if !task.Alert.GrantedAt.Equal(tc.wantGrant) {
					t.Errorf("granted at %v, want %v", task.Alert.GrantedAt, tc.wantGrant)
				}
				m, err := mail.Render(task)
				if err != nil {
					t.Fatal(err)
				}
				if strings.Contains(m.Text+m.HTML, "p-secret-1") {
					t.Error("the alert mail names the patient")
				}
			}
			sort.Strings(to)
			if diff := cmp.Diff(tc.wantTo, to); diff != "" {
				t.Errorf("alerted (-want +got):\n%s", diff)
			}
		})
	}
}

// Redeliveries of one event queue tasks of the same names (one per admin), which the
// queue keeps once; another event gets other names.
func TestAlertTaskNamesAreStablePerEventAndAdmin(t *testing.T) {
	t.Parallel()
	dir := &fakeDirectory{admins: []breakglass.Admin{{UID: "adm-1", Email: "one@b.test"}, {UID: "adm-2", Email: "two@b.test"}}}
	env := grantEvent(t, breakglass.EventGranted, "b", validAlert())
	names := func(e events.Envelope) []string {
		q := &fakeQueue{}
		if err := breakglass.NewNotifier(dir, q).Notify(context.Background(), e); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, task := range q.tasks {
			out = append(out, task.ID)
		}
		sort.Strings(out)
		return out
	}
	first, again := names(env), names(env)
	if diff := cmp.Diff(first, again); diff != "" {
		t.Errorf("redelivery queued other task names (-first +again):\n%s", diff)
	}
	if len(first) != 2 || first[0] == first[1] {
		t.Errorf("task names %v: want one per admin", first)
	}
	if first[0] != breakglass.AlertTaskID(env.EventID, "adm-1") && first[1] != breakglass.AlertTaskID(env.EventID, "adm-1") {
		t.Errorf("task names %v are not AlertTaskID(event, admin)", first)
	}
	other := grantEvent(t, breakglass.EventGranted, "b", validAlert())
	for _, n := range names(other) {
		if n == first[0] || n == first[1] {
			t.Errorf("another event reuses task name %s", n)
		}
	}
}

func TestFirestoreDirectory(t *testing.T) {
	t.Parallel()
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST")
	ctx := context.Background()
	fs, err := firestore.NewClient(ctx, testenv.ProjectID(t))
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	for uid, p := range map[string]map[string]any{
		"adm-1":  {"email": "one@b.test", "displayName": "One", "role": "admin", "clinicId": "b", "disabled": false},
		"adm-2":  {"email": "two@b.test", "displayName": "Two", "role": "admin", "clinicId": "b", "disabled": true},
		"adm-3":  {"email": "three@a.test", "role": "admin", "clinicId": "a", "disabled": false},
		"nurse":  {"email": "nurse@b.test", "role": "nurse", "clinicId": "b", "disabled": false},
		"doc-1":  {"email": "doc@a.test", "displayName": "Dr Who", "role": "doctor", "clinicId": "a", "disabled": false},
		"adm-nm": {"role": "admin", "clinicId": "b", "disabled": false},
	} {
		if _, err := fs.Collection("users").Doc(uid).Set(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := fs.Collection("clinics").Doc("b").Set(ctx, map[string]any{"name": "Northside", "timezone": "Europe/London"}); err != nil {
		t.Fatal(err)
	}
	d := breakglass.NewFirestoreDirectory(fs)
	admins, err := d.ActiveAdmins(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]breakglass.Admin{{UID: "adm-1", Email: "one@b.test", DisplayName: "One"}}, admins); diff != "" {
		t.Errorf("active admins of b (-want +got):\n%s", diff)
	}
	req, ok, err := d.Requester(ctx, "doc-1")
	if err != nil || !ok || req != (breakglass.Requester{Name: "Dr Who", Role: "doctor"}) {
		t.Errorf("Requester = %+v, %v, %v", req, ok, err)
	}
	if _, ok, err := d.Requester(ctx, "nobody"); ok || err != nil {
		t.Errorf("unknown requester: ok %v, %v", ok, err)
	}
	for clinic, want := range map[string]breakglass.ClinicInfo{"b": {Name: "Northside", TimeZone: "Europe/London"}, "zz": {}} {
		if got, err := d.Clinic(ctx, clinic); err != nil || got != want {
			t.Errorf("Clinic(%s) = %+v, %v; want %+v", clinic, got, err, want)
		}
	}
}

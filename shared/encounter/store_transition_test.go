package encounter_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/shared/apierr"
	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/commitmark"
	"github.com/medi-os/medi/shared/encounter"
	"github.com/medi-os/medi/shared/httpx"
)

// The legal moves of the encounter state machine, with a role allowed to make each and a reason
// where one is required; every other (from, to) pair is illegal.
var legalMoves = map[[2]encounter.Status]step{
	{encounter.StatusWaiting, encounter.StatusTriaged}:          {encounter.StatusTriaged, auth.RoleNurse, ""},
	{encounter.StatusTriaged, encounter.StatusInConsultation}:   {encounter.StatusInConsultation, auth.RoleDoctor, ""},
	{encounter.StatusInConsultation, encounter.StatusTriaged}:   {encounter.StatusTriaged, auth.RoleDoctor, "awaiting lab results"},
	{encounter.StatusInConsultation, encounter.StatusCompleted}: {encounter.StatusCompleted, auth.RoleDoctor, ""},
	{encounter.StatusWaiting, encounter.StatusCancelled}:        {encounter.StatusCancelled, auth.RoleReceptionist, "registered twice"},
	{encounter.StatusTriaged, encounter.StatusCancelled}:        {encounter.StatusCancelled, auth.RoleNurse, "transferred"},
	{encounter.StatusWaiting, encounter.StatusLeftWithout}:      {encounter.StatusLeftWithout, auth.RoleReceptionist, "left"},
	{encounter.StatusTriaged, encounter.StatusLeftWithout}:      {encounter.StatusLeftWithout, auth.RoleAdmin, "not there when called"},
}

var wantAction = map[[2]encounter.Status]encounter.Action{
	{encounter.StatusWaiting, encounter.StatusTriaged}:          encounter.ActionTriage,
	{encounter.StatusTriaged, encounter.StatusInConsultation}:   encounter.ActionStart,
	{encounter.StatusInConsultation, encounter.StatusTriaged}:   encounter.ActionRetriage,
	{encounter.StatusInConsultation, encounter.StatusCompleted}: encounter.ActionComplete,
	{encounter.StatusWaiting, encounter.StatusCancelled}:        encounter.ActionCancel,
	{encounter.StatusTriaged, encounter.StatusCancelled}:        encounter.ActionCancel,
	{encounter.StatusWaiting, encounter.StatusLeftWithout}:      encounter.ActionLWBS,
	{encounter.StatusTriaged, encounter.StatusLeftWithout}:      encounter.ActionLWBS,
}

var wantAllowed = map[encounter.Status][]encounter.Status{
	encounter.StatusWaiting:        {encounter.StatusTriaged, encounter.StatusCancelled, encounter.StatusLeftWithout},
	encounter.StatusTriaged:        {encounter.StatusInConsultation, encounter.StatusCancelled, encounter.StatusLeftWithout},
	encounter.StatusInConsultation: {encounter.StatusTriaged, encounter.StatusCompleted},
	encounter.StatusCompleted:      {},
	encounter.StatusCancelled:      {},
	encounter.StatusLeftWithout:    {},
}

func TestTransitionEveryPair(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, from := range encounter.Statuses {
		// Illegal moves from this status, on one encounter that none of them may change.
		t.Run(fmt.Sprintf("illegal from %s", from), func(t *testing.T) {
			t.Parallel()
			enc := f.walk(f.checkIn(), pathTo(from)...)
			for _, to := range encounter.Statuses {
				if _, legal := legalMoves[[2]encounter.Status{from, to}]; legal {
					continue
				}
				for _, role := range auth.Roles {
					p := f.actor(role)
					ctx, _ := reqCtx(p)
					_, _, err := f.store.Transition(ctx, f.clinic, enc.ID, to, "some reason", p)
					he := wantError(t, err, http.StatusConflict, apierr.CodeConflict)
					want := map[string]any{"current": from, "allowed": wantAllowed[from]}
					if diff := cmp.Diff(want, he.Details); diff != "" {
						t.Errorf("%s -> %s as %s: details (-want +got):\n%s", from, to, role, diff)
					}
					var te *encounter.TransitionError
					if !errors.As(err, &te) || te.Kind != encounter.ErrIllegal {
						t.Errorf("%s -> %s: cause %v, want an illegal *TransitionError", from, to, err)
					}
				}
			}
			after, err := f.store.Get(context.Background(), f.clinic, enc.ID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(enc, after); diff != "" {
				t.Errorf("illegal moves changed the encounter (-before +after):\n%s", diff)
			}
			if n := len(f.events(enc.ID)); n != enc.EventCount {
				t.Errorf("%d events after illegal moves, want %d", n, enc.EventCount)
			}
		})
		for _, to := range encounter.Statuses {
			move, legal := legalMoves[[2]encounter.Status{from, to}]
			if !legal {
				continue
			}
			t.Run(fmt.Sprintf("%s to %s", from, to), func(t *testing.T) {
				t.Parallel()
				before := f.walk(f.checkIn(), pathTo(from)...)
				p := f.actor(move.role)
				ctx, requestID := reqCtx(p)
				got, ev, err := f.store.Transition(ctx, f.clinic, before.ID, to, "  "+move.reason+"  ", p)
				if err != nil {
					t.Fatalf("Transition: %v", err)
				}
				want := before
				want.Status = to
				want.Version = before.Version + 1
				want.EventCount = before.EventCount + 1
				want.UpdatedAt = ev.At
				want.StatusTimes = map[string]time.Time{}
				for k, v := range before.StatusTimes {
					want.StatusTimes[k] = v
				}
				if _, seen := before.StatusTimes[string(to)]; !seen {
					want.StatusTimes[string(to)] = ev.At
				}
				if to == encounter.StatusInConsultation {
					want.DoctorUID = p.UID
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("returned encounter (-want +got):\n%s", diff)
				}
				stored, err := f.store.Get(ctx, f.clinic, before.ID)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(want, stored); diff != "" {
					t.Errorf("stored encounter (-want +got):\n%s", diff)
				}
				wantEv := encounter.Event{Seq: want.EventCount, Action: wantAction[[2]encounter.Status{from, to}], From: from, To: to,
					ActorUID: p.UID, ActorRole: string(p.Role), Reason: move.reason, At: ev.At, RequestID: requestID}
				if to == encounter.StatusInConsultation {
					wantEv.DoctorUID = p.UID
				}
				evs := f.events(before.ID)
				if diff := cmp.Diff(wantEv, evs[len(evs)-1]); diff != "" {
					t.Errorf("appended event (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(ev, evs[len(evs)-1]); diff != "" {
					t.Errorf("returned event differs from stored (-returned +stored):\n%s", diff)
				}
				if ev.At.Before(before.UpdatedAt) {
					t.Errorf("event at %v before the previous change %v", ev.At, before.UpdatedAt)
				}
				_, open := f.openPointer(before.PatientID)
				if open != to.Open() {
					t.Errorf("open pointer present = %v after a move to %s", open, to)
				}
			})
		}
	}
}

func TestTransitionRefusals(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, tc := range []struct {
		name   string
		from   encounter.Status
		to     encounter.Status
		actor  auth.Principal
		reason string
		id     string // default: the encounter's
		status int
		code   string
		field  string
	}{
		{"receptionist may not triage", encounter.StatusWaiting, encounter.StatusTriaged, f.actor(auth.RoleReceptionist), "", "", http.StatusForbidden, apierr.CodePermissionDenied, ""},
		{"doctor may not cancel", encounter.StatusWaiting, encounter.StatusCancelled, f.actor(auth.RoleDoctor), "dup", "", http.StatusForbidden, apierr.CodePermissionDenied, ""},
		{"nurse may not complete", encounter.StatusInConsultation, encounter.StatusCompleted, f.actor(auth.RoleNurse), "", "", http.StatusForbidden, apierr.CodePermissionDenied, ""},
		{"cancel needs a reason", encounter.StatusWaiting, encounter.StatusCancelled, f.actor(auth.RoleReceptionist), "   ", "", http.StatusBadRequest, apierr.CodeInvalidArgument, "reason"},
		{"left without being seen needs a reason", encounter.StatusTriaged, encounter.StatusLeftWithout, f.actor(auth.RoleNurse), "", "", http.StatusBadRequest, apierr.CodeInvalidArgument, "reason"},
		{"retriage needs a reason", encounter.StatusInConsultation, encounter.StatusTriaged, f.actor(auth.RoleDoctor), "", "", http.StatusBadRequest, apierr.CodeInvalidArgument, "reason"},
		{"reason too long", encounter.StatusWaiting, encounter.StatusCancelled, f.actor(auth.RoleReceptionist), strings.Repeat("x", encounter.MaxReasonLength+1), "", http.StatusBadRequest, apierr.CodeInvalidArgument, "reason"},
		{"unknown status", encounter.StatusWaiting, "discharged", f.actor(auth.RoleNurse), "", "", http.StatusBadRequest, apierr.CodeInvalidArgument, "to"},
		{"actor of another clinic", encounter.StatusWaiting, encounter.StatusTriaged, auth.Principal{UID: "n2", Role: auth.RoleNurse, ClinicID: "other-" + f.clinic}, "", "", http.StatusNotFound, apierr.CodeNotFound, ""},
		{"no such encounter", encounter.StatusWaiting, encounter.StatusTriaged, f.actor(auth.RoleNurse), "", "no-such-encounter", http.StatusNotFound, apierr.CodeNotFound, ""},
		{"malformed id", encounter.StatusWaiting, encounter.StatusTriaged, f.actor(auth.RoleNurse), "", "a/b", http.StatusNotFound, apierr.CodeNotFound, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			enc := f.walk(f.checkIn(), pathTo(tc.from)...)
			id := enc.ID
			if tc.id != "" {
				id = tc.id
			}
			ctx, _ := reqCtx(tc.actor)
			_, _, err := f.store.Transition(ctx, f.clinic, id, tc.to, tc.reason, tc.actor)
			he := wantError(t, err, tc.status, tc.code)
			if tc.field != "" {
				fields := he.Details.(map[string]any)["fields"].([]apierr.FieldError)
				if len(fields) != 1 || fields[0].Field != tc.field {
					t.Errorf("fields = %+v, want %s", fields, tc.field)
				}
			}
			after, err := f.store.Get(ctx, f.clinic, enc.ID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(enc, after); diff != "" {
				t.Errorf("a refused transition changed the encounter (-before +after):\n%s", diff)
			}
		})
	}
}

func TestEventsRecordWhoWhenFromToWhy(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	nurse := auth.Principal{UID: "nurse-ana", Role: auth.RoleNurse, ClinicID: f.clinic}
	drA := auth.Principal{UID: "dr-a", Role: auth.RoleDoctor, ClinicID: f.clinic}
	drB := auth.Principal{UID: "dr-b", Role: auth.RoleDoctor, ClinicID: f.clinic}
	f.staffUser(drB.UID, auth.RoleDoctor, f.clinic, false)
	enc := f.checkIn()
	checkIn := f.events(enc.ID)[0]

	type move struct {
		actor  auth.Principal
		to     encounter.Status
		reason string
		opts   []encounter.TransitionOption
		want   encounter.Event
	}
	moves := []move{
		{nurse, encounter.StatusTriaged, "", nil, encounter.Event{Action: encounter.ActionTriage, From: "waiting", To: "triaged"}},
		{drA, encounter.StatusInConsultation, "", nil, encounter.Event{Action: encounter.ActionStart, From: "triaged", To: "in_consultation", DoctorUID: "dr-a"}},
		{drA, encounter.StatusTriaged, "awaiting CT result", nil, encounter.Event{Action: encounter.ActionRetriage, From: "in_consultation", To: "triaged", Reason: "awaiting CT result"}},
		{nurse, encounter.StatusInConsultation, "", []encounter.TransitionOption{encounter.AssignDoctor(drB.UID)}, encounter.Event{Action: encounter.ActionStart, From: "triaged", To: "in_consultation", DoctorUID: "dr-b"}},
		{drB, encounter.StatusCompleted, "", nil, encounter.Event{Action: encounter.ActionComplete, From: "in_consultation", To: "completed"}},
	}
	want := []encounter.Event{checkIn}
	for i, m := range moves {
		ctx, requestID := reqCtx(m.actor)
		var ev encounter.Event
		var err error
		enc, ev, err = f.store.Transition(ctx, f.clinic, enc.ID, m.to, m.reason, m.actor, m.opts...)
		if err != nil {
			t.Fatalf("move %d to %s: %v", i+1, m.to, err)
		}
		w := m.want
		w.Seq, w.ActorUID, w.ActorRole, w.RequestID, w.At = i+2, m.actor.UID, string(m.actor.Role), requestID, ev.At
		want = append(want, w)
	}
	got := f.events(enc.ID)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	for i := 1; i < len(got); i++ {
		if got[i].At.Before(got[i-1].At) {
			t.Errorf("event %d at %v is before event %d at %v", got[i].Seq, got[i].At, got[i-1].Seq, got[i-1].At)
		}
	}
	// statusTimes keep the first entry into each status.
	wantTimes := map[string]time.Time{"waiting": got[0].At, "triaged": got[1].At, "in_consultation": got[2].At, "completed": got[5].At}
	if diff := cmp.Diff(wantTimes, enc.StatusTimes); diff != "" {
		t.Errorf("statusTimes (-want +got):\n%s", diff)
	}
	if enc.Version != 6 || enc.EventCount != 6 || enc.DoctorUID != drB.UID {
		t.Errorf("final version %d events %d doctor %q, want 6 6 %q", enc.Version, enc.EventCount, enc.DoctorUID, drB.UID)
	}
	// Events are paged in order.
	ctx, _ := reqCtx(nurse)
	var paged []encounter.Event
	token := ""
	for pages := 0; ; pages++ {
		_, page, err := f.store.Events(ctx, f.clinic, enc.ID, 4, token)
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, page.Items...)
		if token = page.NextPageToken; token == "" {
			if pages != 1 {
				t.Errorf("6 events in pages of 4 took %d pages, want 2", pages+1)
			}
			break
		}
	}
	if diff := cmp.Diff(want, paged); diff != "" {
		t.Errorf("paged events (-want +got):\n%s", diff)
	}
	// Every change is audited with its reason.
	var transitions int
	for _, r := range f.auditRecords(f.clinic) {
		if r.Action == encounter.AuditTransition {
			transitions++
			if r.ResourceID != enc.ID || r.PatientID != enc.PatientID {
				t.Errorf("audit record %+v", r)
			}
			if r.ActorUID == drA.UID && r.Reason != "" && r.Reason != "awaiting CT result" {
				t.Errorf("audit reason %q", r.Reason)
			}
		}
	}
	if transitions != len(moves) {
		t.Errorf("%d transition audit records, want %d", transitions, len(moves))
	}
}

func TestOpenPointerFollowsTheEncounter(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, end := range []encounter.Status{encounter.StatusCompleted, encounter.StatusCancelled, encounter.StatusLeftWithout} {
		t.Run(string(end), func(t *testing.T) {
			t.Parallel()
			enc := f.checkIn()
			path := pathTo(end)
			// Open along the way (retriage included), gone at the end.
			for i, s := range path {
				enc = f.walk(enc, s)
				id, open := f.openPointer(enc.PatientID)
				if last := i == len(path)-1; last == open || (open && id != enc.ID) {
					t.Fatalf("after move to %s: pointer %q present %v", s.to, id, open)
				}
			}
			// The patient may check in again.
			p := f.actor(auth.RoleReceptionist)
			ctx, _ := reqCtx(p)
			next, err := f.store.CheckIn(ctx, p, encounter.CheckIn{PatientID: enc.PatientID, ChiefComplaint: "back again", ArrivalMode: "walk_in"}, commitmark.Marker{})
			if err != nil {
				t.Fatalf("check-in after %s: %v", end, err)
			}
			if id, _ := f.openPointer(enc.PatientID); id != next.ID {
				t.Errorf("pointer %q, want the new encounter %q", id, next.ID)
			}
		})
	}
	t.Run("retriage keeps it open", func(t *testing.T) {
		t.Parallel()
		enc := f.walk(f.checkIn(), append(pathTo(encounter.StatusInConsultation), step{encounter.StatusTriaged, auth.RoleDoctor, "labs"})...)
		if id, open := f.openPointer(enc.PatientID); !open || id != enc.ID {
			t.Errorf("pointer %q %v after retriage", id, open)
		}
	})
}

func TestTransitionIfVersion(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	enc := f.checkIn()
	nurse := f.actor(auth.RoleNurse)
	ctx, _ := reqCtx(nurse)

	_, _, err := f.store.Transition(ctx, f.clinic, enc.ID, encounter.StatusTriaged, "", nurse, encounter.IfVersion(enc.Version+1))
	he := wantError(t, err, http.StatusPreconditionFailed, apierr.CodeFailedPrecondition)
	if diff := cmp.Diff(map[string]any{"reason": apierr.ReasonStaleVersion, "currentVersion": int64(1)}, he.Details); diff != "" {
		t.Errorf("details (-want +got):\n%s", diff)
	}
	got, _, err := f.store.Transition(ctx, f.clinic, enc.ID, encounter.StatusTriaged, "", nurse, encounter.IfVersion(enc.Version))
	if err != nil {
		t.Fatalf("matching version: %v", err)
	}
	if got.Version != 2 {
		t.Errorf("version = %d, want 2", got.Version)
	}
	// The version the client read is now stale, even for a legal move.
	_, _, err = f.store.Transition(ctx, f.clinic, enc.ID, encounter.StatusCancelled, "gone home", nurse, encounter.IfVersion(enc.Version))
	wantError(t, err, http.StatusPreconditionFailed, apierr.CodeFailedPrecondition)
}

func TestDoctorAssignment(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	doctor := f.actor(auth.RoleDoctor)
	f.staffUser("dr-on-duty", auth.RoleDoctor, f.clinic, false)
	f.staffUser("dr-elsewhere", auth.RoleDoctor, "other-"+f.clinic, false)
	f.staffUser("dr-disabled", auth.RoleDoctor, f.clinic, true)
	f.staffUser("receptionist-1", auth.RoleReceptionist, f.clinic, false)

	for _, tc := range []struct {
		name       string
		from       encounter.Status
		to         encounter.Status
		actor      auth.Principal
		doctorUID  string
		wantDoctor string
		status     int
	}{
		{name: "doctor claims", actor: doctor, wantDoctor: doctor.UID},
		{name: "doctor names themselves", actor: doctor, doctorUID: doctor.UID, wantDoctor: doctor.UID},
		{name: "doctor names another doctor", actor: doctor, doctorUID: "dr-on-duty", status: http.StatusForbidden},
		{name: "nurse assigns a doctor", actor: f.actor(auth.RoleNurse), doctorUID: "dr-on-duty", wantDoctor: "dr-on-duty"},
		{name: "admin assigns a doctor", actor: f.actor(auth.RoleAdmin), doctorUID: "dr-on-duty", wantDoctor: "dr-on-duty"},
		{name: "nurse names no one", actor: f.actor(auth.RoleNurse), status: http.StatusBadRequest},
		{name: "nurse names a receptionist", actor: f.actor(auth.RoleNurse), doctorUID: "receptionist-1", status: http.StatusBadRequest},
		{name: "nurse names a doctor of another clinic", actor: f.actor(auth.RoleNurse), doctorUID: "dr-elsewhere", status: http.StatusBadRequest},
		{name: "nurse names a disabled doctor", actor: f.actor(auth.RoleNurse), doctorUID: "dr-disabled", status: http.StatusBadRequest},
		{name: "nurse names an unknown uid", actor: f.actor(auth.RoleNurse), doctorUID: "nobody", status: http.StatusBadRequest},
		{name: "doctor on another move", from: encounter.StatusWaiting, to: encounter.StatusTriaged, actor: f.actor(auth.RoleNurse), doctorUID: "dr-on-duty", status: http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			from, to := tc.from, tc.to
			if from == "" {
				from, to = encounter.StatusTriaged, encounter.StatusInConsultation
			}
			enc := f.walk(f.checkIn(), pathTo(from)...)
			var opts []encounter.TransitionOption
			if tc.doctorUID != "" {
				opts = append(opts, encounter.AssignDoctor(tc.doctorUID))
			}
			ctx, _ := reqCtx(tc.actor)
			got, ev, err := f.store.Transition(ctx, f.clinic, enc.ID, to, "", tc.actor, opts...)
			if tc.status != 0 {
				var he *apierr.Error
				if !errors.As(err, &he) || httpx.FromAPI(he).Status != tc.status {
					t.Fatalf("err = %v, want %d", err, tc.status)
				}
				return
			}
			if err != nil {
				t.Fatalf("Transition: %v", err)
			}
			if got.DoctorUID != tc.wantDoctor || ev.DoctorUID != tc.wantDoctor {
				t.Errorf("doctor = %q (event %q), want %q", got.DoctorUID, ev.DoctorUID, tc.wantDoctor)
			}
		})
	}
}

func TestConcurrentTransitionsApplyOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	enc := f.walk(f.checkIn(), pathTo(encounter.StatusTriaged)...)
	// Two doctors claim the same patient while a nurse records that they left.
	actors := []struct {
		p      auth.Principal
		to     encounter.Status
		reason string
	}{
		{auth.Principal{UID: "dr-1", Role: auth.RoleDoctor, ClinicID: f.clinic}, encounter.StatusInConsultation, ""},
		{auth.Principal{UID: "dr-2", Role: auth.RoleDoctor, ClinicID: f.clinic}, encounter.StatusInConsultation, ""},
		{f.actor(auth.RoleNurse), encounter.StatusLeftWithout, "not in the waiting room"},
	}
	errs := make([]error, len(actors))
	var wg sync.WaitGroup
	for i, a := range actors {
		wg.Go(func() {
			ctx, _ := reqCtx(a.p)
			_, _, errs[i] = f.store.Transition(ctx, f.clinic, enc.ID, a.to, a.reason, a.p)
		})
	}
	wg.Wait()
	var ok int
	for i, err := range errs {
		if err == nil {
			ok++
			continue
		}
		var te *encounter.TransitionError
		if !errors.As(err, &te) || te.Kind != encounter.ErrIllegal {
			t.Errorf("actor %d: %v, want success or an illegal move", i, err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d transitions succeeded, want exactly 1: %v", ok, errs)
	}
	evs := f.events(enc.ID)
	if len(evs) != 3 || evs[2].From != encounter.StatusTriaged {
		t.Errorf("events = %+v, want check-in, triage and one more from triaged", evs)
	}
}

func TestTransitionTxInCallersTransaction(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	nurse := f.actor(auth.RoleNurse)
	tri := encounter.Triage{Level: 2, ProposedLevel: 2, Confirmed: true, AssessmentID: "a1", AssessedBy: nurse.UID, EngineVersion: "esi-4"}
	assessments := f.fs.Collection("clinics").Doc(f.clinic).Collection("assessments")

	t.Run("commits with the caller's writes", func(t *testing.T) {
		t.Parallel()
		enc := f.checkIn()
		ctx, _ := reqCtx(nurse)
		tri := tri
		tri.AssessedAt = enc.ArrivedAt
		var got encounter.Encounter
		var ev encounter.Event
		err := f.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
			if _, err := tx.Get(assessments.Doc("a1-" + enc.ID)); err == nil {
				return errors.New("assessment exists")
			}
			var err error
			got, ev, err = f.store.TransitionTx(ctx, tx, f.clinic, enc.ID, encounter.StatusTriaged, "", nurse, encounter.WithTriage(tri))
			if err != nil {
				return err
			}
			return tx.Create(assessments.Doc("a1-"+enc.ID), map[string]any{"level": 2})
		})
		if err != nil {
			t.Fatalf("transaction: %v", err)
		}
		f.store.Announce(ctx, got, ev)
		stored, err := f.store.Get(ctx, f.clinic, enc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if stored.Status != encounter.StatusTriaged || stored.Triage == nil || *stored.Triage != tri {
			t.Errorf("stored = %+v triage %+v, want triaged with %+v", stored, stored.Triage, tri)
		}
		if diff := cmp.Diff(got, stored); diff != "" {
			t.Errorf("returned vs stored (-returned +stored):\n%s", diff)
		}
		if _, err := assessments.Doc("a1-" + enc.ID).Get(ctx); err != nil {
			t.Errorf("caller's document: %v", err)
		}
	})
	t.Run("rolls back with the caller", func(t *testing.T) {
		t.Parallel()
		enc := f.checkIn()
		ctx, _ := reqCtx(nurse)
		boom := errors.New("caller failed after the transition")
		err := f.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
			if _, _, err := f.store.TransitionTx(ctx, tx, f.clinic, enc.ID, encounter.StatusTriaged, "", nurse); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("transaction err = %v", err)
		}
		after, err := f.store.Get(ctx, f.clinic, enc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(enc, after); diff != "" {
			t.Errorf("rolled-back transition changed the encounter (-before +after):\n%s", diff)
		}
		if n := len(f.events(enc.ID)); n != 1 {
			t.Errorf("%d events after a rollback, want 1", n)
		}
	})
}

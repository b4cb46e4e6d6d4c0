package encounter

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/shared/auth"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		from, to Status
		role     auth.Role
		reason   string
		want     Action
		kind     ErrorKind
	}{
		{StatusWaiting, StatusTriaged, auth.RoleNurse, "", ActionTriage, ""},
		{StatusWaiting, StatusTriaged, auth.RoleDoctor, "", ActionTriage, ""},
		{StatusWaiting, StatusTriaged, auth.RoleReceptionist, "", "", ErrForbidden},
		{StatusTriaged, StatusInConsultation, auth.RoleDoctor, "", ActionStart, ""},
		{StatusTriaged, StatusInConsultation, auth.RoleNurse, "", ActionStart, ""},
		{StatusTriaged, StatusInConsultation, auth.RoleReceptionist, "", "", ErrForbidden},
		{StatusWaiting, StatusInConsultation, auth.RoleDoctor, "", "", ErrIllegal},
		{StatusInConsultation, StatusCompleted, auth.RoleDoctor, "", ActionComplete, ""},
		{StatusInConsultation, StatusCompleted, auth.RoleNurse, "", "", ErrForbidden},
		{StatusInConsultation, StatusTriaged, auth.RoleDoctor, "awaiting labs", ActionRetriage, ""},
		{StatusInConsultation, StatusTriaged, auth.RoleDoctor, "  ", "", ErrReasonRequired},
		{StatusWaiting, StatusCancelled, auth.RoleReceptionist, "duplicate registration", ActionCancel, ""},
		{StatusWaiting, StatusCancelled, auth.RoleReceptionist, "", "", ErrReasonRequired},
		{StatusTriaged, StatusLeftWithout, auth.RoleNurse, "not in waiting room at call", ActionLWBS, ""},
		{StatusTriaged, StatusLeftWithout, auth.RoleDoctor, "gone", "", ErrForbidden},
		{StatusInConsultation, StatusCancelled, auth.RoleAdmin, "x", "", ErrIllegal},
		{StatusCompleted, StatusWaiting, auth.RoleAdmin, "", "", ErrIllegal},
		{StatusCancelled, StatusTriaged, auth.RoleNurse, "", "", ErrIllegal},
		{StatusWaiting, Status("discharged"), auth.RoleNurse, "", "", ErrUnknownStatus},
	} {
		got, err := Check(tc.from, tc.to, tc.role, tc.reason)
		var te *TransitionError
		switch {
		case tc.kind == "" && err != nil:
			t.Errorf("%s->%s as %s: unexpected error %v", tc.from, tc.to, tc.role, err)
		case tc.kind != "" && (!errors.As(err, &te) || te.Kind != tc.kind):
			t.Errorf("%s->%s as %s: err %v, want kind %s", tc.from, tc.to, tc.role, err, tc.kind)
		case got != tc.want:
			t.Errorf("%s->%s as %s: action %q, want %q", tc.from, tc.to, tc.role, got, tc.want)
		}
	}
}

func TestIllegalTransitionListsAllowedStates(t *testing.T) {
	t.Parallel()
	_, err := Check(StatusWaiting, StatusCompleted, auth.RoleDoctor, "")
	var te *TransitionError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v", err)
	}
	want := []Status{StatusTriaged, StatusCancelled, StatusLeftWithout}
	if diff := cmp.Diff(want, te.Allowed); diff != "" {
		t.Errorf("allowed (-want +got):\n%s", diff)
	}
	if got := Next(StatusCompleted); len(got) != 0 {
		t.Errorf("completed is terminal, Next = %v", got)
	}
}

func TestStatusPredicates(t *testing.T) {
	t.Parallel()
	open := map[Status]bool{StatusWaiting: true, StatusTriaged: true, StatusInConsultation: true}
	queued := map[Status]bool{StatusWaiting: true, StatusTriaged: true}
	for _, s := range Statuses {
		if s.Open() != open[s] || s.Queued() != queued[s] || !s.Valid() {
			t.Errorf("%s: open %v queued %v", s, s.Open(), s.Queued())
		}
	}
	if EventID(7) != "000007" {
		t.Errorf("EventID(7) = %q", EventID(7))
	}
}

package encounter

import (
	"fmt"
	"slices"
	"strings"

	"github.com/medi-os/medi/shared/auth"
)

// Action names a transition (the verb a client uses and the event records).
type Action string

// Actions.
const (
	ActionCheckIn  Action = "check_in" // (none) -> waiting
	ActionTriage   Action = "triage"   // waiting -> triaged
	ActionStart    Action = "start"    // triaged -> in_consultation (doctor claims, or is assigned)
	ActionRetriage Action = "retriage" // in_consultation -> triaged (awaiting results)
	ActionComplete Action = "complete" // in_consultation -> completed
	ActionCancel   Action = "cancel"   // waiting|triaged -> cancelled
	ActionLWBS     Action = "left_without_being_seen"
)

// rule is one allowed transition.
type rule struct {
	from, to       Status
	action         Action
	roles          []auth.Role
	reasonRequired bool
}

// rules is the encounter state machine as a table; anything not listed is illegal.
//
//	waiting --triage--> triaged --start--> in_consultation --complete--> completed
//	                      ^-------retriage-------|
//	waiting|triaged --cancel / left_without_being_seen--> (reason required)
var rules = []rule{
	{StatusWaiting, StatusTriaged, ActionTriage, []auth.Role{auth.RoleNurse, auth.RoleDoctor}, false},
	{StatusTriaged, StatusInConsultation, ActionStart, []auth.Role{auth.RoleDoctor, auth.RoleNurse, auth.RoleAdmin}, false},
	{StatusInConsultation, StatusTriaged, ActionRetriage, []auth.Role{auth.RoleDoctor, auth.RoleNurse}, true},
	{StatusInConsultation, StatusCompleted, ActionComplete, []auth.Role{auth.RoleDoctor}, false},
	{StatusWaiting, StatusCancelled, ActionCancel, []auth.Role{auth.RoleReceptionist, auth.RoleNurse, auth.RoleAdmin}, true},
	{StatusTriaged, StatusCancelled, ActionCancel, []auth.Role{auth.RoleReceptionist, auth.RoleNurse, auth.RoleAdmin}, true},
	{StatusWaiting, StatusLeftWithout, ActionLWBS, []auth.Role{auth.RoleReceptionist, auth.RoleNurse, auth.RoleAdmin}, true},
	{StatusTriaged, StatusLeftWithout, ActionLWBS, []auth.Role{auth.RoleReceptionist, auth.RoleNurse, auth.RoleAdmin}, true},
}

// CheckInRoles may create encounters.
var CheckInRoles = []auth.Role{auth.RoleReceptionist, auth.RoleNurse, auth.RoleAdmin}

// MaxReasonLength bounds a stated reason.
const MaxReasonLength = 500

// TransitionError says why a transition is refused; its Kind maps to the HTTP status.
type TransitionError struct {
	Kind    ErrorKind
	From    Status
	To      Status
	Allowed []Status // legal next states from From (for 409 responses)
	Message string
}

// ErrorKind classifies a refused transition.
type ErrorKind string

// Kinds of refusal.
const (
	ErrIllegal        ErrorKind = "illegal"         // 409: not a legal move from this state
	ErrForbidden      ErrorKind = "forbidden"       // 403: legal, but not for this role
	ErrReasonRequired ErrorKind = "reason_required" // 400: a reason must be given
	ErrUnknownStatus  ErrorKind = "unknown_status"  // 400: not a status at all
)

func (e *TransitionError) Error() string { return e.Message }

// Next lists the states reachable from s by any role, in table order.
func Next(s Status) []Status {
	var out []Status
	for _, r := range rules {
		if r.from == s && !slices.Contains(out, r.to) {
			out = append(out, r.to)
		}
	}
	return out
}

// Check decides whether role may move an encounter from -> to with reason, and returns
// the action it is. Reasons are trimmed; cancel, left-without-being-seen and retriage
// need one.
func Check(from, to Status, role auth.Role, reason string) (Action, error) {
	if !to.Valid() {
		return "", &TransitionError{Kind: ErrUnknownStatus, From: from, To: to,
			Message: "unknown status; use one of " + joinStatuses(Statuses)} // the value is not echoed
	}
	for _, r := range rules {
		if r.from != from || r.to != to {
			continue
		}
		if !slices.Contains(r.roles, role) {
			return "", &TransitionError{Kind: ErrForbidden, From: from, To: to,
				Message: fmt.Sprintf("role %s may not move an encounter from %s to %s", role, from, to)}
		}
		reason = strings.TrimSpace(reason)
		if r.reasonRequired && reason == "" {
			return "", &TransitionError{Kind: ErrReasonRequired, From: from, To: to,
				Message: fmt.Sprintf("a reason is required to move an encounter to %s", to)}
		}
		if len(reason) > MaxReasonLength {
			return "", &TransitionError{Kind: ErrReasonRequired, From: from, To: to,
				Message: fmt.Sprintf("reason must be at most %d characters", MaxReasonLength)}
		}
		return r.action, nil
	}
	return "", &TransitionError{Kind: ErrIllegal, From: from, To: to, Allowed: Next(from),
		Message: fmt.Sprintf("cannot move an encounter from %s to %s", from, to)}
}

// EventID is the document id of event seq (zero-padded so ids sort in order).
func EventID(seq int) string { return fmt.Sprintf("%06d", seq) }

// joinStatuses lists statuses for a message.
func joinStatuses(ss []Status) string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = string(s)
	}
	return strings.Join(out, ", ")
}

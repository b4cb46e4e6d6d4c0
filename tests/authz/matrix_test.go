// Package authz is the authorization matrix of the suite (docs/reliability.md,
// "Authorization matrix"): every route of every HTTP function registered in functions.go,
// called by every staff role of the clinic that owns the data, by every role of another
// clinic, with a revoked token and with no token, against the running local stack.
//
// The expected outcome of each cell follows from one row of [matrix]. A route without a
// row (or a row without a route) fails TestEveryRouteHasARow, so no endpoint ships without
// its authorization being written down and tested.
package authz

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/medi-os/medi/functions/auditseal"
	"github.com/medi-os/medi/functions/auth"
	"github.com/medi-os/medi/functions/encounteroutbox"
	"github.com/medi-os/medi/functions/encounters"
	"github.com/medi-os/medi/functions/mailer"
	"github.com/medi-os/medi/functions/patients"
	"github.com/medi-os/medi/functions/retention"
	"github.com/medi-os/medi/functions/scribe"
	"github.com/medi-os/medi/functions/scribesweeper"
	"github.com/medi-os/medi/functions/scribeworker"
	"github.com/medi-os/medi/functions/summarize"
	"github.com/medi-os/medi/functions/summarizeworker"
	"github.com/medi-os/medi/functions/triage"
	roles "github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/httpx"
)

// routeLister is what the matrix needs of an HTTP function.
type routeLister interface {
	Name() string
	Routes(ctx context.Context) ([]httpx.Route, error)
}

// httpFunctions are the HTTP functions of functions.go, by the expression that registers
// them there (app.RegisterHTTP(<expr>)); TestEveryRouteHasARow compares the two lists.
var httpFunctions = map[string]routeLister{
	"auth.Function":            auth.Function,
	"patients.Function":        patients.Function,
	"encounters.Function":      encounters.Function,
	"triage.Function":          triage.Function,
	"scribe.Function":          scribe.Function,
	"scribeworker.Function":    scribeworker.Function,
	"retention.Function":       retention.Function,
	"summarize.Function":       summarize.Function,
	"summarizeworker.Function": summarizeworker.Function,
	"mailer.Function":          mailer.Function,
	"auditseal.Function":       auditseal.Function,
	"encounteroutbox.Function": encounteroutbox.Function,
	"scribesweeper.Function":   scribesweeper.Function,
}

// Access says how a route authenticates its caller.
type Access int

const (
	// Public routes need no credentials (health, password reset, session sign-in with
	// the ID token in the body, the dev outbox).
	Public Access = iota
	// Staff routes need a Firebase ID token (or session cookie) whose role is in Row.Roles.
	Staff
	// Worker routes are called by Cloud Tasks or Cloud Scheduler only: the OIDC token of
	// the invoker service account in staging/prod (tasks.OIDCVerifier), the shared
	// X-Medi-Task-Secret header on the local stack (tasks.SecretVerifier). A staff ID
	// token is not a task delivery: 401.
	Worker
)

func (a Access) String() string {
	return [...]string{"public", "staff", "worker"}[a]
}

// Scope says how a route ties a request to a clinic.
type Scope int

const (
	// ScopeNone: no clinic data is involved (health, the stateless triage engine).
	ScopeNone Scope = iota
	// ScopeResource: the path or body names a resource (patient, encounter, note,
	// session, staff member, grant) of the target clinic. A caller of another clinic
	// gets exactly 404, as for a missing id; a caller of the clinic never gets 404.
	ScopeResource
	// ScopeCaller: the caller's own clinic, from the token (lists, searches, creation).
	// A caller of another clinic is served their own clinic and must see none of the
	// target clinic's fixture ids.
	ScopeCaller
)

func (s Scope) String() string {
	return [...]string{"none", "resource", "caller"}[s]
}

// Kind is who makes the call of one cell.
type Kind string

// Kinds of caller.
const (
	Own     Kind = "own"     // a staff member of the clinic whose ids the request names
	Other   Kind = "other"   // a staff member of another clinic, same ids
	Revoked Kind = "revoked" // a staff member of the clinic whose refresh tokens were revoked
	NoToken Kind = "none"    // no Authorization header
	Task    Kind = "task"    // a genuine task delivery (worker routes only; dev secret)
	Gateway Kind = "gateway" // a task delivery sent to the public load balancer (worker routes only)
)

// Outcome is what a cell expects.
type Outcome string

// Outcomes.
const (
	// Allowed: the authorization checks let the call through. Any documented status
	// except 401 and 403 (and no 5xx); for a ScopeResource route called by its own
	// clinic, not 404 either.
	Allowed         Outcome = "allowed"
	Unauthenticated Outcome = "401"
	Forbidden       Outcome = "403"
	NotFound        Outcome = "404"
	Invalid         Outcome = "400"
)

// Row is the expected authorization of one route.
type Row struct {
	Access Access
	// Roles pass the route's role check (Staff); a role checked by the handler before it
	// looks the resource up counts as the route's (e.g. approving a note).
	Roles []roles.Role
	// ActionRoles, when set, may do what the body asks, which the handler checks after
	// finding the resource (so another clinic's caller gets 404 whatever their role).
	ActionRoles []roles.Role
	Scope       Scope
	// Path is the path called, with {patient}, {family}, {encounter}, {note}, {session},
	// {staff}, {doctor} and {grant} replaced by the target clinic's fixtures; it may carry a query.
	Path string
	// Body returns the request body (nil: none). It gets the target clinic's fixture ids
	// and the caller (zero for NoToken).
	Body func(ids map[string]string, caller staffUser) any
	// Header adds request headers.
	Header map[string]string
	// Override replaces the outcome of a kind of caller whose role passes the role check
	// (Public rows: any caller), with the reason in Why.
	Override map[Kind]Outcome
	// Shows is a fixture key (e.g. "encounter") whose id a 2xx answer to the own clinic
	// must contain: it proves the other clinic's empty answer is not an empty list for all.
	Shows string
	// FreshEncounter gives every own-clinic call an encounter of its own, checked in and
	// waiting (for state changes whose legality depends on the current status).
	FreshEncounter bool
	// Disposable makes own- and other-clinic calls with a new user of the role (the call
	// revokes the caller's tokens).
	Disposable bool
	// Serial runs the row's cells one after another (say Why).
	Serial bool
	// Stream: the answer is a server-sent event stream (only its status and headers are read).
	Stream bool
	// Why explains overrides and anything surprising.
	Why string
}

var (
	allRoles  = roles.Roles
	adminOnly = []roles.Role{roles.RoleAdmin}
	clinical  = []roles.Role{roles.RoleNurse, roles.RoleDoctor}
	doctor    = []roles.Role{roles.RoleDoctor}
	frontDesk = []roles.Role{roles.RoleReceptionist, roles.RoleNurse, roles.RoleAdmin}
)

var health = Row{Access: Public, Path: "/v1/health"}

func workerRow(path string) Row {
	return Row{Access: Worker, Path: path, Body: func(map[string]string, staffUser) any { return map[string]any{} },
		Why: "staff ID tokens are not task deliveries (401); the load balancer does not route to workers (404)"}
}

// matrix is the expected authorization of every route of every registered HTTP
// function: function name -> "METHOD /pattern" (as the function's router lists it) -> row.
var matrix = map[string]map[string]Row{
	"auth": {
		"GET /v1/health": health,
		"GET /v1/me":     {Access: Staff, Roles: allRoles, Scope: ScopeCaller},
		"POST /v1/staff": {Access: Staff, Roles: adminOnly, Scope: ScopeCaller,
			Body: func(ids map[string]string, _ staffUser) any {
				return map[string]any{"email": uniqueEmail("invitee"), "displayName": "Authz Invitee", "role": "nurse", "clinicId": ids["clinic"]}
			},
			Override: map[Kind]Outcome{Other: Forbidden},
			Why:      "the body names the target clinic: an admin of another clinic is refused with 403 (admins add staff to their own clinic only)"},
		"GET /v1/staff": {Access: Staff, Roles: adminOnly, Scope: ScopeCaller, Shows: "staff"},
		"GET /v1/staff/doctors": {Access: Staff, Roles: allRoles, Scope: ScopeCaller, Shows: "doctor",
			Why: "the doctor directory of the caller's clinic (token claim) for every role: the own clinic's callers see its active doctor; " +
				"another clinic's get 200 with their own clinic's doctors, never this one's (no fixture id of the target clinic in the answer)"},
		"GET /v1/staff/{uid}": {Access: Staff, Roles: adminOnly, Scope: ScopeResource, Path: "/v1/staff/{staff}"},
		"PATCH /v1/staff/{uid}": {Access: Staff, Roles: adminOnly, Scope: ScopeResource, Path: "/v1/staff/{staff}",
			Body: func(map[string]string, staffUser) any { return map[string]any{"displayName": "Authz Checked"} }},
		"DELETE /v1/staff/{uid}/sessions": {Access: Staff, Roles: adminOnly, Scope: ScopeResource, Path: "/v1/staff/{staff}/sessions"},
		"POST /v1/auth/password-reset": {Access: Public,
			Body:   func(map[string]string, staffUser) any { return map[string]any{"email": uniqueEmail("reset")} },
			Serial: true,
			Why:    "202 whether or not the address has an account; serial: one rate-limit counter per client IP (Firestore transactions on one document)"},
		"POST /v1/auth/email-verification": {Access: Staff, Roles: allRoles, Scope: ScopeCaller},
		"POST /v1/sessions": {Access: Public,
			Body:     func(_ map[string]string, c staffUser) any { return map[string]any{"idToken": c.Token} },
			Override: map[Kind]Outcome{NoToken: Invalid, Revoked: Unauthenticated},
			Serial:   true,
			Why:      "the ID token is in the body: none is 400, a revoked one 401; serial: one rate-limit counter per client IP"},
		"DELETE /v1/sessions": {Access: Staff, Roles: allRoles, Scope: ScopeCaller, Disposable: true,
			Why: "logs the caller out everywhere (revokes their tokens): each call uses a user of its own"},
		"POST /v1/access/break-glass": {Access: Staff, Roles: clinical, Scope: ScopeCaller,
			Body: func(ids map[string]string, _ staffUser) any {
				return map[string]any{"patientId": ids["patient"], "reason": "Authorization matrix check"}
			},
			Override: map[Kind]Outcome{Own: NotFound, Other: NotFound},
			Why:      "emergency access reaches only other clinics of the caller's organisation: the own clinic's patient, or one of an unrelated clinic, is 404 and no grant is made"},
		"GET /v1/access/break-glass":         {Access: Staff, Roles: adminOnly, Scope: ScopeCaller, Shows: "grant"},
		"DELETE /v1/access/break-glass/{id}": {Access: Staff, Roles: adminOnly, Scope: ScopeResource, Path: "/v1/access/break-glass/{grant}"},
		"DELETE /v1/access/break-glass/{id}/block": {Access: Staff, Roles: adminOnly, Scope: ScopeResource, Path: "/v1/access/break-glass/{grant}/block",
			Why: "lifts the block a revoked grant puts on its grantee's new grants; with nothing to lift it changes nothing"},
		"GET /v1/audit": {Access: Staff, Roles: adminOnly, Scope: ScopeCaller, Path: "/v1/audit?action=staff.create", Shows: "staff",
			Why: "filtered to one action: summary reads are audited with outcome fresh/stale/pending, which the contract's enum lacks (reported)"},
		"GET /v1/audit/verify": {Access: Staff, Roles: adminOnly, Scope: ScopeCaller},
		"GET /v1/dev/outbox": {Access: Public, Path: "/v1/dev/outbox?to=nobody%40medi.test",
			Why: "dev tier only (not registered in staging/prod): the local stack's mail outbox"},
	},
	"patients": {
		"GET /v1/health": health,
		"POST /v1/patients": {Access: Staff, Roles: frontDesk, Scope: ScopeCaller,
			Body: func(map[string]string, staffUser) any { return newPatient("Matrix" + randomHex(4)) }},
		"POST /v1/patients/search": {Access: Staff, Roles: allRoles, Scope: ScopeCaller, Shows: "patient",
			Body: func(ids map[string]string, _ staffUser) any { return map[string]any{"name": ids["family"]} }},
		"GET /v1/patients/{id}": {Access: Staff, Roles: allRoles, Scope: ScopeResource, Path: "/v1/patients/{patient}"},
		"PATCH /v1/patients/{id}": {Access: Staff, Roles: allRoles, Scope: ScopeResource, Path: "/v1/patients/{patient}",
			Header: map[string]string{"If-Match": `"1"`},
			Body:   func(map[string]string, staffUser) any { return map[string]any{"phone": "+44 20 7946 0001"} }},
		"GET /v1/patients/{id}/encounters": {Access: Staff, Roles: allRoles, Scope: ScopeResource,
			Path: "/v1/patients/{patient}/encounters", Shows: "encounter"},
	},
	"queue": {
		"GET /v1/health": health,
		"POST /v1/encounters": {Access: Staff, Roles: frontDesk, Scope: ScopeResource,
			Body: func(ids map[string]string, _ staffUser) any {
				return map[string]any{"patientId": ids["patient"], "chiefComplaint": "authorization check", "arrivalMode": "walk_in"}
			},
			Why: "the body names the patient: another clinic's patient is 404; the own patient already has an open encounter (409)"},
		"GET /v1/encounters":             {Access: Staff, Roles: allRoles, Scope: ScopeCaller, Shows: "encounter"},
		"GET /v1/encounters/{id}":        {Access: Staff, Roles: allRoles, Scope: ScopeResource, Path: "/v1/encounters/{encounter}"},
		"GET /v1/encounters/{id}/events": {Access: Staff, Roles: allRoles, Scope: ScopeResource, Path: "/v1/encounters/{encounter}/events"},
		"POST /v1/encounters/{id}/transitions": {Access: Staff, Roles: allRoles, ActionRoles: frontDesk, Scope: ScopeResource,
			Path: "/v1/encounters/{encounter}/transitions", FreshEncounter: true,
			Body: func(map[string]string, staffUser) any {
				return map[string]any{"to": "cancelled", "reason": "registered twice"}
			},
			Why: "every staff role reaches the state machine; waiting -> cancelled is for receptionist, nurse and admin (a doctor gets 403)"},
		"GET /v1/queue":        {Access: Staff, Roles: allRoles, Scope: ScopeCaller},
		"GET /v1/queue/stream": {Access: Staff, Roles: allRoles, Scope: ScopeCaller, Stream: true},
	},
	"triage": {
		"GET /v1/health": health,
		"POST /v1/triage/assess": {Access: Staff, Roles: []roles.Role{roles.RoleNurse, roles.RoleDoctor, roles.RoleAdmin}, Scope: ScopeNone,
			Body: func(map[string]string, staffUser) any { return triageInput() }},
		"POST /v1/triage/{encounterId}": {Access: Staff, Roles: clinical, Scope: ScopeResource, Path: "/v1/triage/{encounter}",
			Body: func(map[string]string, staffUser) any { return triageRecordInput() }},
		"GET /v1/triage/{encounterId}": {Access: Staff, Roles: clinical, Scope: ScopeResource, Path: "/v1/triage/{encounter}"},
		"POST /v1/triage/{encounterId}/confirm": {Access: Staff, Roles: clinical, Scope: ScopeResource, Path: "/v1/triage/{encounter}/confirm",
			Body: func(map[string]string, staffUser) any { return map[string]any{"level": 3} }},
	},
	"scribe": {
		"GET /v1/health": health,
		"POST /v1/scribe/sessions": {Access: Staff, Roles: clinical, Scope: ScopeResource,
			Body: func(ids map[string]string, _ staffUser) any {
				return map[string]any{"encounterId": ids["encounter"], "contentType": "text/vtt", "sizeBytes": 100}
			}},
		"GET /v1/scribe/sessions/{id}": {Access: Staff, Roles: clinical, Scope: ScopeResource, Path: "/v1/scribe/sessions/{session}"},
		"GET /v1/scribe/sessions/{id}/transcript": {Access: Staff, Roles: doctor, Scope: ScopeResource, Path: "/v1/scribe/sessions/{session}/transcript",
			Why: "the doctor checks the draft's evidence against the transcript; nurses upload but do not read it back"},
		"POST /v1/notes/search": {Access: Staff, Roles: clinical, Scope: ScopeCaller, Shows: "note",
			Body: func(ids map[string]string, _ staffUser) any { return map[string]any{"encounterId": ids["encounter"]} }},
		"GET /v1/notes/{id}": {Access: Staff, Roles: clinical, Scope: ScopeResource, Path: "/v1/notes/{note}"},
		"PUT /v1/notes/{id}": {Access: Staff, Roles: clinical, Scope: ScopeResource, Path: "/v1/notes/{note}",
			Body: func(map[string]string, staffUser) any { return noteEdit() }},
		"GET /v1/notes/{id}/versions":     {Access: Staff, Roles: clinical, Scope: ScopeResource, Path: "/v1/notes/{note}/versions"},
		"GET /v1/notes/{id}/versions/{n}": {Access: Staff, Roles: clinical, Scope: ScopeResource, Path: "/v1/notes/{note}/versions/1"},
		"GET /v1/notes/{id}/fhir":         {Access: Staff, Roles: clinical, Scope: ScopeResource, Path: "/v1/notes/{note}/fhir"},
		"POST /v1/notes/{id}/submit": {Access: Staff, Roles: clinical, Scope: ScopeResource, Path: "/v1/notes/{note}/submit",
			Body: func(map[string]string, staffUser) any { return map[string]any{} }},
		"POST /v1/notes/{id}/approve": {Access: Staff, Roles: doctor, Scope: ScopeResource, Path: "/v1/notes/{note}/approve",
			Body: func(map[string]string, staffUser) any { return map[string]any{} },
			Why:  "nurses pass the route's role check and are refused (403, audited as denied) by the note store"},
		"POST /v1/notes/{id}/reject": {Access: Staff, Roles: doctor, Scope: ScopeResource, Path: "/v1/notes/{note}/reject",
			Body: func(map[string]string, staffUser) any { return map[string]any{"reason": "authorization check"} }},
		"POST /v1/notes/{id}/amend": {Access: Staff, Roles: doctor, Scope: ScopeResource, Path: "/v1/notes/{note}/amend",
			Body: func(map[string]string, staffUser) any { return noteEdit() }},
	},
	"summarize": {
		"GET /v1/health":                health,
		"GET /v1/summaries/{patientId}": {Access: Staff, Roles: clinical, Scope: ScopeResource, Path: "/v1/summaries/{patient}"},
		"GET /v1/summaries/usage":       {Access: Staff, Roles: adminOnly, Scope: ScopeCaller},
	},
	"scribe-worker": {
		"GET /v1/health": health,
		"POST /{$}":      workerRow("/"),
	},
	"retention": {
		"GET /v1/health": health,
		"POST /{$}":      workerRow("/"),
	},
	"summarize-worker": {
		"GET /v1/health":        health,
		"POST /tasks/summaries": workerRow("/tasks/summaries"),
	},
	"mailer": {
		"GET /v1/health":   health,
		"POST /tasks/mail": workerRow("/tasks/mail"),
	},
	"audit-seal": {
		"GET /v1/health": health,
		"POST /{$}":      workerRow("/"),
	},
	"encounter-outbox": {
		"GET /v1/health": health,
		"POST /{$}":      workerRow("/"),
	},
	"scribe-sweeper": {
		"GET /v1/health": health,
		"POST /{$}":      workerRow("/"),
	},
}

// cell is one call of the matrix.
type cell struct {
	Kind Kind
	Role roles.Role // empty for NoToken, Task and Gateway
}

func (c cell) String() string {
	if c.Role == "" {
		return string(c.Kind)
	}
	return string(c.Kind) + "/" + string(c.Role)
}

// cells lists the calls of a row: every role of the own clinic, of another clinic and
// revoked, no token, and for workers a genuine task delivery and one via the gateway.
func (r Row) cells() []cell {
	var out []cell
	for _, k := range []Kind{Own, Other, Revoked} {
		for _, role := range allRoles {
			out = append(out, cell{Kind: k, Role: role})
		}
	}
	out = append(out, cell{Kind: NoToken})
	if r.Access == Worker {
		out = append(out, cell{Kind: Task}, cell{Kind: Gateway})
	}
	return out
}

// expect is the outcome of c on r.
func (r Row) expect(c cell) Outcome {
	var out Outcome
	switch r.Access {
	case Public:
		out = Allowed
	case Worker:
		switch c.Kind {
		case Task:
			return Allowed
		case Gateway:
			return NotFound
		}
		return Unauthenticated
	case Staff:
		switch {
		case c.Kind == NoToken || c.Kind == Revoked:
			return Unauthenticated
		case !slices.Contains(r.Roles, c.Role):
			return Forbidden
		case c.Kind == Other && r.Scope == ScopeResource:
			out = NotFound
		case r.ActionRoles != nil && !slices.Contains(r.ActionRoles, c.Role):
			return Forbidden
		default:
			out = Allowed
		}
	}
	if o, ok := r.Override[c.Kind]; ok {
		return o
	}
	return out
}

// statusOf is the status an outcome other than Allowed requires.
func (o Outcome) status() int {
	switch o {
	case Unauthenticated:
		return http.StatusUnauthorized
	case Forbidden:
		return http.StatusForbidden
	case NotFound:
		return http.StatusNotFound
	case Invalid:
		return http.StatusBadRequest
	}
	return 0
}

// code is the error code of the envelope for the outcome.
func (o Outcome) code() string {
	switch o {
	case Unauthenticated:
		return "unauthenticated"
	case Forbidden:
		return "permission_denied"
	case NotFound:
		return "not_found"
	case Invalid:
		return "invalid_argument"
	}
	return ""
}

func uniqueEmail(prefix string) string {
	return fmt.Sprintf("authz-%s-%s@medi.test", prefix, randomHex(6))
}

func newPatient(family string) map[string]any {
	return map[string]any{"givenName": "Ada", "familyName": family, "birthDate": "1985-03-14", "sex": "female",
		"phone": "+44 20 7946 0000"}
}

// triageInput is a complete adult assessment (ESI 3).
// triageRecordInput is triageInput without the age: an assessment recorded for an encounter
// takes the age from the patient record.
func triageRecordInput() map[string]any {
	in := triageInput()
	delete(in, "ageYears")
	return in
}

func triageInput() map[string]any {
	return map[string]any{
		"ageYears": 41, "sex": "female", "chiefComplaint": "twisted ankle, swollen", "complaintCategory": "minor_injury",
		"arrivalMode": "walk_in", "injury": true, "mentalStatus": "A", "painScore": 4,
		"expectedResources": []string{"ecg_xray", "parenteral_medication"},
		"vitals": map[string]any{"heartRate": 84, "respiratoryRate": 15, "systolicBP": 128, "diastolicBP": 80,
			"spo2": 99, "temperatureC": 36.8, "onSupplementalOxygen": false},
	}
}

// noteEdit is an edit of a version the note never reaches: the note is looked up first
// (another clinic's: 404), then the stale base version is refused (412), so the cells
// leave the note as it is.
func noteEdit() map[string]any {
	return map[string]any{"baseVersion": 999, "content": map[string]any{
		"subjective": []any{map[string]any{"text": "Twisted ankle on the stairs."}}, "objective": []any{}, "assessment": []any{}, "plan": []any{}}}
}

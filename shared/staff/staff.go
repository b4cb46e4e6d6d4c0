// Package staff manages the staff of a clinic: Firebase Auth users whose custom claims
// ({role, clinicId}) carry their authorization, mirrored in users/{uid}.
// Admins manage only their own clinic; nobody changes their own role or
// disables themselves. A role change or a disable revokes the user's refresh tokens at
// once: a token issued before is refused by this instance from the next request on, and
// by every other instance within the account-state bound (auth.DefaultStateTTL, 30 s).
package staff

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"cloud.google.com/go/firestore"
	fbauth "firebase.google.com/go/v4/auth"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/medi-os/medi/shared/apierr"
	"github.com/medi-os/medi/shared/audit"
	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/logging"
	medimail "github.com/medi-os/medi/shared/mail"
	"github.com/medi-os/medi/shared/tasks"
)

// Collection holds one profile per staff member, keyed by uid.
const Collection = "users"

// Audit actions.
const (
	ActionCreate = "staff.create"
	ActionUpdate = "staff.update"
	// ActionRevokeSessions: an admin signed a member out of every device.
	ActionRevokeSessions = "staff.sessions_revoke"
	resourceType         = "staff"
)

// Profile is a staff member as users/{uid} stores it and the API returns it.
type Profile struct {
	UID         string    `firestore:"uid" json:"uid"`
	Email       string    `firestore:"email" json:"email"`
	DisplayName string    `firestore:"displayName" json:"displayName"`
	Role        auth.Role `firestore:"role" json:"role"`
	ClinicID    string    `firestore:"clinicId" json:"clinicId"`
	Disabled    bool      `firestore:"disabled" json:"disabled"`
	// Who created and last changed the profile, and when: absent from the JSON when the
	// profile was written without them (an account made outside staff management).
	CreatedAt time.Time `firestore:"createdAt" json:"createdAt,omitzero"`
	CreatedBy string    `firestore:"createdBy" json:"createdBy,omitempty"`
	UpdatedAt time.Time `firestore:"updatedAt" json:"updatedAt,omitzero"`
	UpdatedBy string    `firestore:"updatedBy" json:"updatedBy,omitempty"`
}

// decodeProfile reads users/{uid}; the uid is the document's id, whatever the fields say.
func decodeProfile(snap *firestore.DocumentSnapshot) (Profile, error) {
	var p Profile
	if err := snap.DataTo(&p); err != nil {
		return Profile{}, fmt.Errorf("decoding staff profile: %w", err)
	}
	p.UID = snap.Ref.ID
	return p, nil
}

// Users is the part of the Firebase Auth admin client staff management needs.
type Users interface {
	CreateUser(ctx context.Context, user *fbauth.UserToCreate) (*fbauth.UserRecord, error)
	UpdateUser(ctx context.Context, uid string, user *fbauth.UserToUpdate) (*fbauth.UserRecord, error)
	DeleteUser(ctx context.Context, uid string) error
	SetCustomUserClaims(ctx context.Context, uid string, claims map[string]any) error
	RevokeRefreshTokens(ctx context.Context, uid string) error
}

// Mailer queues a mail for the mailer function.
type Mailer interface {
	Enqueue(ctx context.Context, m medimail.Task) error
}

// Service manages staff.
type Service struct {
	users Users
	fs    *firestore.Client
	mail  Mailer
	now   func() time.Time
}

// New returns a Service.
func New(users Users, fs *firestore.Client, m Mailer) *Service {
	return &Service{users: users, fs: fs, mail: m, now: time.Now}
}

func (s *Service) doc(uid string) *firestore.DocumentRef { return s.fs.Collection(Collection).Doc(uid) }

// NewStaff is the body of POST /v1/staff.
type NewStaff struct {
	Email       string    `json:"email"`
	DisplayName string    `json:"displayName"`
	Role        auth.Role `json:"role"`
	ClinicID    string    `json:"clinicId,omitempty"`
}

// Created is the result of Create.
type Created struct {
	Profile
	// InvitationQueued is false when the account exists but the invitation mail could not
	// be queued; the admin can ask for a password reset mail for it.
	InvitationQueued bool `json:"invitationQueued"`
}

func validEmail(e string) bool {
	a, err := mail.ParseAddress(e)
	return err == nil && a.Address == e && len(e) <= 254
}

// validName accepts a display name: not blank, at most 100 characters, and no control
// or text-direction control characters (the name is shown in every app and the audit
// trail, where U+202E and the like could make it read as another).
func validName(n string) bool {
	n = strings.TrimSpace(n)
	return n != "" && utf8.RuneCountInString(n) <= 100 && !strings.ContainsFunc(n, func(r rune) bool {
		return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r)
	})
}

// Validate lists the invalid fields of in.
func (in NewStaff) Validate() []apierr.FieldError {
	var fe []apierr.FieldError
	if !validEmail(in.Email) {
		fe = append(fe, apierr.FieldError{Field: "email", Message: "must be one e-mail address"})
	}
	if !validName(in.DisplayName) {
		fe = append(fe, apierr.FieldError{Field: "displayName", Message: "required, at most 100 characters, no control characters"})
	}
	if !in.Role.Valid() {
		fe = append(fe, apierr.FieldError{Field: "role", Message: "must be receptionist, nurse, doctor or admin"})
	}
	return fe
}

// Create creates the Firebase Auth user with custom claims {role, clinicId}, writes
// users/{uid} with its audit record, and queues the invitation mail with a
// password-setup link. The actor must be an admin of the clinic.
func (s *Service) Create(ctx context.Context, actor auth.Principal, in NewStaff) (Created, error) {
	in.Email = strings.ToLower(strings.TrimSpace(in.Email))
	in.DisplayName = strings.TrimSpace(in.DisplayName)
	if fe := in.Validate(); len(fe) > 0 {
		return Created{}, apierr.InvalidFields(fe)
	}
	if in.ClinicID == "" {
		in.ClinicID = actor.ClinicID
	}
	if in.ClinicID != actor.ClinicID {
		return Created{}, apierr.PermissionDenied("admins add staff to their own clinic only")
	}
	u, err := s.users.CreateUser(ctx, (&fbauth.UserToCreate{}).Email(in.Email).DisplayName(in.DisplayName).
		EmailVerified(false).Disabled(false))
	switch {
	case fbauth.IsEmailAlreadyExists(err):
		return Created{}, apierr.Conflict("an account with this e-mail address already exists")
	case fbauth.IsInvalidEmail(err):
		return Created{}, apierr.InvalidFields([]apierr.FieldError{{Field: "email", Message: "must be one e-mail address"}})
	case err != nil:
		return Created{}, apierr.Unavailable(2, fmt.Errorf("creating auth user: %w", err))
	}
	undo := func(cause error) error {
		if derr := s.users.DeleteUser(context.WithoutCancel(ctx), u.UID); derr != nil {
			logging.FromContext(ctx).Error("could not remove half-created staff user", "uid", u.UID, "error", derr.Error())
		}
		return apierr.Unavailable(2, cause)
	}
	if err := s.users.SetCustomUserClaims(ctx, u.UID, Claims(in.Role, in.ClinicID)); err != nil {
		return Created{}, undo(fmt.Errorf("setting claims: %w", err))
	}
	now := s.now().UTC()
	p := Profile{
		UID: u.UID, Email: in.Email, DisplayName: in.DisplayName, Role: in.Role, ClinicID: in.ClinicID,
		CreatedAt: now, CreatedBy: actor.UID, UpdatedAt: now, UpdatedBy: actor.UID,
	}
	err = s.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		if err := tx.Create(s.doc(p.UID), p); err != nil {
			return err
		}
		return audit.New(ctx, p.ClinicID, ActionCreate, resourceType, p.UID).InTransaction(s.fs, tx)
	})
	if err != nil {
		return Created{}, undo(fmt.Errorf("writing staff profile: %w", err))
	}
	out := Created{Profile: p, InvitationQueued: true}
	if err := s.invite(ctx, p); err != nil {
		logging.FromContext(ctx).Error("invitation mail not queued", "uid", p.UID, "error", err.Error())
		out.InvitationQueued = false
	}
	return out, nil
}

// invite queues the invitation; the mailer adds the password-setup link.
func (s *Service) invite(ctx context.Context, p Profile) error {
	return s.mail.Enqueue(ctx, medimail.Task{
		ID: tasks.TaskID(medimail.KindInvitation, p.UID), Kind: medimail.KindInvitation,
		To: p.Email, DisplayName: p.DisplayName, Role: string(p.Role),
	})
}

// Claims returns the custom claims of a staff member.
func Claims(role auth.Role, clinicID string) map[string]any {
	return map[string]any{"role": string(role), "clinicId": clinicID}
}

// Get returns the profile of uid when it belongs to clinicID; anything else is 404.
func (s *Service) Get(ctx context.Context, clinicID, uid string) (Profile, error) {
	snap, err := s.doc(uid).Get(ctx)
	if status.Code(err) == codes.NotFound {
		return Profile{}, apierr.NotFound("staff member not found")
	}
	if err != nil {
		return Profile{}, apierr.Unavailable(2, fmt.Errorf("reading staff profile: %w", err))
	}
	p, err := decodeProfile(snap)
	if err != nil {
		return Profile{}, err
	}
	if p.ClinicID == "" || p.ClinicID != clinicID {
		return Profile{}, apierr.NotFound("staff member not found")
	}
	return p, nil
}

// Lookup returns the profile of uid whatever its clinic, and false when there is none
// (GET /v1/me).
func (s *Service) Lookup(ctx context.Context, uid string) (Profile, bool, error) {
	snap, err := s.doc(uid).Get(ctx)
	if status.Code(err) == codes.NotFound {
		return Profile{}, false, nil
	}
	if err != nil {
		return Profile{}, false, err
	}
	p, err := decodeProfile(snap)
	if err != nil {
		return Profile{}, false, err
	}
	return p, true, nil
}

// Page is one page of a clinic's staff, ordered by uid.
type Page struct {
	Staff         []Profile `json:"items"`
	NextPageToken string    `json:"nextPageToken,omitempty"`
}

// Page sizes of List.
const (
	DefaultPageSize = 50
	MaxPageSize     = 200
)

// List returns up to pageSize profiles of clinicID after the page token (a uid).
func (s *Service) List(ctx context.Context, clinicID string, pageSize int, pageToken string) (Page, error) {
	if pageSize <= 0 {
		pageSize = DefaultPageSize
	}
	pageSize = min(pageSize, MaxPageSize)
	q := s.fs.Collection(Collection).Where("clinicId", "==", clinicID).OrderBy(firestore.DocumentID, firestore.Asc)
	if pageToken != "" {
		q = q.StartAfter(pageToken)
	}
	snaps, err := q.Limit(pageSize + 1).Documents(ctx).GetAll()
	if err != nil {
		return Page{}, apierr.Unavailable(2, fmt.Errorf("listing staff: %w", err))
	}
	out := Page{Staff: []Profile{}}
	for i, snap := range snaps {
		if i == pageSize {
			out.NextPageToken = out.Staff[len(out.Staff)-1].UID
			break
		}
		p, err := decodeProfile(snap)
		if err != nil {
			return Page{}, err
		}
		out.Staff = append(out.Staff, p)
	}
	return out, nil
}

// Patch is the body of PATCH /v1/staff/{uid}; absent fields are unchanged.
type Patch struct {
	Role        *auth.Role `json:"role,omitempty"`
	DisplayName *string    `json:"displayName,omitempty"`
	Disabled    *bool      `json:"disabled,omitempty"`
}

// Validate lists the invalid fields of p.
func (p Patch) Validate() []apierr.FieldError {
	var fe []apierr.FieldError
	if p.Role == nil && p.DisplayName == nil && p.Disabled == nil {
		fe = append(fe, apierr.FieldError{Field: "", Message: "give at least one of role, displayName, disabled"})
	}
	if p.Role != nil && !p.Role.Valid() {
		fe = append(fe, apierr.FieldError{Field: "role", Message: "must be receptionist, nurse, doctor or admin"})
	}
	if p.DisplayName != nil && !validName(*p.DisplayName) {
		fe = append(fe, apierr.FieldError{Field: "displayName", Message: "required, at most 100 characters, no control characters"})
	}
	return fe
}

// Update applies patch to uid, a member of the actor's clinic. A role change or a
// disable revokes the user's refresh tokens before the profile is written: from then on
// tokens issued earlier are refused.
func (s *Service) Update(ctx context.Context, actor auth.Principal, uid string, patch Patch) (Profile, error) {
	if fe := patch.Validate(); len(fe) > 0 {
		return Profile{}, apierr.InvalidFields(fe)
	}
	cur, err := s.Get(ctx, actor.ClinicID, uid)
	if err != nil {
		return Profile{}, err
	}
	roleChange := patch.Role != nil && *patch.Role != cur.Role
	disabling := patch.Disabled != nil && *patch.Disabled && !cur.Disabled
	if uid == actor.UID && (roleChange || (patch.Disabled != nil && *patch.Disabled)) {
		return Profile{}, apierr.PermissionDenied("nobody changes their own role or disables their own account")
	}
	next := cur
	if patch.Role != nil {
		next.Role = *patch.Role
	}
	if patch.DisplayName != nil {
		next.DisplayName = strings.TrimSpace(*patch.DisplayName)
	}
	if patch.Disabled != nil {
		next.Disabled = *patch.Disabled
	}
	if next == cur {
		return cur, nil
	}
	// Auth first: if the profile write fails afterwards, the retried PATCH converges.
	upd := &fbauth.UserToUpdate{}
	changedUser := false
	if next.DisplayName != cur.DisplayName {
		upd.DisplayName(next.DisplayName)
		changedUser = true
	}
	if next.Disabled != cur.Disabled {
		upd.Disabled(next.Disabled)
		changedUser = true
	}
	if changedUser {
		if _, err := s.users.UpdateUser(ctx, uid, upd); err != nil {
			return Profile{}, apierr.Unavailable(2, fmt.Errorf("updating auth user: %w", err))
		}
	}
	if roleChange {
		if err := s.users.SetCustomUserClaims(ctx, uid, Claims(next.Role, next.ClinicID)); err != nil {
			return Profile{}, apierr.Unavailable(2, fmt.Errorf("setting claims: %w", err))
		}
	}
	if roleChange || disabling {
		if err := s.users.RevokeRefreshTokens(ctx, uid); err != nil {
			return Profile{}, apierr.Unavailable(2, fmt.Errorf("revoking tokens: %w", err))
		}
	}
	if changedUser || roleChange {
		auth.Forget(uid)
	}
	next.UpdatedAt, next.UpdatedBy = s.now().UTC(), actor.UID
	err = s.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		if err := tx.Set(s.doc(uid), next); err != nil {
			return err
		}
		rec := audit.New(ctx, next.ClinicID, ActionUpdate, resourceType, uid).WithReason(changeSummary(cur, next))
		return rec.InTransaction(s.fs, tx)
	})
	if err != nil {
		return Profile{}, apierr.Unavailable(2, fmt.Errorf("writing staff profile: %w", err))
	}
	return next, nil
}

// SessionsRevoked is the answer of RevokeSessions.
type SessionsRevoked struct {
	UID string `json:"uid"`
	// RevokedAt: every session cookie and ID token issued before this instant is refused.
	RevokedAt time.Time `json:"revokedAt"`
}

// RevokeSessions signs uid, a member of the actor's clinic, out of every device (a lost
// phone, a shared workstation left signed in): their refresh tokens are revoked, so every
// session cookie and ID token issued before is refused by this instance from the next
// request on and by every other within auth.DefaultStateTTL (30 s), and the action is
// audited. The account stays usable: the member signs in again. Admins end
// their own sessions by signing out (403 here, as for disabling oneself).
func (s *Service) RevokeSessions(ctx context.Context, actor auth.Principal, uid string) (SessionsRevoked, error) {
	if uid == actor.UID {
		return SessionsRevoked{}, apierr.PermissionDenied("end your own sessions by signing out")
	}
	if _, err := s.Get(ctx, actor.ClinicID, uid); err != nil {
		return SessionsRevoked{}, err
	}
	// Revoke first, audit after: a failed audit write answers 503 and the retried call
	// revokes again (idempotent) before writing it.
	if err := s.users.RevokeRefreshTokens(ctx, uid); err != nil {
		return SessionsRevoked{}, apierr.Unavailable(2, fmt.Errorf("revoking tokens: %w", err))
	}
	auth.Forget(uid)
	at := s.now().UTC()
	if err := audit.New(ctx, actor.ClinicID, ActionRevokeSessions, resourceType, uid).Write(ctx, s.fs); err != nil {
		return SessionsRevoked{}, apierr.Unavailable(2, fmt.Errorf("auditing session revocation: %w", err))
	}
	return SessionsRevoked{UID: uid, RevokedAt: at}, nil
}

// changeSummary names what changed (no personal data: roles and flags only).
func changeSummary(cur, next Profile) string {
	var parts []string
	if cur.Role != next.Role {
		parts = append(parts, fmt.Sprintf("role %s->%s", cur.Role, next.Role))
	}
	if cur.Disabled != next.Disabled {
		parts = append(parts, fmt.Sprintf("disabled %t->%t", cur.Disabled, next.Disabled))
	}
	if cur.DisplayName != next.DisplayName {
		parts = append(parts, "displayName changed")
	}
	return strings.Join(parts, "; ")
}

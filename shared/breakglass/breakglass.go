// Package breakglass implements break-glass (emergency) access, HIPAA 45 CFR
// 164.312(a)(2)(ii): a doctor or nurse may read a patient of another clinic of the same
// organisation (clinics/{c}.organizationId) for one hour after stating a reason. Each
// grant is audited with the reason in both clinics, published on the access-events topic
// so that admins are alerted (the access-alerts function mails every active admin of the
// patient's clinic through [Notifier]), listed for admins of the patient's clinic and
// revocable by them ([Store.Revoke]). A revocation sticks: it ends every grant of that
// person on that patient and refuses their new grants (403 break_glass_revoked, the
// attempt audited) until an admin of the patient's clinic lifts it ([Store.LiftBlock]).
// The patients function serves a read to a caller of another clinic when
// [Store.GrantFor] finds the caller's active grant on the patient (it names the clinic
// where the patient lives).
package breakglass

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/medi-os/medi/shared/apierr"
	"github.com/medi-os/medi/shared/audit"
	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/docid"
	"github.com/medi-os/medi/shared/events"
	"github.com/medi-os/medi/shared/logging"
)

// Collection holds the grants (top level: a grant spans two clinics).
const Collection = "breakGlassGrants"

// Duration of a grant.
const Duration = time.Hour

// Audit actions and event types.
const (
	ActionGrant   = "access.break_glass"
	ActionRevoke  = "access.break_glass_revoke"
	ActionUnblock = "access.break_glass_unblock"
	EventGranted  = "access.break_glass_granted"
	EventRevoked  = "access.break_glass_revoked"
	DefaultTopic  = "access-events"
	resourceType  = "breakGlassGrant"
	minReasonLen  = 10
	maxReasonLen  = 500
	grantIDPrefix = "bg-"
)

// Grant is one break-glass grant.
type Grant struct {
	ID             string     `firestore:"-" json:"id"`
	GranteeUID     string     `firestore:"granteeUid" json:"granteeUid"`
	GranteeRole    auth.Role  `firestore:"granteeRole" json:"granteeRole"`
	GranteeClinic  string     `firestore:"granteeClinicId" json:"granteeClinicId"`
	ClinicID       string     `firestore:"clinicId" json:"clinicId"` // the patient's clinic
	PatientID      string     `firestore:"patientId" json:"patientId"`
	OrganizationID string     `firestore:"organizationId" json:"organizationId"`
	Reason         string     `firestore:"reason" json:"reason"`
	CreatedAt      time.Time  `firestore:"createdAt" json:"createdAt"`
	ExpiresAt      time.Time  `firestore:"expiresAt" json:"expiresAt"`
	RevokedAt      *time.Time `firestore:"revokedAt" json:"revokedAt"`
	RevokedBy      string     `firestore:"revokedBy,omitempty" json:"revokedBy,omitempty"`
	// BlockLiftedAt and BlockLiftedBy record the admin who lifted the block a revocation
	// puts on new grants (LiftBlock).
	BlockLiftedAt *time.Time `firestore:"blockLiftedAt" json:"blockLiftedAt"`
	BlockLiftedBy string     `firestore:"blockLiftedBy,omitempty" json:"blockLiftedBy,omitempty"`
	Active        bool       `firestore:"-" json:"active"`
	// Blocking is set on a revoked grant whose block was not lifted: its grantee may not
	// use break-glass access to its patient again.
	Blocking bool `firestore:"-" json:"blocking"`
}

func (g *Grant) activeAt(now time.Time) bool {
	return g.RevokedAt == nil && now.Before(g.ExpiresAt)
}

// blocking reports whether g, revoked, still blocks new grants of its grantee on its
// patient.
func (g *Grant) blocking() bool { return g.RevokedAt != nil && g.BlockLiftedAt == nil }

// ReasonRevoked is the details.reason of the 403 a grant request gets while a revocation
// blocks it.
const ReasonRevoked = "break_glass_revoked"

// grantsOf is the query of the grants of uid on patientID of clinicID.
func (s *Store) grantsOf(uid, clinicID, patientID string) firestore.Query {
	return s.fs.Collection(Collection).Where("granteeUid", "==", uid).Where("clinicId", "==", clinicID).
		Where("patientId", "==", patientID)
}

// grantsIn reads the grants of q in tx, with their ids.
func grantsIn(tx *firestore.Transaction, q firestore.Query) ([]Grant, []*firestore.DocumentRef, error) {
	snaps, err := tx.Documents(q).GetAll()
	if err != nil {
		return nil, nil, err
	}
	grants := make([]Grant, len(snaps))
	refs := make([]*firestore.DocumentRef, len(snaps))
	for i, snap := range snaps {
		if err := snap.DataTo(&grants[i]); err != nil {
			return nil, nil, err
		}
		grants[i].ID, refs[i] = snap.Ref.ID, snap.Ref
	}
	return grants, refs, nil
}

// Store keeps grants.
type Store struct {
	fs    *firestore.Client
	pub   events.Publisher
	topic string
	now   func() time.Time
}

// New returns a Store publishing alerts to topic (empty: DefaultTopic); now is the
// clock (nil: time.Now).
func New(fs *firestore.Client, pub events.Publisher, topic string, now func() time.Time) *Store {
	if topic == "" {
		topic = DefaultTopic
	}
	if now == nil {
		now = time.Now
	}
	return &Store{fs: fs, pub: pub, topic: topic, now: now}
}

// Request is the body of POST /v1/access/break-glass.
type Request struct {
	PatientID string `json:"patientId"`
	Reason    string `json:"reason"`
	// ClinicID optionally names the patient's clinic; otherwise every other clinic of the
	// caller's organisation is searched.
	ClinicID string `json:"clinicId,omitempty"`
}

// Validate lists the invalid fields.
func (r Request) Validate() []apierr.FieldError {
	var fe []apierr.FieldError
	if !docid.Valid(r.PatientID) {
		fe = append(fe, apierr.FieldError{Field: "patientId", Message: "required: a patient id"})
	}
	if n := utf8.RuneCountInString(strings.TrimSpace(r.Reason)); n < minReasonLen || n > maxReasonLen {
		fe = append(fe, apierr.FieldError{Field: "reason", Message: fmt.Sprintf("state the reason in %d to %d characters", minReasonLen, maxReasonLen)})
	}
	if r.ClinicID != "" && !docid.Valid(r.ClinicID) {
		fe = append(fe, apierr.FieldError{Field: "clinicId", Message: "invalid"})
	}
	return fe
}

func (s *Store) clinicOrg(ctx context.Context, clinicID string) (string, error) {
	snap, err := s.fs.Collection("clinics").Doc(clinicID).Get(ctx)
	if status.Code(err) == codes.NotFound {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	org, _ := snap.Data()["organizationId"].(string)
	return org, nil
}

// findPatient returns the clinic (of org, other than own) holding patientID.
func (s *Store) findPatient(ctx context.Context, org, own string, req Request) (string, error) {
	var clinics []string
	if req.ClinicID != "" {
		o, err := s.clinicOrg(ctx, req.ClinicID)
		if err != nil {
			return "", err
		}
		if o == org && req.ClinicID != own {
			clinics = []string{req.ClinicID}
		}
	} else {
		snaps, err := s.fs.Collection("clinics").Where("organizationId", "==", org).Documents(ctx).GetAll()
		if err != nil {
			return "", err
		}
		for _, c := range snaps {
			if c.Ref.ID != own {
				clinics = append(clinics, c.Ref.ID)
			}
		}
	}
	if len(clinics) == 0 {
		return "", nil
	}
	refs := make([]*firestore.DocumentRef, len(clinics))
	for i, c := range clinics {
		refs[i] = s.fs.Collection("clinics").Doc(c).Collection("patients").Doc(req.PatientID)
	}
	snaps, err := s.fs.GetAll(ctx, refs)
	if err != nil {
		return "", err
	}
	for i, snap := range snaps {
		if snap.Exists() {
			return clinics[i], nil
		}
	}
	return "", nil
}

func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return grantIDPrefix + hex.EncodeToString(b[:])
}

// Grant creates a one-hour grant for the caller (doctor or nurse) to read a patient of
// another clinic of the caller's organisation, audited in both clinics with the reason,
// and publishes the alert. A patient not found in such a clinic is 404.
func (s *Store) Grant(ctx context.Context, p auth.Principal, req Request) (Grant, error) {
	req.Reason = strings.TrimSpace(req.Reason)
	if fe := req.Validate(); len(fe) > 0 {
		return Grant{}, apierr.InvalidFields(fe)
	}
	if !p.HasRole(auth.RoleDoctor, auth.RoleNurse) {
		return Grant{}, apierr.PermissionDenied("only doctors and nurses may use emergency access")
	}
	org, err := s.clinicOrg(ctx, p.ClinicID)
	if err != nil {
		return Grant{}, apierr.Unavailable(2, err)
	}
	if org == "" {
		return Grant{}, apierr.NotFound("patient not found")
	}
	clinic, err := s.findPatient(ctx, org, p.ClinicID, req)
	if err != nil {
		return Grant{}, apierr.Unavailable(2, err)
	}
	if clinic == "" {
		return Grant{}, apierr.NotFound("patient not found")
	}
	now := s.now().UTC()
	g := Grant{
		ID: newID(), GranteeUID: p.UID, GranteeRole: p.Role, GranteeClinic: p.ClinicID, ClinicID: clinic,
		PatientID: req.PatientID, OrganizationID: org, Reason: req.Reason, CreatedAt: now, ExpiresAt: now.Add(Duration),
	}
	blockedBy := ""
	err = s.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		// A revocation sticks: while one of the caller's grants on this patient is revoked
		// and its block not lifted, no new grant is made. Read in the transaction, so a
		// revocation committed meanwhile makes this one retry and see it.
		prior, _, err := grantsIn(tx, s.grantsOf(p.UID, clinic, req.PatientID))
		if err != nil {
			return err
		}
		for _, pg := range prior {
			if pg.blocking() {
				blockedBy = pg.ID
				return errRevoked
			}
		}
		if err := tx.Create(s.fs.Collection(Collection).Doc(g.ID), g); err != nil {
			return err
		}
		for _, c := range []string{g.ClinicID, g.GranteeClinic} {
			rec := audit.New(ctx, c, ActionGrant, resourceType, g.ID).ForPatient(g.PatientID).WithReason(g.Reason)
			if err := rec.InTransaction(s.fs, tx); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, errRevoked) {
		// The refused attempt is audited in the patient's clinic, where its admins review
		// emergency access.
		rec := audit.New(ctx, clinic, ActionGrant, resourceType, blockedBy).ForPatient(req.PatientID).
			WithReason(req.Reason).WithOutcome(audit.OutcomeDenied)
		if werr := rec.Write(ctx, s.fs); werr != nil {
			logging.FromContext(ctx).Error("denied break-glass attempt not audited", "clinicId", clinic, "error", werr.Error())
		}
		return Grant{}, apierr.PermissionDenied("your emergency access to this patient was revoked by an admin of the patient's clinic; " +
			"only they can lift the block").WithDetails(map[string]any{"reason": ReasonRevoked})
	}
	if err != nil {
		return Grant{}, apierr.Unavailable(2, fmt.Errorf("storing grant: %w", err))
	}
	g.Active = true
	s.publish(ctx, EventGranted, g)
	return g, nil
}

// errRevoked ends a grant transaction that a revocation blocks.
var errRevoked = errors.New("breakglass: revoked")

// Alert is the data of access-events (ids only; the reason stays in the audit trail).
type Alert struct {
	GrantID       string    `json:"grantId"`
	GranteeUID    string    `json:"granteeUid"`
	GranteeClinic string    `json:"granteeClinicId"`
	ClinicID      string    `json:"clinicId"`
	PatientID     string    `json:"patientId"`
	GrantedAt     time.Time `json:"grantedAt"`
	ExpiresAt     time.Time `json:"expiresAt"`
}

func (s *Store) publish(ctx context.Context, typ string, g Grant) {
	log := logging.FromContext(ctx)
	if s.pub == nil {
		log.Error("break-glass alert not published: no publisher", "grantId", g.ID)
		return
	}
	env, err := events.NewEnvelope(ctx, typ, 1, g.ClinicID, Alert{
		GrantID: g.ID, GranteeUID: g.GranteeUID, GranteeClinic: g.GranteeClinic, ClinicID: g.ClinicID,
		PatientID: g.PatientID, GrantedAt: g.CreatedAt, ExpiresAt: g.ExpiresAt,
	})
	if err == nil {
		_, err = s.pub.Publish(ctx, s.topic, env, "")
	}
	if err != nil {
		// The grant and its audit records exist; the alert is the admins' notification. Log
		// at error level so that the log-based alert on break-glass fires anyway.
		log.Error("break-glass alert not published", "grantId", g.ID, "clinicId", g.ClinicID, "error", err.Error())
	}
}

// List returns the grants on patients of clinicID, newest first (admins).
func (s *Store) List(ctx context.Context, clinicID string, activeOnly bool) ([]Grant, error) {
	snaps, err := s.fs.Collection(Collection).Where("clinicId", "==", clinicID).
		OrderBy("createdAt", firestore.Desc).Limit(500).Documents(ctx).GetAll()
	if err != nil {
		return nil, apierr.Unavailable(2, fmt.Errorf("listing grants: %w", err))
	}
	now := s.now()
	out := []Grant{}
	for _, snap := range snaps {
		var g Grant
		if err := snap.DataTo(&g); err != nil {
			return nil, err
		}
		g.ID = snap.Ref.ID
		g.Active, g.Blocking = g.activeAt(now), g.blocking()
		if activeOnly && !g.Active {
			continue
		}
		out = append(out, g)
	}
	return out, nil
}

// Revoke ends grant id on a patient of the admin's clinic (another clinic's grant: 404).
func (s *Store) Revoke(ctx context.Context, admin auth.Principal, id string) (Grant, error) {
	return s.changeGrant(ctx, admin, id, "revoking grant", func(ctx context.Context, tx *firestore.Transaction, g *Grant, ref *firestore.DocumentRef) error {
		if g.RevokedAt != nil {
			return nil
		}
		// Revoking ends the grantee's access to the patient: their other unrevoked grants
		// on the patient are revoked with it, and the revocation blocks new ones until an
		// admin of the clinic lifts it (LiftBlock).
		others, refs, err := grantsIn(tx, s.grantsOf(g.GranteeUID, g.ClinicID, g.PatientID))
		if err != nil {
			return err
		}
		now := s.now().UTC()
		g.RevokedAt, g.RevokedBy = &now, admin.UID
		revoke := []*firestore.DocumentRef{ref}
		for i, o := range others {
			if o.ID != id && o.RevokedAt == nil {
				revoke = append(revoke, refs[i])
			}
		}
		for _, r := range revoke {
			if err := tx.Update(r, []firestore.Update{{Path: "revokedAt", Value: now}, {Path: "revokedBy", Value: admin.UID}}); err != nil {
				return err
			}
			if err := audit.New(ctx, g.ClinicID, ActionRevoke, resourceType, r.ID).ForPatient(g.PatientID).InTransaction(s.fs, tx); err != nil {
				return err
			}
		}
		return nil
	})
}

// LiftBlock lets the grantee of grant id use break-glass access to its patient again: an
// admin of the patient's clinic (another clinic's grant: 404) lifts the block every
// revoked grant of that grantee on that patient puts on new grants. Audited when it lifts
// something; with nothing to lift (the grant was never revoked, or its block is already
// lifted) it changes nothing and answers the grant as it is.
func (s *Store) LiftBlock(ctx context.Context, admin auth.Principal, id string) (Grant, error) {
	return s.changeGrant(ctx, admin, id, "lifting the block", func(ctx context.Context, tx *firestore.Transaction, g *Grant, _ *firestore.DocumentRef) error {
		all, refs, err := grantsIn(tx, s.grantsOf(g.GranteeUID, g.ClinicID, g.PatientID))
		if err != nil {
			return err
		}
		now := s.now().UTC()
		lifted := 0
		for i, o := range all {
			if !o.blocking() {
				continue
			}
			if err := tx.Update(refs[i], []firestore.Update{{Path: "blockLiftedAt", Value: now}, {Path: "blockLiftedBy", Value: admin.UID}}); err != nil {
				return err
			}
			lifted++
		}
		if lifted == 0 {
			return nil // already lifted
		}
		if g.RevokedAt != nil && g.BlockLiftedAt == nil {
			g.BlockLiftedAt, g.BlockLiftedBy = &now, admin.UID
		}
		return audit.New(ctx, g.ClinicID, ActionUnblock, resourceType, id).ForPatient(g.PatientID).InTransaction(s.fs, tx)
	})
}

// changeGrant runs change on grant id in a transaction, once the grant is read and found
// in the admin's clinic (another clinic's grant, or none: 404), and answers the grant as
// change left it. what names the change in the error of a failed transaction.
func (s *Store) changeGrant(ctx context.Context, admin auth.Principal, id, what string,
	change func(ctx context.Context, tx *firestore.Transaction, g *Grant, ref *firestore.DocumentRef) error) (Grant, error) {
	ref := s.fs.Collection(Collection).Doc(id)
	var g Grant
	err := s.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		g = Grant{}
		snap, err := tx.Get(ref)
		if status.Code(err) == codes.NotFound {
			return apierr.NotFound("grant not found")
		}
		if err != nil {
			return err
		}
		if err := snap.DataTo(&g); err != nil {
			return err
		}
		g.ID = id
		if err := admin.InClinic(g.ClinicID, "grant"); err != nil {
			return err
		}
		return change(ctx, tx, &g, ref)
	})
	var he *apierr.Error
	switch {
	case errors.As(err, &he):
		return Grant{}, he
	case err != nil:
		return Grant{}, apierr.Unavailable(2, fmt.Errorf("%s: %w", what, err))
	}
	g.Active, g.Blocking = g.activeAt(s.now()), g.blocking()
	return g, nil
}

// GrantFor returns the caller's active grant for patientID, if any: the grant names the
// patient's clinic, so a break-glass read knows where the patient lives. Equality
// filters only (served by Firestore's single-field indexes).
func (s *Store) GrantFor(ctx context.Context, uid, patientID string) (Grant, bool, error) {
	snaps, err := s.fs.Collection(Collection).Where("granteeUid", "==", uid).
		Where("patientId", "==", patientID).Documents(ctx).GetAll()
	if err != nil {
		return Grant{}, false, err
	}
	now := s.now()
	for _, snap := range snaps {
		var g Grant
		if err := snap.DataTo(&g); err != nil {
			return Grant{}, false, err
		}
		if g.activeAt(now) {
			g.ID, g.Active = snap.Ref.ID, true
			return g, true, nil
		}
	}
	return Grant{}, false, nil
}

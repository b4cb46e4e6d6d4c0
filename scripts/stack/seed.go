package stack

import (
	"context"
	"errors"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"
	firebase "firebase.google.com/go/v4"
	fbauth "firebase.google.com/go/v4/auth"

	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/commitmark"
	"github.com/medi-os/medi/shared/patient"
	"github.com/medi-os/medi/shared/staff"
)

// DemoClinicID is the seeded clinic.
const DemoClinicID = "demo-clinic"

// NorthClinicID is a second seeded clinic of the same organisation (DemoOrgID), with one
// doctor, so that emergency (break-glass) access to a demo clinic patient can be tried.
const NorthClinicID = "demo-north"

// DemoOrgID is the organisation of the seeded clinics.
const DemoOrgID = "demo-org"

// Account is a seeded staff account (emulator only). Label, when set, is what the sign-in
// screen shows instead of the role.
type Account struct {
	Role     string
	Email    string
	Password string
	UID      string
	ClinicID string
	Label    string
}

// demoClinics are the seeded clinics and their accounts, one per role listed.
var demoClinics = []struct {
	id, name, domain, label string
	roles                   []string
}{
	{DemoClinicID, "Demo Clinic", "demo-clinic", "", []string{"receptionist", "nurse", "doctor", "admin"}},
	{NorthClinicID, "North Clinic", "demo-north", "Doctor at North Clinic", []string{"doctor"}},
}

// displayName is a seeded account's name: "Demo nurse" in the demo clinic, "North Clinic
// doctor" elsewhere.
func displayName(clinicID, clinicName, role string) string {
	if clinicID == DemoClinicID {
		return "Demo " + role
	}
	return clinicName + " " + role
}

// seedActor is who the seeded records name as their author.
const seedActor = "seed:scripts/dev"

// seed writes the demo clinics, one staff account per role (Auth emulator user with
// custom claims, plus its users/{uid} profile) and a few synthetic patients. It is
// idempotent: running it against an existing stack updates rather than duplicates.
func (s *Stack) seed(ctx context.Context) error {
	fs, err := firestore.NewClient(ctx, s.cfg.ProjectID)
	if err != nil {
		return err
	}
	defer fs.Close()
	app, err := firebase.NewApp(ctx, &firebase.Config{ProjectID: s.cfg.ProjectID})
	if err != nil {
		return err
	}
	ac, err := app.Auth(ctx)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	s.Accounts = nil
	for _, c := range demoClinics {
		if _, err := fs.Collection("clinics").Doc(c.id).Set(ctx, map[string]any{
			"name":                c.name,
			"organizationId":      DemoOrgID,
			"timezone":            "Europe/London",
			"doctorsOnDuty":       2,
			"scribeRetentionDays": 30,
			"sessionIdleMinutes":  15,
			"updatedAt":           now,
		}); err != nil {
			return err
		}
		for _, role := range c.roles {
			acc := Account{Role: role, Email: role + "@" + c.domain + ".medi.test", Password: "demo-" + role + "-pass", ClinicID: c.id, Label: c.label}
			if c.id != DemoClinicID {
				acc.Password = c.domain + "-" + role + "-pass"
			}
			u, err := ac.GetUserByEmail(ctx, acc.Email)
			if fbauth.IsUserNotFound(err) {
				u, err = ac.CreateUser(ctx, (&fbauth.UserToCreate{}).Email(acc.Email).Password(acc.Password).
					DisplayName(displayName(c.id, c.name, role)).EmailVerified(true))
			}
			if err != nil {
				return fmt.Errorf("account %s: %w", acc.Email, err)
			}
			acc.UID = u.UID
			if err := ac.SetCustomUserClaims(ctx, u.UID, map[string]any{"role": role, "clinicId": c.id}); err != nil {
				return err
			}
			// The profile staff management would have written; the seed is its author.
			if _, err := fs.Collection(staff.Collection).Doc(u.UID).Set(ctx, staff.Profile{
				UID: u.UID, Email: acc.Email, DisplayName: displayName(c.id, c.name, role), Role: auth.Role(role), ClinicID: c.id,
				CreatedAt: now, CreatedBy: seedActor, UpdatedAt: now, UpdatedBy: seedActor,
			}); err != nil {
				return err
			}
			s.Accounts = append(s.Accounts, acc)
		}
	}
	// Synthetic patients (no real person), registered through the patients store so that
	// they are searchable by name and MRN like any other. A re-seed finds them by MRN.
	store := patient.NewStore(fs)
	for _, r := range []patient.Registration{
		{GivenName: "Ada", FamilyName: "Lovelace", BirthDate: "1985-12-10", Sex: "female", MRN: "DEMO-000001",
			Allergies: []patient.Allergy{{Substance: "penicillin", Reaction: "rash", Severity: "moderate"}}},
		{GivenName: "José", FamilyName: "Núñez", BirthDate: "1972-03-04", Sex: "male", MRN: "DEMO-000002"},
		{GivenName: "Mia", FamilyName: "Okafor", BirthDate: "2019-07-21", Sex: "female", MRN: "DEMO-000003"},
	} {
		_, err := store.Create(ctx, DemoClinicID, r, commitmark.Marker{})
		var dup *patient.DuplicateMRNError
		if err != nil && !errors.As(err, &dup) {
			return fmt.Errorf("seeding patient %s: %w", r.MRN, err)
		}
	}
	return nil
}

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

// Account is a seeded staff account of the demo clinic (emulator only).
type Account struct {
	Role     string
	Email    string
	Password string
	UID      string
}

var demoRoles = []string{"receptionist", "nurse", "doctor", "admin"}

// seedActor is who the seeded records name as their author.
const seedActor = "seed:scripts/dev"

// seed writes the demo clinic, one staff account per role (Auth emulator user with
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
	clinic := fs.Collection("clinics").Doc(DemoClinicID)
	if _, err := clinic.Set(ctx, map[string]any{
		"name":                "Demo Clinic",
		"timezone":            "Europe/London",
		"doctorsOnDuty":       2,
		"scribeRetentionDays": 30,
		"sessionIdleMinutes":  15,
		"updatedAt":           now,
	}); err != nil {
		return err
	}
	s.Accounts = nil
	for _, role := range demoRoles {
		acc := Account{Role: role, Email: role + "@demo-clinic.medi.test", Password: "demo-" + role + "-pass"}
		u, err := ac.GetUserByEmail(ctx, acc.Email)
		if fbauth.IsUserNotFound(err) {
			u, err = ac.CreateUser(ctx, (&fbauth.UserToCreate{}).Email(acc.Email).Password(acc.Password).
				DisplayName("Demo "+role).EmailVerified(true))
		}
		if err != nil {
			return fmt.Errorf("account %s: %w", role, err)
		}
		acc.UID = u.UID
		if err := ac.SetCustomUserClaims(ctx, u.UID, map[string]any{"role": role, "clinicId": DemoClinicID}); err != nil {
			return err
		}
		// The profile staff management would have written; the seed is its author.
		if _, err := fs.Collection(staff.Collection).Doc(u.UID).Set(ctx, staff.Profile{
			UID: u.UID, Email: acc.Email, DisplayName: "Demo " + role, Role: auth.Role(role), ClinicID: DemoClinicID,
			CreatedAt: now, CreatedBy: seedActor, UpdatedAt: now, UpdatedBy: seedActor,
		}); err != nil {
			return err
		}
		s.Accounts = append(s.Accounts, acc)
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

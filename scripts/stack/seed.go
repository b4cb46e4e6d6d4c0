package stack

import (
	"context"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"
	firebase "firebase.google.com/go/v4"
	fbauth "firebase.google.com/go/v4/auth"
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
		"name":               "Demo Clinic",
		"timezone":           "Europe/London",
		"doctorsOnDuty":      2,
		"retentionDays":      30,
		"sessionIdleMinutes": 15,
		"updatedAt":          now,
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
		if _, err := fs.Collection("users").Doc(u.UID).Set(ctx, map[string]any{
			"email": acc.Email, "displayName": "Demo " + role, "role": role,
			"clinicId": DemoClinicID, "disabled": false, "updatedAt": now,
		}); err != nil {
			return err
		}
		s.Accounts = append(s.Accounts, acc)
	}
	// Synthetic patients (no real person): enough to try search and check-in.
	patients := []map[string]any{
		{"givenName": "Ada", "familyName": "Lovelace", "birthDate": "1985-12-10", "sex": "female", "mrn": "DEMO-000001"},
		{"givenName": "José", "familyName": "Núñez", "birthDate": "1972-03-04", "sex": "male", "mrn": "DEMO-000002"},
		{"givenName": "Mia", "familyName": "Okafor", "birthDate": "2019-07-21", "sex": "female", "mrn": "DEMO-000003"},
	}
	for i, p := range patients {
		p["createdAt"] = now
		p["version"] = 1
		p["allergies"] = []any{}
		p["medications"] = []any{}
		p["problems"] = []any{}
		if _, err := clinic.Collection("patients").Doc(fmt.Sprintf("demo-patient-%d", i+1)).Set(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

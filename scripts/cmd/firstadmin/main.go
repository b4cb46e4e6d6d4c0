// Command firstadmin creates the first administrator of a clinic. Nobody can choose their
// own role through the API and only admins create staff, so the first admin is made by an
// operator with Application Default Credentials (gcloud auth application-default login,
// an account allowed to manage Identity Platform users and write Firestore):
//
//	go run ./scripts/cmd/firstadmin -project medi-prod -clinic er-north \
//	    -email head.nurse@example.org -name "Head Nurse" [-clinic-name "ER North"] \
//	    [-organization org-1] [-auth-project medi-identity]
//
// It creates (or reuses) the Auth user, sets the custom claims {role: admin, clinicId},
// writes users/{uid} and an audit record in the clinic, creates clinics/{clinic} when
// missing, and prints a one-time password-setup link for the operator to hand over in
// person. It refuses when the clinic already has an admin (use the API then). With
// FIRESTORE_EMULATOR_HOST and FIREBASE_AUTH_EMULATOR_HOST set it works on the emulators.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"

	"cloud.google.com/go/firestore"
	firebase "firebase.google.com/go/v4"
	fbauth "firebase.google.com/go/v4/auth"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/medi-os/medi/shared/audit"
	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/staff"
)

type options struct {
	project, authProject, clinic, clinicName, organization, email, name, operator string
}

func main() {
	var o options
	flag.StringVar(&o.project, "project", os.Getenv("GOOGLE_CLOUD_PROJECT"), "Google Cloud project (Firestore)")
	flag.StringVar(&o.authProject, "auth-project", "", "Identity Platform project when not -project")
	flag.StringVar(&o.clinic, "clinic", "", "clinic id")
	flag.StringVar(&o.clinicName, "clinic-name", "", "clinic name, when the clinic document is created")
	flag.StringVar(&o.organization, "organization", "", "organization id of the clinic (break-glass scope), when created")
	flag.StringVar(&o.email, "email", "", "the admin's e-mail address")
	flag.StringVar(&o.name, "name", "", "the admin's display name")
	flag.StringVar(&o.operator, "operator", os.Getenv("USER"), "who runs this (recorded in the audit trail)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "firstadmin:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	o.email = strings.ToLower(strings.TrimSpace(o.email))
	var missing []string
	for flagName, v := range map[string]string{"-project": o.project, "-clinic": o.clinic, "-email": o.email, "-name": o.name} {
		if strings.TrimSpace(v) == "" {
			missing = append(missing, flagName)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing %s", strings.Join(missing, ", "))
	}
	if strings.Contains(o.clinic, "/") {
		return errors.New("-clinic must not contain '/'")
	}
	if o.authProject == "" {
		o.authProject = o.project
	}
	app, err := firebase.NewApp(ctx, &firebase.Config{ProjectID: o.authProject})
	if err != nil {
		return fmt.Errorf("firebase app (Application Default Credentials): %w", err)
	}
	users, err := app.Auth(ctx)
	if err != nil {
		return fmt.Errorf("auth client: %w", err)
	}
	fs, err := firestore.NewClient(ctx, o.project)
	if err != nil {
		return fmt.Errorf("firestore client: %w", err)
	}
	defer fs.Close()

	admins, err := fs.Collection(staff.Collection).Where("clinicId", "==", o.clinic).
		Where("role", "==", string(auth.RoleAdmin)).Limit(1).Documents(ctx).GetAll()
	if err != nil {
		return fmt.Errorf("checking existing admins: %w", err)
	}
	if len(admins) > 0 {
		return fmt.Errorf("clinic %s already has an admin (%s): create further staff through POST /v1/staff", o.clinic, admins[0].Ref.ID)
	}

	u, err := users.GetUserByEmail(ctx, o.email)
	switch {
	case fbauth.IsUserNotFound(err):
		u, err = users.CreateUser(ctx, (&fbauth.UserToCreate{}).Email(o.email).DisplayName(o.name))
		if err != nil {
			return fmt.Errorf("creating user: %w", err)
		}
	case err != nil:
		return fmt.Errorf("looking up user: %w", err)
	}
	if err := users.SetCustomUserClaims(ctx, u.UID, staff.Claims(auth.RoleAdmin, o.clinic)); err != nil {
		return fmt.Errorf("setting claims: %w", err)
	}
	// Tokens issued before the claims do not carry them; make the user sign in again.
	if err := users.RevokeRefreshTokens(ctx, u.UID); err != nil {
		return fmt.Errorf("revoking old tokens: %w", err)
	}

	now := time.Now().UTC()
	actor := "bootstrap:" + o.operator
	p := staff.Profile{UID: u.UID, Email: o.email, DisplayName: o.name, Role: auth.RoleAdmin, ClinicID: o.clinic,
		CreatedAt: now, CreatedBy: actor, UpdatedAt: now, UpdatedBy: actor}
	clinicRef := fs.Collection("clinics").Doc(o.clinic)
	err = fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		_, err := tx.Get(clinicRef)
		if err != nil && status.Code(err) != codes.NotFound {
			return err
		}
		createClinic := status.Code(err) == codes.NotFound
		if createClinic {
			fields := map[string]any{"name": o.clinicName, "createdAt": now}
			if o.organization != "" {
				fields["organizationId"] = o.organization
			}
			if err := tx.Create(clinicRef, fields); err != nil {
				return err
			}
		}
		if err := tx.Set(fs.Collection(staff.Collection).Doc(u.UID), p); err != nil {
			return err
		}
		rec := audit.New(ctx, o.clinic, staff.ActionCreate, "staff", u.UID).WithReason("first admin created by firstadmin")
		rec.ActorUID, rec.ActorRole = actor, "operator"
		return rec.InTransaction(fs, tx)
	})
	if err != nil {
		return fmt.Errorf("writing profile: %w", err)
	}
	link, err := users.PasswordResetLink(ctx, o.email)
	if err != nil {
		return fmt.Errorf("password-setup link: %w", err)
	}
	fmt.Printf("admin %s (uid %s) of clinic %s is ready.\n", o.email, u.UID, o.clinic)
	fmt.Printf("Hand this one-time password-setup link to them in person (do not e-mail it):\n%s\n", link)
	return nil
}

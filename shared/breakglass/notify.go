package breakglass

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/events"
	"github.com/medi-os/medi/shared/logging"
	"github.com/medi-os/medi/shared/mail"
	"github.com/medi-os/medi/shared/staff"
	"github.com/medi-os/medi/shared/tasks"
)

// Log messages of the alert consumer (the access-alerts function). Log-based metrics and
// alerts match them exactly (terraform/monitoring.tf); they carry ids and counts only.
const (
	// AlertedMessage is logged (INFO) once the alert mails of a grant are queued, with
	// grantId, clinicId, granteeClinicId, granteeUid, recipients and skipped.
	AlertedMessage = "break_glass_alerted"
	// NoRecipientMessage is logged (ERROR) when the patient's clinic has no active admin
	// with an address: nobody was told (runbook break-glass-unnotified).
	NoRecipientMessage = "break-glass alert has no recipient"
)

// Admin is an active admin of a clinic, whom a break-glass alert is mailed to.
type Admin struct {
	UID         string
	Email       string
	DisplayName string
}

// Requester is the member of staff who used break-glass access, as the alert names them.
type Requester struct {
	Name string
	Role string
}

// ClinicInfo is what an alert says about the patient's clinic.
type ClinicInfo struct {
	Name     string
	TimeZone string
}

// Directory finds who and what an alert names.
type Directory interface {
	// ActiveAdmins lists the admins of clinicID who are not disabled.
	ActiveAdmins(ctx context.Context, clinicID string) ([]Admin, error)
	// Requester returns the staff member uid; ok is false when there is no profile.
	Requester(ctx context.Context, uid string) (r Requester, ok bool, err error)
	// Clinic returns the clinic's name and time zone (zero when it has no document).
	Clinic(ctx context.Context, clinicID string) (ClinicInfo, error)
}

// MailQueue queues mail for the mailer (*mail.Queue).
type MailQueue interface {
	Enqueue(ctx context.Context, t mail.Task) error
}

// Notifier turns break-glass grant events into one alert mail per active admin of the
// patient's clinic (the access-alerts function).
type Notifier struct {
	dir  Directory
	mail MailQueue
}

// NewNotifier returns a Notifier looking people up in dir and queueing mail on q.
func NewNotifier(dir Directory, q MailQueue) *Notifier { return &Notifier{dir: dir, mail: q} }

// AlertTaskID is the mail task name of the alert of event eventID to admin uid: every
// delivery of the event queues the same names, so Cloud Tasks (and the local dispatcher)
// keep one task per admin, and the mailer sends each task once.
func AlertTaskID(eventID, adminUID string) string {
	return tasks.TaskID("break-glass-alert", eventID, adminUID)
}

// Notify handles one access-events envelope. Grant events queue one alert mail per
// active admin of the patient's clinic; other types are ignored. Errors are permanent
// (events.Permanent) when the event can never be handled; others ask for redelivery,
// which queues only the mails not queued yet (same task names).
func (n *Notifier) Notify(ctx context.Context, env events.Envelope) error {
	if env.Type != EventGranted {
		return nil
	}
	if env.SchemaVersion != 1 {
		return events.Permanent(fmt.Errorf("access: %s schema version %d is not supported", env.Type, env.SchemaVersion))
	}
	var a Alert
	if err := env.DecodeData(&a); err != nil {
		return err
	}
	if a.GrantID == "" || a.ClinicID == "" || a.GranteeUID == "" || a.ClinicID != env.ClinicID {
		return events.Permanent(errors.New("access: grant event lacks grant, clinic or grantee, or names another clinic"))
	}
	log := logging.FromContext(ctx).With(slog.String("grantId", a.GrantID), slog.String("clinicId", a.ClinicID),
		slog.String("granteeClinicId", a.GranteeClinic), slog.String("granteeUid", a.GranteeUID))

	admins, err := n.dir.ActiveAdmins(ctx, a.ClinicID)
	if err != nil {
		return fmt.Errorf("access: listing the clinic's admins: %w", err)
	}
	if len(admins) == 0 {
		log.LogAttrs(ctx, slog.LevelError, NoRecipientMessage, slog.Int("recipients", 0))
		return nil
	}
	req, _, err := n.dir.Requester(ctx, a.GranteeUID)
	if err != nil {
		return fmt.Errorf("access: reading the requester's profile: %w", err)
	}
	clinic, err := n.dir.Clinic(ctx, a.ClinicID)
	if err != nil {
		return fmt.Errorf("access: reading the clinic: %w", err)
	}
	content := &mail.BreakGlassAlert{
		ClinicID: a.ClinicID, ClinicName: clinic.Name, TimeZone: clinic.TimeZone, GrantID: a.GrantID,
		RequesterUID: a.GranteeUID, RequesterName: req.Name, RequesterRole: req.Role, RequesterClinicID: a.GranteeClinic,
		GrantedAt: grantedAt(a, env), ExpiresAt: a.ExpiresAt,
	}
	queued, skipped := 0, 0
	var failed []error
	for _, admin := range admins {
		t := mail.Task{ID: AlertTaskID(env.EventID, admin.UID), Kind: mail.KindBreakGlassAlert,
			To: admin.Email, DisplayName: admin.DisplayName, Alert: content}
		err := t.Validate()
		if err == nil {
			err = n.mail.Enqueue(ctx, t)
		} else {
			err = fmt.Errorf("%w: %v", tasks.ErrInvalidTask, err)
		}
		switch {
		case err == nil:
			queued++
		case errors.Is(err, tasks.ErrInvalidTask):
			// An address that can never be mailed: the others are still told.
			skipped++
			log.LogAttrs(ctx, slog.LevelWarn, "break-glass alert not queued for an admin: invalid task", slog.String("adminUid", admin.UID))
		default:
			failed = append(failed, err)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("access: %d of %d alert mails not queued: %w", len(failed), len(admins), failed[0])
	}
	if queued == 0 {
		log.LogAttrs(ctx, slog.LevelError, NoRecipientMessage, slog.Int("recipients", 0), slog.Int("skipped", skipped))
		return nil
	}
	log.LogAttrs(ctx, slog.LevelInfo, AlertedMessage, slog.Int("recipients", queued), slog.Int("skipped", skipped))
	return nil
}

// grantedAt is the time of the grant: from the event, else one Duration before expiry,
// else when the event occurred.
func grantedAt(a Alert, env events.Envelope) time.Time {
	switch {
	case !a.GrantedAt.IsZero():
		return a.GrantedAt
	case !a.ExpiresAt.IsZero():
		return a.ExpiresAt.Add(-Duration)
	}
	return env.OccurredAt
}

// FirestoreDirectory is the Directory over the staff profiles (users/{uid}, mirroring
// the custom claims) and the clinic documents.
type FirestoreDirectory struct{ fs *firestore.Client }

// NewFirestoreDirectory returns a Directory over fs.
func NewFirestoreDirectory(fs *firestore.Client) *FirestoreDirectory {
	return &FirestoreDirectory{fs: fs}
}

// ActiveAdmins implements Directory: profiles of the clinic with role admin, not
// disabled, with an address.
func (d *FirestoreDirectory) ActiveAdmins(ctx context.Context, clinicID string) ([]Admin, error) {
	snaps, err := d.fs.Collection(staff.Collection).Where("clinicId", "==", clinicID).
		Where("role", "==", string(auth.RoleAdmin)).Documents(ctx).GetAll()
	if err != nil {
		return nil, err
	}
	var out []Admin
	for _, s := range snaps {
		var p staff.Profile
		if err := s.DataTo(&p); err != nil {
			return nil, fmt.Errorf("staff profile %s: %w", s.Ref.ID, err)
		}
		if p.Disabled || p.Email == "" {
			continue
		}
		out = append(out, Admin{UID: s.Ref.ID, Email: p.Email, DisplayName: p.DisplayName})
	}
	return out, nil
}

// Requester implements Directory.
func (d *FirestoreDirectory) Requester(ctx context.Context, uid string) (Requester, bool, error) {
	snap, err := d.fs.Collection(staff.Collection).Doc(uid).Get(ctx)
	if status.Code(err) == codes.NotFound {
		return Requester{}, false, nil
	}
	if err != nil {
		return Requester{}, false, err
	}
	var p staff.Profile
	if err := snap.DataTo(&p); err != nil {
		return Requester{}, false, fmt.Errorf("staff profile %s: %w", uid, err)
	}
	return Requester{Name: p.DisplayName, Role: string(p.Role)}, true, nil
}

// Clinic implements Directory.
func (d *FirestoreDirectory) Clinic(ctx context.Context, clinicID string) (ClinicInfo, error) {
	snap, err := d.fs.Collection("clinics").Doc(clinicID).Get(ctx)
	if status.Code(err) == codes.NotFound {
		return ClinicInfo{}, nil
	}
	if err != nil {
		return ClinicInfo{}, err
	}
	name, _ := snap.Data()["name"].(string)
	tz, _ := snap.Data()["timezone"].(string)
	return ClinicInfo{Name: name, TimeZone: tz}, nil
}

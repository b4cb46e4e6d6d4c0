package mail

import (
	"errors"
	"net/url"
	"strings"
	"time"
)

// KindBreakGlassAlert tells an admin of a clinic that a member of staff used break-glass
// (emergency) access to one of the clinic's patients. It names the clinic, the grant,
// the requester and the time, and where to review the grant; never the patient or the
// stated reason (free text that can hold clinical details): the admin reads those in the
// admin app, where the read is audited.
const KindBreakGlassAlert = "break_glass_alert"

// GrantListPath is the admin app's page of the clinic's break-glass grants (the app
// lists them with GET /v1/access/break-glass); ReviewPath selects one grant on it.
const GrantListPath = "/admin/access/break-glass"

// BreakGlassAlert is what a break-glass alert mail says. Identifiers, staff and clinic
// names and times only: no patient data.
type BreakGlassAlert struct {
	// ClinicID and ClinicName are the patient's clinic, whose admins are alerted.
	ClinicID   string `json:"clinicId"`
	ClinicName string `json:"clinicName,omitempty"`
	// TimeZone is the clinic's IANA time zone for the times shown (UTC when empty or
	// unknown).
	TimeZone string `json:"timeZone,omitempty"`
	// GrantID identifies the grant (bg-...).
	GrantID string `json:"grantId"`
	// Requester is the member of staff who used break-glass access: uid, name and role,
	// and their own clinic.
	RequesterUID      string `json:"requesterUid"`
	RequesterName     string `json:"requesterName,omitempty"`
	RequesterRole     string `json:"requesterRole,omitempty"`
	RequesterClinicID string `json:"requesterClinicId,omitempty"`
	// GrantedAt and ExpiresAt bound the access.
	GrantedAt time.Time `json:"grantedAt"`
	ExpiresAt time.Time `json:"expiresAt"`
}

func (a *BreakGlassAlert) validate() error {
	var errs []error
	if a == nil {
		return errors.New("alert is required for " + KindBreakGlassAlert)
	}
	if a.ClinicID == "" || a.GrantID == "" || a.RequesterUID == "" {
		errs = append(errs, errors.New("alert needs clinic, grant and requester"))
	}
	if a.GrantedAt.IsZero() {
		errs = append(errs, errors.New("alert needs the time of the grant"))
	}
	return errors.Join(errs...)
}

// ReviewPath is the path of the grant on the admin app's grant list.
func (a BreakGlassAlert) ReviewPath() string {
	return GrantListPath + "?grant=" + url.QueryEscape(a.GrantID)
}

// Clinic names the clinic for the mail: "Name (id)" or the id.
func (a BreakGlassAlert) Clinic() string {
	if strings.TrimSpace(a.ClinicName) == "" {
		return a.ClinicID
	}
	return a.ClinicName + " (" + a.ClinicID + ")"
}

// Requester names the member of staff for the mail: name, role, uid and clinic.
func (a BreakGlassAlert) Requester() string {
	var b strings.Builder
	if a.RequesterName != "" {
		b.WriteString(a.RequesterName + ", ")
	}
	if a.RequesterRole != "" {
		b.WriteString(a.RequesterRole + ", ")
	}
	b.WriteString("account " + a.RequesterUID)
	if a.RequesterClinicID != "" {
		b.WriteString(", of clinic " + a.RequesterClinicID)
	}
	return b.String()
}

// Granted is the time of the grant in the clinic's time zone, with UTC.
func (a BreakGlassAlert) Granted() string { return a.format(a.GrantedAt) }

// Expires is the end of the access in the clinic's time zone, with UTC ("" when unknown).
func (a BreakGlassAlert) Expires() string {
	if a.ExpiresAt.IsZero() {
		return ""
	}
	return a.format(a.ExpiresAt)
}

func (a BreakGlassAlert) format(t time.Time) string {
	utc := t.UTC().Format("2006-01-02 15:04 UTC")
	if a.TimeZone == "" {
		return utc
	}
	loc, err := time.LoadLocation(a.TimeZone)
	if err != nil || loc == time.UTC {
		return utc
	}
	return t.In(loc).Format("2006-01-02 15:04 MST") + " (" + utc + ")"
}

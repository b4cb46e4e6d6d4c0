package admin

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"cloud.google.com/go/firestore"

	"github.com/medi-os/medi/shared/apierr"
	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/logging"
	"github.com/medi-os/medi/shared/staff"
)

// MaxDoctors bounds the doctor directory: a clinic has tens of doctors. A clinic with
// more active doctors gets the first MaxDoctors by uid, sorted, and Truncated set.
const MaxDoctors = 200

// Doctor is one entry of the doctor directory: only what choosing a doctor needs.
type Doctor struct {
	UID         string `json:"uid"`
	DisplayName string `json:"displayName"`
}

// DoctorDirectory is the body of GET /v1/staff/doctors.
type DoctorDirectory struct {
	// Doctors are the clinic's active doctors, by display name (case-insensitively), then uid.
	Doctors []Doctor `json:"items"`
	// Truncated is true when the clinic has more than MaxDoctors active doctors.
	Truncated bool `json:"truncated"`
}

// handleListDoctors answers GET /v1/staff/doctors for every role of a clinic: the active
// doctors of the caller's own clinic (from the token's clinic claim), so that a nurse or
// an admin can name the doctorUid of a consultation. Like the admin's staff list, a read
// of the staff directory is not audited: it holds no patient data, and the assignment it
// leads to is audited with the encounter's transition.
func (s *server) handleListDoctors(w http.ResponseWriter, r *http.Request) {
	if len(r.URL.Query()) > 0 {
		var fe []apierr.FieldError
		for k := range r.URL.Query() {
			fe = append(fe, apierr.FieldError{Field: k, Message: "unknown query parameter; this endpoint takes none"})
		}
		slices.SortFunc(fe, func(a, b apierr.FieldError) int { return strings.Compare(a.Field, b.Field) })
		httpx.WriteError(w, r, httpx.InvalidFields(fe))
		return
	}
	d, ok := s.get(w, r)
	if !ok {
		return
	}
	p, _ := auth.FromContext(r.Context())
	dir, err := activeDoctors(r.Context(), d.fs, p.ClinicID)
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	httpx.WriteJSON(w, r, http.StatusOK, dir)
}

// activeDoctors reads the profiles (users/{uid}) of clinicID with role doctor that are
// not disabled: the same conditions under which shared/encounter accepts a doctorUid.
// Equality filters only, so Firestore serves the query from single-field indexes; the
// order by name is applied here.
func activeDoctors(ctx context.Context, fs *firestore.Client, clinicID string) (DoctorDirectory, error) {
	snaps, err := fs.Collection(staff.Collection).
		Where("clinicId", "==", clinicID).
		Where("role", "==", string(auth.RoleDoctor)).
		Where("disabled", "==", false).
		Limit(MaxDoctors + 1).Documents(ctx).GetAll()
	if err != nil {
		return DoctorDirectory{}, httpx.Unavailable(2, fmt.Errorf("listing doctors: %w", err))
	}
	out := DoctorDirectory{Doctors: make([]Doctor, 0, min(len(snaps), MaxDoctors))}
	if len(snaps) > MaxDoctors {
		snaps, out.Truncated = snaps[:MaxDoctors], true
		logging.FromContext(ctx).Warn("doctor directory truncated", "limit", MaxDoctors)
	}
	for _, snap := range snaps {
		var prof struct {
			DisplayName string `firestore:"displayName"`
		}
		if err := snap.DataTo(&prof); err != nil {
			// One malformed profile must not hide every other doctor.
			logging.FromContext(ctx).Warn("staff profile skipped in the doctor directory", "uid", snap.Ref.ID, "error", err.Error())
			continue
		}
		out.Doctors = append(out.Doctors, Doctor{UID: snap.Ref.ID, DisplayName: prof.DisplayName})
	}
	slices.SortFunc(out.Doctors, func(a, b Doctor) int {
		return cmp.Or(
			strings.Compare(strings.ToLower(a.DisplayName), strings.ToLower(b.DisplayName)),
			strings.Compare(a.DisplayName, b.DisplayName),
			strings.Compare(a.UID, b.UID),
		)
	})
	return out, nil
}

package patients

import (
	"errors"
	"net/http"

	"github.com/medi-os/medi/shared/audit"
	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/patient"
)

// breakGlassRoles may read another clinic's patient under an active break-glass grant.
var breakGlassRoles = []auth.Role{auth.RoleDoctor, auth.RoleNurse}

// get returns one patient of the caller's clinic with its version as ETag. A doctor or
// nurse holding an active break-glass grant for the patient (POST /v1/access/break-glass)
// reads it from the patient's own clinic; that read is audited in the patient's clinic
// with the grant's reason.
func (h *handlers) get(w http.ResponseWriter, r *http.Request) {
	st, caller, ok := h.storeFor(w, r)
	if !ok {
		return
	}
	id := r.PathValue("id")
	p, err := st.Get(r.Context(), caller.ClinicID, id)
	if errors.Is(err, patient.ErrNotFound) && caller.HasRole(breakGlassRoles...) {
		p, err = h.breakGlassGet(r, st, caller, id)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("ETag", etag(p.Version))
	httpx.WriteJSON(w, r, http.StatusOK, p)
}

// breakGlassGet reads patient id of another clinic when the caller holds an active grant
// for it; without one the answer stays "not found".
func (h *handlers) breakGlassGet(r *http.Request, st *patient.Store, caller auth.Principal, id string) (patient.Patient, error) {
	ctx := r.Context()
	grants, err := h.grants.Get(ctx)
	if err != nil {
		return patient.Patient{}, httpx.Unavailable(2, err)
	}
	g, ok, err := grants.GrantFor(ctx, caller.UID, id)
	if err != nil {
		return patient.Patient{}, err
	}
	if !ok || g.ClinicID == caller.ClinicID {
		return patient.Patient{}, patient.ErrNotFound
	}
	fs, err := h.firestore(ctx)
	if err != nil {
		return patient.Patient{}, httpx.Unavailable(2, err)
	}
	// The emergency read itself is recorded first, with the grant's reason (fail closed).
	rec := audit.New(ctx, g.ClinicID, "patient.read_break_glass", "patient", id).ForPatient(id).WithReason(g.Reason)
	if err := rec.Write(ctx, fs); err != nil {
		return patient.Patient{}, httpx.Unavailable(2, err)
	}
	return st.Get(ctx, g.ClinicID, id)
}

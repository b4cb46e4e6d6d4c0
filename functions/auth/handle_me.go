package auth

import (
	"net/http"

	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/httpx"
)

// Me is the body of GET /v1/me.
type Me struct {
	UID      string    `json:"uid"`
	Email    string    `json:"email"`
	Role     auth.Role `json:"role"`
	ClinicID string    `json:"clinicId"`
}

func handleMe(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.FromContext(r.Context())
	httpx.WriteJSON(w, r, http.StatusOK, Me{UID: p.UID, Email: p.Email, Role: p.Role, ClinicID: p.ClinicID})
}

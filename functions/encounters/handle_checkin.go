package encounters

import (
	"net/http"

	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/encounter"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/httpx/idempotency"
)

// checkInRequest is the body of POST /v1/encounters.
type checkInRequest struct {
	PatientID      string `json:"patientId"`
	ChiefComplaint string `json:"chiefComplaint"`
	ArrivalMode    string `json:"arrivalMode"`
}

// handleCheckIn opens an encounter: 201 with the encounter, Location and ETag.
func (s *server) handleCheckIn(w http.ResponseWriter, r *http.Request) {
	var req checkInRequest
	if err := httpx.Bind(w, r, &req, 0); err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	st, ok := s.encounterStore(w, r)
	if !ok {
		return
	}
	p, _ := auth.FromContext(r.Context())
	enc, err := st.CheckIn(r.Context(), p, encounter.CheckIn{
		PatientID:      req.PatientID,
		ChiefComplaint: req.ChiefComplaint,
		ArrivalMode:    encounter.ArrivalMode(req.ArrivalMode),
	}, idempotency.MarkerFrom(r.Context()))
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/encounters/"+enc.ID)
	w.Header().Set("ETag", etag(enc.Version))
	httpx.WriteJSON(w, r, http.StatusCreated, enc)
}

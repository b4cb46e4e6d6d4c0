package summarize

import (
	"errors"
	"net/http"
	"time"

	"github.com/medi-os/medi/shared/apierr"
	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/ratelimit"
	"github.com/medi-os/medi/shared/summary"
)

// Response is the body of GET /v1/summaries/{patientId}.
type Response struct {
	PatientID string `json:"patientId"`
	// Status is fresh, stale or pending (no summary yet).
	Status string `json:"status"`
	Stale  bool   `json:"stale"`
	// Regenerating is true when a rebuild was enqueued by this request or is under way.
	Regenerating   bool               `json:"regenerating"`
	Summary        *summary.Summary   `json:"summary,omitempty"`
	Citations      []summary.Citation `json:"citations,omitempty"`
	SourceHash     string             `json:"sourceHash,omitempty"`
	Engine         string             `json:"engine,omitempty"`
	Model          string             `json:"model,omitempty"`
	Usage          *summary.Usage     `json:"usage,omitempty"`
	FallbackReason string             `json:"fallbackReason,omitempty"`
	BuiltAt        *time.Time         `json:"builtAt,omitempty"`
}

// get answers 200 with a fresh or stale summary, 202 while the first one is built.
func (h *handlers) get(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	caller, ok := auth.FromContext(ctx)
	if !ok {
		httpx.WriteError(w, r, httpx.Unauthenticated("missing principal"))
		return
	}
	var refresh bool
	switch r.URL.Query().Get("refresh") {
	case "", "false":
	case "true":
		refresh = true
	default:
		httpx.WriteError(w, r, httpx.InvalidFields([]apierr.FieldError{{Field: "refresh", Message: "must be true or false"}}))
		return
	}
	svc, err := h.service.Get(ctx)
	if err != nil {
		httpx.WriteError(w, r, httpx.Unavailable(2, err))
		return
	}
	pid := r.PathValue("patientId")
	if refresh {
		lim, err := h.limiter.Get(ctx)
		if err != nil {
			httpx.WriteError(w, r, httpx.Unavailable(2, err))
			return
		}
		// Counted before the patient is known to exist: a refresh of a missing id is as
		// limited as one of a real patient, so the limit reveals nothing.
		if err := lim.Check(ctx, ratelimit.Rule{Name: "summary-refresh",
			Limit: ratelimit.Limit{N: h.cfg.RefreshLimit, Window: h.cfg.RefreshWindow},
			Key:   caller.ClinicID + "/" + pid}); err != nil {
			httpx.WriteError(w, r, err)
			return
		}
	}
	ans, err := svc.Read(ctx, caller.ClinicID, pid, refresh)
	switch {
	case errors.Is(err, summary.ErrPatientNotFound):
		httpx.WriteError(w, r, httpx.NotFound("patient not found"))
		return
	case err != nil:
		httpx.WriteError(w, r, httpx.Unavailable(2, err))
		return
	}
	resp := Response{PatientID: pid, Status: ans.State, Stale: ans.State == summary.StateStale, Regenerating: ans.Regenerating}
	if st := ans.Stored; st != nil {
		resp.Summary, resp.Citations, resp.SourceHash = &st.Summary, st.Citations, st.SourceHash
		resp.Engine, resp.Model, resp.Usage, resp.FallbackReason = st.Engine, st.Model, st.Usage, st.FallbackReason
		built := st.BuiltAt
		resp.BuiltAt = &built
	}
	code := http.StatusOK
	if ans.State == summary.StatePending {
		code = http.StatusAccepted
	}
	httpx.WriteJSON(w, r, code, resp)
}

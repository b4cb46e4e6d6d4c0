package scribe

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/medi-os/medi/shared/apierr"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/httpx/idempotency"
	"github.com/medi-os/medi/shared/logging"
	"github.com/medi-os/medi/shared/scribe"
	"github.com/medi-os/medi/shared/uploads"
)

// createSessionRequest is the body of POST /v1/scribe/sessions.
type createSessionRequest struct {
	EncounterID string `json:"encounterId"`
	ContentType string `json:"contentType"`
	SizeBytes   int64  `json:"sizeBytes"`
}

// createSessionResponse is the created session and where to upload.
type createSessionResponse struct {
	Session scribe.Session    `json:"session"`
	Upload  uploads.UploadURL `json:"upload"`
}

// handleCreateSession creates an upload session for an encounter of the caller's clinic
// and returns a V4 signed PUT URL with content type and size pinned.
func (s *server) handleCreateSession(w http.ResponseWriter, r *http.Request) {
	var req createSessionRequest
	if err := httpx.Bind(w, r, &req, 0); err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	var fields []apierr.FieldError
	req.EncounterID = strings.TrimSpace(req.EncounterID)
	if !validPathID(req.EncounterID) {
		fields = append(fields, apierr.FieldError{Field: "encounterId", Message: "required"})
	}
	f, ok := scribe.FormatOf(req.ContentType)
	if !ok {
		fields = append(fields, apierr.FieldError{Field: "contentType", Message: "must be one of " + strings.Join(scribe.AcceptedContentTypes(), ", ")})
	} else if req.SizeBytes < 1 || req.SizeBytes > f.MaxBytes {
		fields = append(fields, apierr.FieldError{Field: "sizeBytes", Message: fmt.Sprintf("must be between 1 and %d for %s uploads", f.MaxBytes, f.Kind)})
	}
	if len(fields) > 0 {
		httpx.WriteError(w, r, httpx.InvalidFields(fields))
		return
	}
	st, ok := lazy(w, r, s.sessions)
	if !ok {
		return
	}
	signer, ok := lazy(w, r, s.signer)
	if !ok {
		return
	}
	p := principal(r)
	sess, replayed, err := st.Create(r.Context(), scribe.Session{
		ID: uuid.NewString(), ClinicID: p.ClinicID, EncounterID: req.EncounterID, CreatedBy: p.UID,
		ContentType: req.ContentType, Format: f.Name, Kind: f.Kind, SizeBytes: req.SizeBytes, Bucket: s.cfg.UploadsBucket,
	}, idempotency.MarkerFrom(r.Context()))
	if err == scribe.ErrEncounterMissing {
		httpx.WriteError(w, r, httpx.NotFound("encounter not found"))
		return
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	if replayed {
		// The first attempt committed and its answer was lost: the same session, signed again.
		logging.FromContext(r.Context()).Info("scribe session creation retried after its commit; answered with its session", "sessionId", sess.ID)
	}
	// The URL requires the session's upload token as the object's metadata: ingest refuses
	// an object under this name without it (the name alone binds nothing).
	up, err := signer.SignUpload(r.Context(), s.cfg.UploadsBucket, sess.Object, req.ContentType, req.SizeBytes,
		map[string]string{scribe.UploadTokenMetadata: sess.UploadToken}, sess.CreatedAt)
	if err != nil {
		httpx.WriteError(w, r, httpx.Unavailable(2, err))
		return
	}
	httpx.WriteJSON(w, r, http.StatusCreated, createSessionResponse{Session: sess, Upload: up})
}

// Package scribe is the `scribe` HTTP function: upload sessions
// under /v1/scribe and clinical notes under /v1/notes. It decodes, calls shared/scribe and
// shared/notes, and encodes; one handler per file.
package scribe

import (
	"context"
	"net/http"
	"strings"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/medi-os/medi/shared/app"
	"github.com/medi-os/medi/shared/audit"
	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/events"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/httpx/idempotency"
	"github.com/medi-os/medi/shared/notes"
	"github.com/medi-os/medi/shared/scribe"
	"github.com/medi-os/medi/shared/uploads"
)

// Config is the function's configuration, read from the environment.
type Config struct {
	config.Base
	// UploadsBucket is the bucket uploads are signed for (scribe-ingest watches it).
	UploadsBucket string `env:"MEDI_UPLOADS_BUCKET, required"`
	// NoteEventsTopic receives note.approved.
	NoteEventsTopic string `env:"MEDI_TOPIC_NOTE_EVENTS, default=note-events"`
	// StorageEmulatorHost (dev only) makes upload URLs point at fake-gcs-server, signed
	// with an in-memory key. In staging/prod URLs are signed through IAM Credentials
	// signBlob as the function's service account.
	StorageEmulatorHost string `env:"STORAGE_EMULATOR_HOST"`
	// SignerServiceAccount optionally names the account that signs upload URLs
	// (default: the function's own, found on the metadata server).
	SignerServiceAccount string `env:"MEDI_SCRIBE_SIGNER_SA"`
	// FreshAuthMaxAge is how recent the doctor's sign-in must be to approve or amend a
	// note (signing it); older tokens get 401 reauthentication_required.
	FreshAuthMaxAge time.Duration `env:"MEDI_FRESH_AUTH_MAX_AGE, default=10m"`
}

// Function is the deployable, registered in functions.go as "scribe".
var Function = app.NewHTTP("scribe", func() *Config { return new(Config) }, setup)

// server holds what the handlers share; clients are created on first use.
type server struct {
	cfg      *Config
	env      *app.Env
	sessions *app.Lazy[*scribe.Store]
	notes    *app.Lazy[*notes.Store]
	signer   *app.Lazy[*uploads.URLSigner]
}

func setup(_ context.Context, cfg *Config, env *app.Env, rt *httpx.Router) error {
	s := &server{cfg: cfg, env: env}
	s.sessions = app.NewLazy(func(ctx context.Context) (*scribe.Store, error) {
		fs, err := env.Platform.Firestore(ctx)
		if err != nil {
			return nil, err
		}
		return scribe.NewStore(fs), nil
	})
	s.notes = app.NewLazy(func(ctx context.Context) (*notes.Store, error) {
		fs, err := env.Platform.Firestore(ctx)
		if err != nil {
			return nil, err
		}
		ps, err := env.Platform.PubSub(ctx)
		if err != nil {
			return nil, err
		}
		return notes.NewStore(fs, events.NewPubSubPublisher(ps), cfg.NoteEventsTopic), nil
	})
	s.signer = app.NewLazy(func(ctx context.Context) (*uploads.URLSigner, error) {
		c, err := env.Platform.Storage(ctx)
		if err != nil {
			return nil, err
		}
		if !env.Tier.IsDeployed() && cfg.StorageEmulatorHost != "" {
			return uploads.DevSigner(c, cfg.StorageEmulatorHost)
		}
		return &uploads.URLSigner{Client: c, GoogleAccessID: cfg.SignerServiceAccount}, nil
	})
	clin := s.env.Require(auth.RoleDoctor, auth.RoleNurse)
	doctor := s.env.Require(auth.RoleDoctor)
	idem := s.idempotent()
	// Signing a note (approve, amend) needs a recent sign-in, like staff changes.
	fresh := auth.RequireFresh(cfg.FreshAuthMaxAge, nil)
	rt.Handle(http.MethodPost, "/v1/scribe/sessions", httpx.Chain(http.HandlerFunc(s.handleCreateSession), clin, idem))
	rt.Handle(http.MethodGet, "/v1/scribe/sessions/{id}", clin(knownID(http.HandlerFunc(s.handleGetSession))))
	// The transcript is the doctor's to check a draft against (nurses upload, doctors sign).
	rt.Handle(http.MethodGet, "/v1/scribe/sessions/{id}/transcript", doctor(knownID(http.HandlerFunc(s.handleGetTranscript))))
	rt.Handle(http.MethodPost, "/v1/notes/search", clin(http.HandlerFunc(s.handleSearchNotes)))
	rt.Handle(http.MethodGet, "/v1/notes/{id}", clin(knownID(http.HandlerFunc(s.handleGetNote))))
	rt.Handle(http.MethodPut, "/v1/notes/{id}", httpx.Chain(knownID(http.HandlerFunc(s.handleEditNote)), clin, idem))
	rt.Handle(http.MethodGet, "/v1/notes/{id}/versions", clin(knownID(http.HandlerFunc(s.handleListVersions))))
	rt.Handle(http.MethodGet, "/v1/notes/{id}/versions/{n}", clin(knownID(http.HandlerFunc(s.handleGetVersion))))
	rt.Handle(http.MethodGet, "/v1/notes/{id}/fhir", clin(knownID(http.HandlerFunc(s.handleExportFHIR))))
	rt.Handle(http.MethodPost, "/v1/notes/{id}/submit", httpx.Chain(knownID(s.action(notes.ActionSubmit)), clin, idem))
	// Nurses reach approve and are refused there (403, audited as denied).
	rt.Handle(http.MethodPost, "/v1/notes/{id}/approve", httpx.Chain(knownID(s.action(notes.ActionApprove)), clin, fresh, idem))
	rt.Handle(http.MethodPost, "/v1/notes/{id}/reject", httpx.Chain(knownID(s.action(notes.ActionReject)), doctor, idem))
	rt.Handle(http.MethodPost, "/v1/notes/{id}/amend", httpx.Chain(knownID(s.action(notes.ActionAmend)), doctor, fresh, idem))
	return nil
}

// idempotent honours Idempotency-Key on mutations (after authentication: keys are
// scoped to the caller). The middleware needs Firestore, so it is built on first use.
func (s *server) idempotent() httpx.Middleware {
	return func(next http.Handler) http.Handler {
		h := app.NewLazy(func(ctx context.Context) (http.Handler, error) {
			fs, err := s.env.Platform.Firestore(ctx)
			if err != nil {
				return nil, err
			}
			return idempotency.Middleware(fs, idempotency.Options{Scope: func(r *http.Request) string {
				p, ok := auth.FromContext(r.Context())
				if !ok {
					return ""
				}
				return p.ClinicID + "/" + p.UID
			}, AuditReplay: audit.ReplayAuditor(fs)})(next), nil
		})
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hh, err := h.Get(r.Context())
			if err != nil {
				httpx.WriteError(w, r, httpx.Unavailable(2, err))
				return
			}
			hh.ServeHTTP(w, r)
		})
	}
}

// lazy returns the value of l or writes a 503.
func lazy[T any](w http.ResponseWriter, r *http.Request, l *app.Lazy[T]) (T, bool) {
	v, err := l.Get(r.Context())
	if err != nil {
		httpx.WriteError(w, r, httpx.Unavailable(2, err))
		var zero T
		return zero, false
	}
	return v, true
}

// writeError answers err: API errors as they are, a Firestore outage 503, else 500.
func writeError(w http.ResponseWriter, r *http.Request, err error) { httpx.WriteError(w, r, err) }

// auditRead records a read of patient data; when it cannot, the data is not returned.
func auditRead(w http.ResponseWriter, r *http.Request, fs *firestore.Client, rec interface {
	Write(context.Context, *firestore.Client) error
}) bool {
	if err := rec.Write(r.Context(), fs); err != nil {
		httpx.WriteError(w, r, httpx.Unavailable(2, err))
		return false
	}
	return true
}

func principal(r *http.Request) auth.Principal {
	p, _ := auth.FromContext(r.Context())
	return p
}

// knownID answers 404 for a path {id} the suite never creates (a reserved Firestore id
// such as __x__, a dot segment, an overlong id) instead of passing it to Firestore,
// which would refuse it with an error rather than "not found".
func knownID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !validPathID(r.PathValue("id")) {
			httpx.WriteError(w, r, httpx.NotFound("no such note or session"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// validPathID accepts the ids the suite creates (never one that Firestore reserves,
// __name__, which it would refuse with an error rather than "not found").
func validPathID(id string) bool {
	return id != "" && len(id) <= 128 && !strings.ContainsAny(id, "/.") &&
		!(len(id) >= 4 && strings.HasPrefix(id, "__") && strings.HasSuffix(id, "__"))
}

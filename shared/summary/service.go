package summary

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/medi-os/medi/shared/audit"
	"github.com/medi-os/medi/shared/logging"
	"github.com/medi-os/medi/shared/tasks"
)

// Audit action and resource type of a summary read.
const (
	ActionRead   = "summary.read"
	ResourceType = "summary"
)

// TaskPath is the worker endpoint tasks are POSTed to.
const TaskPath = "/tasks/summaries"

// ErrAudit is wrapped when the audit record of a read cannot be stored; nothing is
// returned then (fail closed).
var ErrAudit = errors.New("summary: audit record not stored")

// Job is the body of a summaries task: identifiers only.
type Job struct {
	ClinicID  string `json:"clinicId"`
	PatientID string `json:"patientId"`
	// SourceHash is the hash the producer saw (the worker reads the sources again).
	SourceHash string `json:"sourceHash"`
	// Force rebuilds even when the stored summary has the current hash.
	Force bool `json:"force,omitempty"`
}

// State of an Answer.
const (
	StateFresh   = "fresh"
	StateStale   = "stale"
	StatePending = "pending"
)

// Answer is the outcome of Read.
type Answer struct {
	State string
	// Stored is the stored summary (nil while pending).
	Stored *Stored
	// Regenerating is true when a task to rebuild the summary was enqueued.
	Regenerating bool
}

// Service serves summaries, enqueues their regeneration and builds them.
type Service struct {
	FS      *firestore.Client
	Loader  *Loader
	Store   *Store
	Builder *Builder
	// Queue and WorkerURL enqueue regeneration tasks (only readers and invalidators need
	// them).
	Queue     tasks.Enqueuer
	WorkerURL string
}

// NewService returns a Service reading and writing fs.
func NewService(fs *firestore.Client, b *Builder, q tasks.Enqueuer, workerURL string) *Service {
	if b == nil {
		b = &Builder{}
	}
	return &Service{FS: fs, Loader: NewLoader(fs), Store: NewStore(fs), Builder: b, Queue: q, WorkerURL: workerURL}
}

// Read returns the patient's summary: fresh when its source hash is the hash of the
// current records; otherwise the stale one (or none: pending) while a regeneration task
// is enqueued, one per patient and source hash. refresh enqueues a forced rebuild (the
// caller rate-limits it). The read is audited before anything is returned.
func (s *Service) Read(ctx context.Context, clinicID, patientID string, refresh bool) (Answer, error) {
	src, err := s.Loader.Load(ctx, clinicID, patientID)
	if err != nil {
		return Answer{}, err
	}
	hash := SourceHash(src)
	st, ok, err := s.Store.Get(ctx, clinicID, patientID)
	if err != nil {
		return Answer{}, err
	}
	ans := Answer{State: StatePending}
	if ok {
		ans.Stored = &st
		ans.State = StateStale
		if st.SourceHash == hash {
			ans.State = StateFresh
		}
	}
	if ans.State != StateFresh || refresh {
		job := Job{ClinicID: clinicID, PatientID: patientID, SourceHash: hash, Force: refresh && ans.State == StateFresh}
		if err := s.Enqueue(ctx, job); err != nil {
			return Answer{}, err
		}
		ans.Regenerating = true
	}
	rec := audit.New(ctx, clinicID, ActionRead, ResourceType, patientID).ForPatient(patientID).WithReason("summary " + ans.State)
	if err := rec.Write(ctx, s.FS); err != nil {
		return Answer{}, fmt.Errorf("%w: %w", ErrAudit, err)
	}
	return ans, nil
}

// RefreshWindow is the window forced rebuilds of one patient are named by: two refreshes
// within it enqueue one task.
const RefreshWindow = time.Minute

// Enqueue enqueues the regeneration of job: task name TaskID(clinic, patient, hash), so
// that every reader and invalidator seeing the same records asks for one task; a forced
// rebuild is named per RefreshWindow instead.
func (s *Service) Enqueue(ctx context.Context, job Job) error {
	if s.Queue == nil || s.WorkerURL == "" {
		return errors.New("summary: no task queue configured")
	}
	name := tasks.TaskID(job.ClinicID, job.PatientID, job.SourceHash)
	if job.Force {
		name = tasks.TaskID(job.ClinicID, job.PatientID, job.SourceHash, "refresh",
			strconv.FormatInt(time.Now().Truncate(RefreshWindow).Unix(), 10))
	}
	body, err := json.Marshal(job)
	if err != nil {
		return err
	}
	if err := s.Queue.Enqueue(ctx, tasks.Task{Queue: tasks.QueueSummaries, Name: name, URL: s.WorkerURL + TaskPath, Body: body}); err != nil {
		return fmt.Errorf("summary: enqueue regeneration: %w", err)
	}
	return nil
}

// Outcome is what Regenerate did.
type Outcome struct {
	// Wrote is false when the stored summary already had the current hash.
	Wrote  bool
	Stored Stored
}

// Regenerate builds the patient's summary from the current records and stores it,
// unless the stored one already has their hash (duplicate tasks write once).
// ErrPatientNotFound means the patient is gone: the task is done.
func (s *Service) Regenerate(ctx context.Context, job Job) (Outcome, error) {
	src, err := s.Loader.Load(ctx, job.ClinicID, job.PatientID)
	if err != nil {
		return Outcome{}, err
	}
	hash := SourceHash(src)
	if !job.Force {
		if st, ok, err := s.Store.Get(ctx, job.ClinicID, job.PatientID); err != nil {
			return Outcome{}, err
		} else if ok && st.SourceHash == hash {
			// Checked before the (possibly paid) build; a stale mark is only cleared.
			if st.Stale {
				if st, _, err = s.Store.Save(ctx, job.ClinicID, st, false); err != nil {
					return Outcome{}, err
				}
			}
			return Outcome{Stored: st}, nil
		}
	}
	built := s.Builder.Build(ctx, job.ClinicID, src)
	st, wrote, err := s.Store.Save(ctx, job.ClinicID, built, job.Force)
	if err != nil {
		return Outcome{}, err
	}
	logging.FromContext(ctx).LogAttrs(ctx, slog.LevelInfo, "summary regenerated",
		slog.Bool("wrote", wrote), slog.String("engine", st.Engine), slog.String("fallbackReason", st.FallbackReason))
	return Outcome{Wrote: wrote, Stored: st}, nil
}

// Invalidate marks the patient's summary stale and enqueues its regeneration (named by
// the current source hash, so it joins any task readers enqueued for the same records).
func (s *Service) Invalidate(ctx context.Context, clinicID, patientID string) error {
	if err := s.Store.MarkStale(ctx, clinicID, patientID); err != nil {
		return err
	}
	src, err := s.Loader.Load(ctx, clinicID, patientID)
	if err != nil {
		return err
	}
	return s.Enqueue(ctx, Job{ClinicID: clinicID, PatientID: patientID, SourceHash: SourceHash(src)})
}

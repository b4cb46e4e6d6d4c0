package triagerecord

import (
	"context"
	"log/slog"
	"time"

	"github.com/medi-os/medi/shared/logging"
	"github.com/medi-os/medi/shared/triage"
)

// SLABreachMessage is the message of the log line written when the time since arrival
// exceeds the level's target time to physician. A log-based metric counts lines with
// jsonPayload.slaBreach=true, labelled by level and stage.
const SLABreachMessage = "triage_sla_breach"

// SLAStage says when the SLA was checked.
type SLAStage string

// Stages at which the SLA is checked.
const (
	// SLAStageAssessment: an assessment was recorded (the patient is still waiting).
	SLAStageAssessment SLAStage = "assessment"
	// SLAStageConfirmation: a nurse confirmed a level (the patient is still waiting).
	SLAStageConfirmation SLAStage = "confirmation"
	// SLAStageConsultation: a doctor started the consultation; this is the time to
	// physician proper. The queue function checks it at start of consultation.
	SLAStageConsultation SLAStage = "consultation"
)

// SLACheck is one check of the time to physician against the level's target
// (triage-rules.md section 4). It holds identifiers and times only, never patient data.
type SLACheck struct {
	ClinicID    string
	EncounterID string
	Level       triage.Level
	ArrivedAt   time.Time
	// At is the time of the check (the consultation's start for SLAStageConsultation).
	At    time.Time
	Stage SLAStage
}

// Waited is the time from arrival to At (0 when arrival is unknown or after At).
func (c SLACheck) Waited() time.Duration {
	if c.ArrivedAt.IsZero() || c.At.Before(c.ArrivedAt) {
		return 0
	}
	return c.At.Sub(c.ArrivedAt)
}

// Target is the level's target time to physician (0 = immediate).
func (c SLACheck) Target() time.Duration { return triage.TargetTime(c.Level) }

// Breached reports whether the wait exceeds the target. A level 1 patient's target is
// "immediate", so any measurable wait is a breach; an unknown arrival time never is.
func (c SLACheck) Breached() bool {
	return !c.ArrivedAt.IsZero() && c.Level.Valid() && c.Waited() > c.Target()
}

// LogSLA writes the structured "triage_sla_breach" line (severity WARNING) with the
// logger carried by ctx when c is breached, and reports whether it was. The line holds
// ids, level, stage and minutes only:
//
//	{"severity":"WARNING","message":"triage_sla_breach","slaBreach":true,"esiLevel":2,
//	 "targetMinutes":15,"waitedMinutes":22,"stage":"assessment","clinicId":"...","encounterId":"..."}
//
// The level is logged as esiLevel because "level" is the log line's severity field.
func LogSLA(ctx context.Context, c SLACheck) bool {
	if !c.Breached() {
		return false
	}
	logging.FromContext(ctx).LogAttrs(ctx, slog.LevelWarn, SLABreachMessage,
		slog.Bool("slaBreach", true),
		slog.Int("esiLevel", int(c.Level)), // not "level": that key is the log severity
		slog.Int("targetMinutes", int(c.Target()/time.Minute)),
		slog.Int("waitedMinutes", int(c.Waited()/time.Minute)),
		slog.String("stage", string(c.Stage)),
		slog.String("clinicId", c.ClinicID),
		slog.String("encounterId", c.EncounterID),
	)
	return true
}

package triagerecord

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/medi-os/medi/shared/apierr"
	"github.com/medi-os/medi/shared/patient"
	"github.com/medi-os/medi/shared/triage"
)

// Firestore names read for the patient's age.
const (
	patientsCollection = "patients"
	birthDateField     = "birthDate"
	timezoneField      = "timezone"
)

// maxEngineAgeYears is the oldest age the triage engine accepts.
const maxEngineAgeYears = 120

// msgAgeDisagrees is the message for a stated age that the patient's birth date contradicts
// (it never repeats either value).
const msgAgeDisagrees = "does not agree with the patient's date of birth: leave the age out, it is taken from the patient record"

// withPatientAge gives in the age of the encounter's patient on the clinic's calendar date at
// at: an assessment recorded for an encounter takes the age from the patient record (the
// birth date), never from the body. A body that states an age is refused (400, one error per
// stated field) unless it agrees with the birth date: completed years when only ageYears is
// given, completed months when ageMonths is given, the exact calendar age when ageDays is
// given.
func (s *Service) withPatientAge(ctx context.Context, clinicID, encounterID string, in triage.Input, at time.Time) (triage.Input, error) {
	var (
		wg        sync.WaitGroup
		birthDate string
		loc       = time.UTC
		perr      error
	)
	clinic := s.fs.Collection(clinicsCollection).Doc(clinicID)
	// The clinic's time zone is read alongside the encounter and then the patient.
	wg.Add(1)
	go func() {
		defer wg.Done()
		// The clinic's time zone decides the calendar date; UTC when unset or unknown.
		if snap, err := clinic.Get(ctx); err == nil {
			if tz, _ := snap.Data()[timezoneField].(string); tz != "" {
				if l, err := time.LoadLocation(tz); err == nil {
					loc = l
				}
			}
		}
	}()
	enc, err := s.store.encounters.Get(ctx, clinicID, encounterID)
	if err != nil {
		wg.Wait()
		return in, err
	}
	snap, err := clinic.Collection(patientsCollection).Doc(enc.PatientID).Get(ctx)
	if err == nil {
		v, _ := snap.Data()[birthDateField].(string)
		birthDate = v
	} else {
		perr = err
	}
	wg.Wait()
	switch {
	case status.Code(perr) == codes.NotFound:
		// An encounter whose patient does not exist is a defect, not a client error.
		return in, apierr.Internal(errors.New("assessment: the encounter's patient record does not exist"))
	case perr != nil:
		return in, apierr.Unavailable(2, fmt.Errorf("assessment: reading the patient's birth date: %w", perr))
	}
	age, err := patient.AgeOn(birthDate, at.In(loc))
	if err != nil {
		// The patient record is validated on write; a missing or future birth date is a defect.
		return in, apierr.Internal(errors.Join(errors.New("assessment: the patient record has no usable birth date"), err))
	}
	if errs := statedAgeErrors(in, age); len(errs) > 0 {
		return in, InvalidInput(errs)
	}
	y, m, d := age.Years, age.Months, age.Days
	if y >= maxEngineAgeYears {
		// A birth date more than 120 years back (the patient record allows 1900 onwards) is
		// assessed at the engine's oldest age rather than refused: triage is never blocked
		// by a birth date to check.
		y, m, d = maxEngineAgeYears, 0, 0
	}
	in.AgeYears, in.AgeMonths, in.AgeDays = &y, &m, &d
	if y == 0 {
		in.AgeYears = nil
	}
	return in, nil
}

// statedAgeErrors lists the age fields of in that disagree with age (none when in states no
// age or agrees with it).
func statedAgeErrors(in triage.Input, age patient.Age) triage.FieldErrors {
	y, m, d := in.AgeYears, in.AgeMonths, in.AgeDays
	agrees := true
	switch {
	case y == nil && m == nil && d == nil:
		return nil
	case d != nil && y == nil && m == nil:
		agrees = *d == age.TotalDays
	case d != nil && y == nil:
		agrees = *m == age.TotalMonths && *d == age.Days
	case d != nil:
		months := 0
		if m != nil {
			months = *m
		}
		agrees = *y == age.Years && months == age.Months && *d == age.Days
	case m != nil:
		years := 0
		if y != nil {
			years = *y
		}
		agrees = years*12+*m == age.TotalMonths
	default:
		agrees = *y == age.Years
	}
	if agrees {
		return nil
	}
	var errs triage.FieldErrors
	for _, f := range []struct {
		name string
		v    *int
	}{{"ageYears", y}, {"ageMonths", m}, {"ageDays", d}} {
		if f.v != nil {
			errs = append(errs, triage.FieldError{Field: f.name, Message: msgAgeDisagrees})
		}
	}
	return errs
}

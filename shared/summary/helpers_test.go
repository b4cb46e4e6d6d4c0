package summary

import (
	"time"

	"github.com/medi-os/medi/shared/encounter"
	"github.com/medi-os/medi/shared/notes"
	"github.com/medi-os/medi/shared/patient"
	"github.com/medi-os/medi/shared/triagerecord"
)

var (
	day1 = time.Date(2026, 10, 1, 9, 0, 0, 0, time.UTC)
	day2 = time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	now  = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
)

// vitalsInput is a recorded triage input of an adult with the given vitals.
func vitalsInput(hr, rr, sbp, spo2 int, temp float64) map[string]any {
	return map[string]any{
		"ageYears": 60, "chiefComplaint": "cough", "mentalStatus": "A",
		"vitals": map[string]any{"heartRate": hr, "respiratoryRate": rr, "systolicBP": sbp, "spo2": spo2,
			"temperatureC": temp, "onSupplementalOxygen": false},
	}
}

// testSources is a patient with two encounters (an old normal one, a recent one with a
// fast heart rate) and one approved note with a plan.
func testSources() Sources {
	return Sources{
		Patient: patient.Patient{
			ID: "p1", BirthDate: "1966-03-15", Sex: patient.SexFemale, Version: 3, UpdatedAt: day1,
			Allergies:   []patient.Allergy{{Substance: "penicillin", Reaction: "rash", Severity: patient.SeveritySevere}},
			Medications: []patient.Medication{{Name: "metformin", Dose: "500 mg", Route: "oral", Frequency: "twice daily"}},
			Problems:    []patient.Problem{{Description: "Type 2 diabetes", Code: "E11", Onset: "2019"}},
		},
		Encounters: []EncounterSource{
			{
				Encounter: encounter.Encounter{ID: "e2", PatientID: "p1", Status: encounter.StatusCompleted, ChiefComplaint: "cough",
					ArrivedAt: day2, Version: 5, UpdatedAt: day2,
					Triage: &encounter.Triage{Level: 3, AssessmentID: "000001"}},
				Assessments: []triagerecord.Record{{ID: "000001", Seq: 1, AssessedAt: day2, Input: vitalsInput(125, 18, 128, 97, 38.4)}},
			},
			{
				Encounter: encounter.Encounter{ID: "e1", PatientID: "p1", Status: encounter.StatusCompleted, ChiefComplaint: "check-up",
					ArrivedAt: day1, Version: 4, UpdatedAt: day1,
					Triage: &encounter.Triage{Level: 5, AssessmentID: "000001"}},
				Assessments: []triagerecord.Record{{ID: "000001", Seq: 1, AssessedAt: day1, Input: vitalsInput(72, 14, 130, 98, 36.8)}},
			},
		},
		Notes: []NoteSource{{
			Note: notes.Note{ID: "n1", PatientID: "p1", EncounterID: "e2", Status: notes.StatusApproved, ApprovedVersion: 2, ApprovedAt: day2},
			Version: notes.Version{Number: 2, Approval: &notes.Approval{SignedAt: day2}, Content: notes.Content{
				Assessment: []notes.Sentence{{ID: "a1", Text: "Community-acquired pneumonia."}},
				Plan:       []notes.Sentence{{ID: "p1", Text: "Chest X-ray in 6 weeks."}, {ID: "p2", Text: " "}},
			}},
		}},
	}
}

type assessmentConfirmation = triagerecord.Confirmation

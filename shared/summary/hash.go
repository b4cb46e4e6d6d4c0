package summary

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"time"
)

// FormatVersion names the shape of the facts. It is part of the source hash, so that
// changing what Extract produces makes every stored summary stale.
const FormatVersion = "summary/v1"

// PatientSourceID and the functions below give the ids summaries cite.
func PatientSourceID(patientID string) string { return KindPatient + "/" + patientID }

// EncounterSourceID is the id of an encounter.
func EncounterSourceID(encounterID string) string { return KindEncounter + "/" + encounterID }

// AssessmentSourceID is the id of a triage assessment of an encounter.
func AssessmentSourceID(encounterID, assessmentID string) string {
	return KindAssessment + "/" + encounterID + "/" + assessmentID
}

// NoteSourceID is the id of an approved note version.
func NoteSourceID(noteID string, version int) string {
	return KindNote + "/" + noteID + "/v" + strconv.Itoa(version)
}

// Citations lists every source record of src with its version, sorted by id.
func Citations(src Sources) []Citation {
	p := src.Patient
	out := []Citation{{ID: PatientSourceID(p.ID), Kind: KindPatient, Ref: "patients/" + p.ID, Version: p.Version, Date: p.UpdatedAt}}
	for _, es := range src.Encounters {
		e := es.Encounter
		out = append(out, Citation{ID: EncounterSourceID(e.ID), Kind: KindEncounter, Ref: "encounters/" + e.ID, Version: e.Version, Date: e.ArrivedAt})
		for _, a := range es.Assessments {
			out = append(out, Citation{ID: AssessmentSourceID(e.ID, a.ID), Kind: KindAssessment,
				Ref: "encounters/" + e.ID + "/assessments/" + a.ID, Version: int64(1 + len(a.Confirmations)), Date: a.AssessedAt})
		}
	}
	for _, ns := range src.Notes {
		n, v := ns.Note, ns.Version
		date := n.ApprovedAt
		if v.Approval != nil {
			date = v.Approval.SignedAt
		}
		out = append(out, Citation{ID: NoteSourceID(n.ID, v.Number), Kind: KindNote,
			Ref: "notes/" + n.ID + "/versions/" + strconv.Itoa(v.Number), Version: int64(v.Number), Date: date})
	}
	slices.SortFunc(out, func(a, b Citation) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return out
}

// SourceHash is the hex SHA-256 over FormatVersion and one line per source record:
// "<id> <version> <updated at>", sorted by id. Equal records give equal hashes; any new,
// changed or removed record changes it.
func SourceHash(src Sources) string {
	h := sha256.New()
	h.Write([]byte(FormatVersion + "\n"))
	updated := map[string]time.Time{PatientSourceID(src.Patient.ID): src.Patient.UpdatedAt}
	for _, es := range src.Encounters {
		updated[EncounterSourceID(es.Encounter.ID)] = es.Encounter.UpdatedAt
	}
	for _, c := range Citations(src) {
		line := c.ID + " " + strconv.FormatInt(c.Version, 10)
		if t, ok := updated[c.ID]; ok {
			line += " " + t.UTC().Format(time.RFC3339Nano)
		}
		h.Write([]byte(line + "\n"))
	}
	return hex.EncodeToString(h.Sum(nil))
}

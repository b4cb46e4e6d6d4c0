// Package patient is the patient record of a clinic
// (clinics/{clinicId}/patients/{patientId}): demographics, a medical record number (MRN)
// unique within the clinic, and the allergy, active medication and problem lists.
//
// The Store keeps patients in Firestore and enforces the record's invariants:
//
//   - MRN uniqueness per clinic is enforced in the creating (or MRN-changing)
//     transaction through an index document clinics/{c}/mrnIndex/{normalized MRN}
//     holding the patient id, never by a query (a query cannot lock what it did not
//     find). A patient registered without an MRN gets the next one of the clinic's
//     counter (clinics/{c}/counters/mrn), in the same transaction: "MRN-000123".
//   - Every change bumps the patient's version; an update names the version it was
//     based on and is refused when the patient has changed since (optimistic
//     concurrency, surfaced as HTTP If-Match / ETag).
//   - Every read and write is audited (package audit): a change and its record commit
//     in one transaction; a read's record is stored before the data is returned, and
//     when it cannot be stored the data is not returned (fail closed).
//   - Name search is case and accent insensitive: each patient carries a folded name
//     key (see Fold) that prefix queries range over.
//
// Nothing in this package logs or puts patient data into errors.
package patient

import (
	"time"
)

// Sex is the administrative sex recorded at registration.
type Sex string

// Sexes.
const (
	SexFemale  Sex = "female"
	SexMale    Sex = "male"
	SexOther   Sex = "other"
	SexUnknown Sex = "unknown"
)

// Valid reports whether s is a known value.
func (s Sex) Valid() bool {
	return s == SexFemale || s == SexMale || s == SexOther || s == SexUnknown
}

// Severity of an allergic reaction.
type Severity string

// Severities. An allergy whose severity is not known leaves it empty.
const (
	SeverityMild     Severity = "mild"
	SeverityModerate Severity = "moderate"
	SeveritySevere   Severity = "severe"
)

// Valid reports whether s is a known severity or empty (not known).
func (s Severity) Valid() bool {
	return s == "" || s == SeverityMild || s == SeverityModerate || s == SeveritySevere
}

// Address is a postal address. Country is an ISO 3166-1 alpha-2 code.
type Address struct {
	Line1      string `firestore:"line1" json:"line1"`
	Line2      string `firestore:"line2,omitempty" json:"line2,omitempty"`
	City       string `firestore:"city" json:"city"`
	PostalCode string `firestore:"postalCode,omitempty" json:"postalCode,omitempty"`
	Country    string `firestore:"country" json:"country"`
}

// Allergy is one entry of the allergy list.
type Allergy struct {
	Substance string   `firestore:"substance" json:"substance"`
	Reaction  string   `firestore:"reaction,omitempty" json:"reaction,omitempty"`
	Severity  Severity `firestore:"severity,omitempty" json:"severity,omitempty"`
}

// Medication is one active medication.
type Medication struct {
	Name      string `firestore:"name" json:"name"`
	Dose      string `firestore:"dose,omitempty" json:"dose,omitempty"`
	Route     string `firestore:"route,omitempty" json:"route,omitempty"`
	Frequency string `firestore:"frequency,omitempty" json:"frequency,omitempty"`
}

// Problem is one entry of the problem list. Code is an optional coding (ICD-10,
// SNOMED CT); Onset a date as precise as known: YYYY, YYYY-MM or YYYY-MM-DD.
type Problem struct {
	Description string `firestore:"description" json:"description"`
	Code        string `firestore:"code,omitempty" json:"code,omitempty"`
	Onset       string `firestore:"onset,omitempty" json:"onset,omitempty"`
}

// Patient is a patient of a clinic. Firestore field names are the JSON names; NameKey
// and MRNKey are derived search keys that never leave the server.
type Patient struct {
	ID          string       `firestore:"-" json:"id"`
	ClinicID    string       `firestore:"clinicId" json:"clinicId"`
	MRN         string       `firestore:"mrn" json:"mrn"`
	GivenName   string       `firestore:"givenName" json:"givenName"`
	FamilyName  string       `firestore:"familyName" json:"familyName"`
	BirthDate   string       `firestore:"birthDate" json:"birthDate"` // YYYY-MM-DD
	Sex         Sex          `firestore:"sex" json:"sex"`
	Phone       string       `firestore:"phone,omitempty" json:"phone,omitempty"`
	Address     *Address     `firestore:"address,omitempty" json:"address,omitempty"`
	Allergies   []Allergy    `firestore:"allergies" json:"allergies"`
	Medications []Medication `firestore:"medications" json:"medications"`
	Problems    []Problem    `firestore:"problems" json:"problems"`
	// Version starts at 1 and is incremented by every change; it is the ETag.
	Version   int64     `firestore:"version" json:"version"`
	CreatedAt time.Time `firestore:"createdAt" json:"createdAt"`
	CreatedBy string    `firestore:"createdBy" json:"createdBy"`
	UpdatedAt time.Time `firestore:"updatedAt" json:"updatedAt"`
	UpdatedBy string    `firestore:"updatedBy" json:"updatedBy"`

	// NameKey is Fold(familyName) + " " + Fold(givenName): the name search key.
	NameKey string `firestore:"nameKey" json:"-"`
	// MRNKey is NormalizeMRN(MRN), the id of the patient's mrnIndex document.
	MRNKey string `firestore:"mrnKey" json:"-"`
}

// Summary is what a search returns for each match: enough to pick the right patient,
// no clinical content (data minimization; GET the patient for the full record).
type Summary struct {
	ID         string `json:"id"`
	MRN        string `json:"mrn"`
	GivenName  string `json:"givenName"`
	FamilyName string `json:"familyName"`
	BirthDate  string `json:"birthDate"`
	Sex        Sex    `json:"sex"`
}

// Summary returns p's search summary.
func (p Patient) Summary() Summary {
	return Summary{ID: p.ID, MRN: p.MRN, GivenName: p.GivenName, FamilyName: p.FamilyName, BirthDate: p.BirthDate, Sex: p.Sex}
}

// withKeys returns p with its derived search keys computed.
func (p Patient) withKeys() Patient {
	p.NameKey = NameKey(p.FamilyName, p.GivenName)
	p.MRNKey = NormalizeMRN(p.MRN)
	return p
}

// normalizeLists makes absent lists empty, so that they encode as [] rather than null.
func (p *Patient) normalizeLists() {
	if p.Allergies == nil {
		p.Allergies = []Allergy{}
	}
	if p.Medications == nil {
		p.Medications = []Medication{}
	}
	if p.Problems == nil {
		p.Problems = []Problem{}
	}
}

// Registration is the body of a patient registration (POST /v1/patients). MRN is
// optional: the clinic's next one is assigned when it is empty.
type Registration struct {
	GivenName   string       `json:"givenName"`
	FamilyName  string       `json:"familyName"`
	BirthDate   string       `json:"birthDate"`
	Sex         Sex          `json:"sex"`
	Phone       string       `json:"phone,omitempty"`
	Address     *Address     `json:"address,omitempty"`
	MRN         string       `json:"mrn,omitempty"`
	Allergies   []Allergy    `json:"allergies,omitempty"`
	Medications []Medication `json:"medications,omitempty"`
	Problems    []Problem    `json:"problems,omitempty"`
}

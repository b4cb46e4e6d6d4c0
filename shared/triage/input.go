package triage

// Input is what the triage nurse recorded. Every measurement is optional (a nil pointer
// means "not recorded"); see the package documentation for what the engine assumes when
// something is missing. Call Validate before Assess.
type Input struct {
	// Age is the sum of the components given: ageYears for most patients, ageMonths and
	// ageDays for infants (e.g. {ageMonths: 2, ageDays: 10}). At least one is required.
	AgeYears  *int `json:"ageYears,omitempty"`
	AgeMonths *int `json:"ageMonths,omitempty"`
	AgeDays   *int `json:"ageDays,omitempty"`

	// Sex is recorded with the assessment; no rule of the engine uses it.
	Sex Sex `json:"sex,omitempty"`

	// ChiefComplaint is the complaint in free text, searched for high-risk situations.
	ChiefComplaint string `json:"chiefComplaint"`
	// ComplaintCategory optionally classifies the complaint; it is used to estimate resources
	// when ExpectedResources is nil, and some categories are high-risk situations by themselves.
	ComplaintCategory ComplaintCategory `json:"complaintCategory,omitempty"`

	// ArrivalMode and Injury are recorded with the assessment; ESI v4 does not use them.
	ArrivalMode ArrivalMode `json:"arrivalMode,omitempty"`
	Injury      bool        `json:"injury,omitempty"`

	// MentalStatus is AVPU ("A", "V", "P", "U") or "new_confusion"; empty means not assessed.
	MentalStatus MentalStatus `json:"mentalStatus,omitempty"`

	// PainScore is the patient's pain on a 0-10 scale.
	PainScore *int `json:"painScore,omitempty"`

	Vitals Vitals `json:"vitals"`

	// ExpectedResources lists the resource types the nurse expects the patient to need.
	// nil (absent or null in JSON) means "not given": the engine estimates them from
	// ComplaintCategory. An empty list means "none". Entries that are not resources in ESI
	// (e.g. "oral_medication") may be listed and count 0.
	ExpectedResources []ResourceType `json:"expectedResources"`

	Flags Flags `json:"flags"`
}

// Vitals are the vital signs. Each is optional.
type Vitals struct {
	HeartRate       *int     `json:"heartRate,omitempty"`       // beats/min
	RespiratoryRate *int     `json:"respiratoryRate,omitempty"` // breaths/min
	SystolicBP      *int     `json:"systolicBP,omitempty"`      // mmHg
	DiastolicBP     *int     `json:"diastolicBP,omitempty"`     // mmHg; recorded, not scored
	SpO2            *int     `json:"spo2,omitempty"`            // %
	TemperatureC    *float64 `json:"temperatureC,omitempty"`    // degrees Celsius
	// OnSupplementalOxygen: nil means not recorded, which NEWS2 scores as oxygen.
	OnSupplementalOxygen *bool `json:"onSupplementalOxygen,omitempty"`
	// SpO2Scale2 selects NEWS2 SpO2 scale 2 (hypercapnic respiratory failure, target 88-92 %).
	// The RCP requires a clinician to prescribe it, so the default is scale 1.
	SpO2Scale2 bool `json:"spo2Scale2,omitempty"`
}

// Flags are observations the nurse ticks. Point A flags: Intubated, Apnoeic, Pulseless,
// SevereRespiratoryDistress. Immunocompromised takes part in "immunocompromised with fever"
// (point B). Pregnant adds a caveat to NEWS2.
type Flags struct {
	Pregnant                  bool `json:"pregnant,omitempty"`
	Immunocompromised         bool `json:"immunocompromised,omitempty"`
	Intubated                 bool `json:"intubated,omitempty"`
	Apnoeic                   bool `json:"apnoeic,omitempty"`
	Pulseless                 bool `json:"pulseless,omitempty"`
	SevereRespiratoryDistress bool `json:"severeRespiratoryDistress,omitempty"`
}

// Sex of the patient.
type Sex string

// Values of Sex.
const (
	SexFemale  Sex = "female"
	SexMale    Sex = "male"
	SexOther   Sex = "other"
	SexUnknown Sex = "unknown"
)

var sexes = []Sex{SexFemale, SexMale, SexOther, SexUnknown}

// ArrivalMode is how the patient arrived.
type ArrivalMode string

// Values of ArrivalMode.
const (
	ArrivalWalkIn         ArrivalMode = "walk_in"
	ArrivalPrivateVehicle ArrivalMode = "private_vehicle"
	ArrivalAmbulance      ArrivalMode = "ambulance"
)

var arrivalModes = []ArrivalMode{ArrivalWalkIn, ArrivalPrivateVehicle, ArrivalAmbulance}

// MentalStatus is the AVPU scale plus "new confusion" (which NEWS2 scores like V).
type MentalStatus string

// Values of MentalStatus.
const (
	MentalAlert        MentalStatus = "A"             // alert
	MentalVoice        MentalStatus = "V"             // responds to voice
	MentalPain         MentalStatus = "P"             // responds to pain only
	MentalUnresponsive MentalStatus = "U"             // unresponsive
	MentalNewConfusion MentalStatus = "new_confusion" // new confusion, lethargy or disorientation
)

var mentalStatuses = []MentalStatus{MentalAlert, MentalVoice, MentalPain, MentalUnresponsive, MentalNewConfusion}

// recorded reports whether m is one of the defined values; anything else is treated as not
// assessed (conservatively).
func (m MentalStatus) recorded() bool {
	switch m {
	case MentalAlert, MentalVoice, MentalPain, MentalUnresponsive, MentalNewConfusion:
		return true
	}
	return false
}

// Age conversions. The engine holds ages in whole days: 1 year = 365.25 days and
// 1 month = 30.4375 days (= 487/16), rounded down, so that 12 months = 1 year and
// 36 months = 3 years exactly.
const (
	daysNeonateMax   = 28    // triage-rules.md §1 paediatric fever "1-28 days"
	daysThreeMonths  = 91    // triage-rules.md §1 "3 months" (3 x 30.4375, rounded down)
	daysThreeYears   = 1095  // triage-rules.md §1 "3 years" (3 x 365.25, rounded down)
	daysEightYears   = 2922  // triage-rules.md §1 "8 years"
	daysSixteenYears = 5844  // triage-rules.md §2 NEWS2 "adults >= 16"
	daysMaxAge       = 43830 // 120 years, the validation limit
)

func daysFromYears(y int) int  { return y*365 + y/4 }
func daysFromMonths(m int) int { return m * 487 / 16 }

// ageInDays sums the age components. known is false when none is given or a component is
// out of range (Validate reports those), so that Assess treats the age as unknown.
func (in *Input) ageInDays() (days int, known bool) {
	if in.AgeYears == nil && in.AgeMonths == nil && in.AgeDays == nil {
		return 0, false
	}
	if in.AgeYears != nil {
		y := *in.AgeYears
		if y < 0 || y > 120 {
			return 0, false
		}
		days += daysFromYears(y)
	}
	if in.AgeMonths != nil {
		m := *in.AgeMonths
		if m < 0 || m > 120*12 {
			return 0, false
		}
		days += daysFromMonths(m)
	}
	if in.AgeDays != nil {
		d := *in.AgeDays
		if d < 0 || d > daysMaxAge {
			return 0, false
		}
		days += d
	}
	return days, true
}

// yearsFromDays is the completed years of an age held in days: the largest y with
// daysFromYears(y) <= d (daysFromYears(y) gives y, one day less gives y-1).
func yearsFromDays(d int) int {
	y := d * 4 / 1461
	for daysFromYears(y+1) <= d {
		y++
	}
	for y > 0 && daysFromYears(y) > d {
		y--
	}
	return y
}

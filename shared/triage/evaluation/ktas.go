// Package evaluation measures the triage engine against levels given by triage experts: it
// reads visits in the format of the KTAS study's data (Moon S-H et al., "Triage accuracy and
// causes of mistriage using the Korean Triage and Acuity Scale", PLOS ONE 14(9): e0216972,
// 2019; data CC BY 4.0), turns each visit into the engine's Input as a triage nurse would
// record it, and reports agreement, under- and over-triage and quadratic-weighted kappa,
// with k-fold cross-validation for the learned part of the engine.
//
// Only what a nurse knows at triage reaches the engine: age, sex, arrival mode, injury, the
// chief complaint as written, mental status, pain and vital signs. The diagnosis, the nurse's
// level, the experts' level and the length of stay are read only to measure. The data have
// no SpO2 column: every visit is fed SpO2 98 % on room air (Options.SpO2), and no expected
// resources, since an app cannot assume the nurse lists them.
package evaluation

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/medi-os/medi/shared/triage"
)

// Visit is one emergency department visit of the data set.
type Visit struct {
	// Row is the visit's 1-based data row (the header is row 0).
	Row int
	// Input is what the triage nurse recorded, as the engine reads it.
	Input triage.Input
	// Expert is the level the triage experts gave (the reference); Nurse the level the
	// triage nurse of the study gave (reported for comparison, never an input).
	Expert triage.Level
	Nurse  triage.Level
}

// Options says how a visit becomes an Input for what the data do not hold.
type Options struct {
	// SpO2 is recorded for every visit (the data have none); 0 leaves it unrecorded.
	SpO2 int
	// RoomAir records "on room air" (no supplemental oxygen) with the SpO2.
	RoomAir bool
}

// DefaultOptions are the evaluation's conditions: SpO2 98 % on room air.
var DefaultOptions = Options{SpO2: 98, RoomAir: true}

// The columns read. Others (the hospital group, patients per hour, the diagnosis, the
// length of stay) are never read.
var columns = [...]string{"Sex", "Age", "Arrival mode", "Injury", "Chief_complain", "Mental", "Pain",
	"NRS_pain", "SBP", "DBP", "HR", "RR", "BT", "KTAS_RN", "KTAS_expert"}

// ReadKTAS reads visits in the KTAS data's CSV format (header row, comma separated, UTF-8
// with or without a byte order mark). A row that cannot be read is an error naming its row
// and column; the values themselves are never repeated in errors.
func ReadKTAS(r io.Reader, opt Options) ([]Visit, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("evaluation: reading the header: %w", err)
	}
	idx := map[string]int{}
	for i, h := range header {
		idx[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	var missing []string
	for _, c := range columns {
		if _, ok := idx[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("evaluation: missing columns %s", strings.Join(missing, ", "))
	}
	var visits []Visit
	for row := 1; ; row++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("evaluation: row %d: %w", row, err)
		}
		get := func(c string) string {
			if i := idx[c]; i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		v, err := visitOf(get, opt)
		if err != nil {
			return nil, fmt.Errorf("evaluation: row %d: %w", row, err)
		}
		v.Row = row
		visits = append(visits, v)
	}
	return visits, nil
}

func visitOf(get func(string) string, opt Options) (Visit, error) {
	var v Visit
	in := &v.Input
	age, err := intField(get, "Age")
	if err != nil {
		return v, err
	}
	if age == nil {
		return v, errors.New("column Age: empty")
	}
	in.AgeYears = age
	switch strings.ToLower(get("Sex")) {
	case "female":
		in.Sex = triage.SexFemale
	case "male":
		in.Sex = triage.SexMale
	case "":
	default:
		in.Sex = triage.SexOther
	}
	in.ArrivalMode = arrivalMode(get("Arrival mode"))
	in.Injury = strings.EqualFold(get("Injury"), "yes")
	in.ChiefComplaint = get("Chief_complain")
	switch strings.ToLower(get("Mental")) {
	case "alert":
		in.MentalStatus = triage.MentalAlert
	case "verbal response", "verbal":
		in.MentalStatus = triage.MentalVoice
	case "pain response", "pain":
		in.MentalStatus = triage.MentalPain
	case "unresponsive":
		in.MentalStatus = triage.MentalUnresponsive
	case "":
	default:
		return v, errors.New("column Mental: unknown value")
	}
	// Pain: the NRS score when given; "no pain" (Pain 0) without a score is 0; pain present
	// without a score is left unrecorded (the engine assumes it conservatively).
	nrs, err := intField(get, "NRS_pain")
	if err != nil {
		return v, err
	}
	switch {
	case nrs != nil:
		in.PainScore = nrs
	case get("Pain") == "0":
		in.PainScore = intp(0)
	}
	if in.Vitals.SystolicBP, err = intField(get, "SBP"); err != nil {
		return v, err
	}
	if in.Vitals.DiastolicBP, err = intField(get, "DBP"); err != nil {
		return v, err
	}
	if in.Vitals.HeartRate, err = intField(get, "HR"); err != nil {
		return v, err
	}
	if in.Vitals.RespiratoryRate, err = intField(get, "RR"); err != nil {
		return v, err
	}
	if t := get("BT"); t != "" {
		f, err := strconv.ParseFloat(t, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return v, errors.New("column BT: not a number")
		}
		in.Vitals.TemperatureC = &f
	}
	if opt.SpO2 > 0 {
		in.Vitals.SpO2 = intp(opt.SpO2)
		if opt.RoomAir {
			in.Vitals.OnSupplementalOxygen = boolp(false)
		}
	}
	if v.Expert, err = levelField(get, "KTAS_expert"); err != nil {
		return v, err
	}
	if v.Nurse, err = levelField(get, "KTAS_RN"); err != nil {
		return v, err
	}
	return v, nil
}

// arrivalMode maps the data's arrival modes onto the engine's: ambulances (public "119" or
// private) are ambulance; private vehicles are private_vehicle; walking, wheelchair, public
// transport and others came on their own (walk_in).
func arrivalMode(s string) triage.ArrivalMode {
	l := strings.ToLower(s)
	switch {
	case strings.Contains(l, "ambulance"):
		return triage.ArrivalAmbulance
	case strings.Contains(l, "private vehicle"):
		return triage.ArrivalPrivateVehicle
	case l == "":
		return ""
	}
	return triage.ArrivalWalkIn
}

// intField reads an integer column written as an integer or a float ("120.0"); empty is nil.
func intField(get func(string) string, col string) (*int, error) {
	s := get(col)
	if s == "" {
		return nil, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f != math.Trunc(f) || math.Abs(f) > 1e6 {
		return nil, fmt.Errorf("column %s: not a whole number", col)
	}
	n := int(f)
	return &n, nil
}

func levelField(get func(string) string, col string) (triage.Level, error) {
	n, err := intField(get, col)
	if err != nil {
		return 0, err
	}
	if n == nil || *n < 1 || *n > 5 {
		return 0, fmt.Errorf("column %s: must be a level 1-5", col)
	}
	return triage.Level(*n), nil
}

func intp(v int) *int    { return &v }
func boolp(v bool) *bool { return &v }

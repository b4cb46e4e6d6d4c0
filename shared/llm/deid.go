package llm

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Identifiers are what the patient record says identifies the patient. Empty fields are
// not looked for.
type Identifiers struct {
	GivenName, FamilyName string
	MRN                   string
	// BirthDate is YYYY-MM-DD.
	BirthDate string
	Phone     string
	Email     string
	// Address lines (street, city, postal code).
	Address []string
}

// Placeholders the model sees instead of identifiers.
const (
	PlaceholderGivenName  = "[PATIENT_GIVEN_NAME]"
	PlaceholderFamilyName = "[PATIENT_FAMILY_NAME]"
	PlaceholderMRN        = "[MRN]"
	PlaceholderBirthDate  = "[DATE_OF_BIRTH]"
	PlaceholderPhone      = "[PHONE]"
	PlaceholderEmail      = "[EMAIL]"
	PlaceholderAddress    = "[ADDRESS]"
)

// Redactor replaces a patient's identifiers in text sent to a model with placeholders,
// and restores them in what comes back. Besides the record's values it replaces any
// e-mail address, any phone number (seven or more digits) and any date said after
// "date of birth"/"born", whoever's they are: nothing that identifies someone leaves.
type Redactor struct {
	rules []rule
	// seen maps a placeholder to the first text it replaced (restored in answers).
	seen map[string]string
}

type rule struct {
	re          *regexp.Regexp
	placeholder string
}

var (
	emailRE = regexp.MustCompile(`(?i)\b[a-z0-9._%+\-]+@[a-z0-9.\-]+\.[a-z]{2,}\b`)
	phoneRE = regexp.MustCompile(`(?:\+?\d[\d\s().\-]{6,}\d)`)
	// "date of birth 1/12/71", "born on january 12th, 1971", "dob: 1971-01-12".
	dobRE = regexp.MustCompile(`(?i)\b(?:date of birth|dob|born(?: on)?)\s*(?:is|:|,)?\s*` +
		`((?:\d{1,2}[/\-.]\d{1,2}[/\-.]\d{2,4})|(?:\d{4}-\d{2}-\d{2})|(?:[a-z]+\.? \d{1,2}(?:st|nd|rd|th)?,? \d{2,4})|(?:\d{1,2}(?:st|nd|rd|th)? (?:of )?[a-z]+,? \d{2,4}))`)
)

// NewRedactor prepares the replacement of id's values.
func NewRedactor(id Identifiers) *Redactor {
	r := &Redactor{seen: map[string]string{}}
	add := func(placeholder string, res ...string) {
		for _, re := range res {
			if re != "" {
				r.rules = append(r.rules, rule{regexp.MustCompile(re), placeholder})
			}
		}
	}
	word := func(s string) string {
		s = strings.TrimSpace(s)
		if len([]rune(s)) < 2 {
			return ""
		}
		return `(?i)\b` + regexp.QuoteMeta(s) + `\b`
	}
	// The full name first, then each part (a given name said alone is the patient's).
	if id.GivenName != "" && id.FamilyName != "" {
		add(PlaceholderGivenName+" "+PlaceholderFamilyName, `(?i)\b`+regexp.QuoteMeta(strings.TrimSpace(id.GivenName))+`\s+`+regexp.QuoteMeta(strings.TrimSpace(id.FamilyName))+`\b`)
	}
	add(PlaceholderFamilyName, word(id.FamilyName))
	add(PlaceholderGivenName, word(id.GivenName))
	if m := strings.TrimSpace(id.MRN); len(m) >= 3 {
		add(PlaceholderMRN, `(?i)\b`+loosePattern(m)+`\b`)
	}
	if d, err := time.Parse("2006-01-02", id.BirthDate); err == nil {
		for _, p := range datePatterns(d) {
			add(PlaceholderBirthDate, p)
		}
	}
	if digits := onlyDigits(id.Phone); len(digits) >= 7 {
		var b strings.Builder
		for i, c := range digits {
			if i > 0 {
				b.WriteString(`[\s().\-]*`)
			}
			b.WriteRune(c)
		}
		add(PlaceholderPhone, b.String())
	}
	add(PlaceholderEmail, word(id.Email))
	for _, line := range id.Address {
		if len(strings.TrimSpace(line)) >= 4 {
			add(PlaceholderAddress, `(?i)`+loosePattern(line))
		}
	}
	r.rules = append(r.rules, rule{emailRE, PlaceholderEmail})
	return r
}

// Redact replaces identifiers in text.
func (r *Redactor) Redact(text string) string {
	for _, rl := range r.rules {
		text = rl.re.ReplaceAllStringFunc(text, func(m string) string { return r.note(rl.placeholder, m) })
	}
	text = dobRE.ReplaceAllStringFunc(text, func(m string) string {
		sub := dobRE.FindStringSubmatchIndex(m)
		return m[:sub[2]] + r.note(PlaceholderBirthDate, m[sub[2]:sub[3]]) + m[sub[3]:]
	})
	text = phoneRE.ReplaceAllStringFunc(text, func(m string) string {
		if len(onlyDigits(m)) < 7 || strings.Count(m, ".") == 1 && len(onlyDigits(m)) < 10 {
			return m // a measurement, not a phone number
		}
		return r.note(PlaceholderPhone, m)
	})
	return text
}

func (r *Redactor) note(placeholder, original string) string {
	if _, ok := r.seen[placeholder]; !ok {
		r.seen[placeholder] = original
	}
	return placeholder
}

// Restore puts the identifiers back in text that came from the model: each placeholder
// becomes the first text it replaced. A placeholder for something never sent stays (the
// model made it up; the grounding check will not find it in the transcript).
func (r *Redactor) Restore(text string) string {
	keys := make([]string, 0, len(r.seen))
	for k := range r.seen {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return len(keys[i]) > len(keys[j]) })
	for _, k := range keys {
		text = strings.ReplaceAll(text, k, r.seen[k])
	}
	return text
}

// Contains reports whether text still holds one of the record's identifiers (a test
// helper for "nothing left").
func (r *Redactor) Contains(text string) bool {
	for _, rl := range r.rules {
		if rl.re != emailRE && rl.re.MatchString(text) {
			return true
		}
	}
	return false
}

func onlyDigits(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c >= '0' && c <= '9' {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// loosePattern matches s with any white space, dashes or dots between its characters'
// groups ("A-123 45" matches "a 12345").
func loosePattern(s string) string {
	var b strings.Builder
	first := true
	for _, c := range s {
		if unicode.IsSpace(c) || c == '-' || c == '.' || c == '/' {
			continue
		}
		if !first {
			b.WriteString(`[\s\-./]*`)
		}
		first = false
		b.WriteString(regexp.QuoteMeta(string(c)))
	}
	return b.String()
}

var monthNames = []string{"january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"}

// datePatterns are the ways a birth date is written or said.
func datePatterns(d time.Time) []string {
	m, day, y := int(d.Month()), d.Day(), d.Year()
	yy := y % 100
	num := func(n int) string { return `0?` + strconv.Itoa(n) }
	year := `(?:` + strconv.Itoa(y) + `|` + strconv.Itoa(yy/10) + strconv.Itoa(yy%10) + `)`
	name := monthNames[m-1]
	short := name[:3]
	ord := `(?:st|nd|rd|th)?`
	return []string{
		`\b` + strconv.Itoa(y) + `-` + d.Format("01") + `-` + d.Format("02") + `\b`,
		`\b` + num(m) + `[/\-.]` + num(day) + `[/\-.]` + year + `\b`,
		`\b` + num(day) + `[/\-.]` + num(m) + `[/\-.]` + year + `\b`,
		`(?i)\b(?:` + name + `|` + short + `\.?)\s+` + strconv.Itoa(day) + ord + `,?\s+` + year + `\b`,
		`(?i)\b` + strconv.Itoa(day) + ord + `\s+(?:of\s+)?(?:` + name + `|` + short + `\.?),?\s+` + year + `\b`,
	}
}

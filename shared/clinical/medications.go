package clinical

import (
	"strconv"
	"strings"

	"github.com/medi-os/medi/shared/transcript"
)

// Cue phrases of medication actions (lower case). A clinician's cue decides what is done;
// a patient's says what they take or stopped.
var (
	stopCues     = []string{"stop", "stopping", "discontinue", "discontinuing", "come off", "get off", "get you off", "take you off", "hold off", "hold the", "hold your", "quit", "no longer", "d/c", "cease"}
	stoppedCues  = []string{"stopped", "quit", "discontinued", "came off", "got off", "don't take it anymore", "not taking it anymore", "no longer take", "ran out"}
	notTakeCues  = []string{"not taking", "don't take", "didn't take", "never taken", "never took", "haven't taken", "haven't been taking", "not on", "aren't taking", "don't use"}
	startCues    = []string{"start", "starting", "prescribe", "prescribing", "prescription", "put you on", "put her on", "put him on", "give you", "going to give", "begin", "initiate", "try", "trial of", "send in", "sent in", "call in", "called in", "add", "adding", "recommend", "i'd like you to take", "want you to take", "you can take", "take some", "use some", "i'll have you take", "we'll have you", "going to have you"}
	continueCues = []string{"continue", "keep taking", "keep you on", "stay on", "remain on", "keep on", "keep using"}
	increaseCues = []string{"increase", "increasing", "bump up", "bump you up", "bump it up", "go up", "raise", "up the dose", "up your", "higher dose", "double"}
	decreaseCues = []string{"decrease", "decreasing", "reduce", "reducing", "lower the dose", "lower your", "cut back", "cut down", "wean", "taper", "lower dose"}
	refillCues   = []string{"refill", "refills", "renew"}
	avoidCues    = []string{"avoid", "stay away from", "don't take", "do not take", "shouldn't take", "should not take", "not use", "don't use"}
	triedCues    = []string{"took", "tried", "have taken", "had taken", "i've taken", "was on", "were on", "put me on", "used", "gave me",
		"had some", "took some", "tried some", "you tried", "you took", "you've tried", "you've taken", "been given"}
	currentCues = []string{"i take", "i'm taking", "i am taking", "i'm on", "i am on", "i've been taking", "i have been taking", "i use", "i've been on", "i'm using",
		"you're on", "you are on", "you're taking", "you are taking", "you take", "you've been taking", "you have been taking", "we have you on", "have you on",
		"still taking", "currently taking", "currently on", "still on", "is on", "takes", "taking", "been on", "i do take", "she's on", "he's on", "on the", "using"}
	takingQuestionCues = []string{"taking", "take", "on", "using", "use", "still"}
)

// doseUnits maps said units to the unit the note writes.
var doseUnits = map[string]string{
	"mg": "mg", "milligram": "mg", "milligrams": "mg", "mgs": "mg", "mcg": "mcg", "microgram": "mcg", "micrograms": "mcg",
	"g": "g", "gram": "g", "grams": "g", "unit": "units", "units": "units", "iu": "units", "ml": "mL", "milliliter": "mL",
	"milliliters": "mL", "cc": "mL", "ccs": "mL", "puff": "puffs", "puffs": "puffs", "tablet": "tablets", "tablets": "tablets",
	"tab": "tablets", "tabs": "tablets", "pill": "tablets", "pills": "tablets", "capsule": "capsules", "capsules": "capsules",
	"drop": "drops", "drops": "drops", "percent": "%", "%": "%", "meq": "mEq",
}

// frequencies maps said frequencies to what the note writes (longest phrases first is
// not needed: the first match in the window wins, phrases are checked in this order).
var frequencies = []struct{ said, write string }{
	{"twice a day", "twice daily"}, {"two times a day", "twice daily"}, {"twice daily", "twice daily"}, {"bid", "twice daily"},
	{"three times a day", "three times daily"}, {"three times daily", "three times daily"}, {"tid", "three times daily"},
	{"four times a day", "four times daily"}, {"qid", "four times daily"},
	{"once a day", "daily"}, {"one time a day", "daily"}, {"once daily", "daily"}, {"every day", "daily"}, {"daily", "daily"},
	{"a day", "daily"}, {"per day", "daily"}, {"qd", "daily"},
	{"every morning", "every morning"}, {"in the morning", "every morning"},
	{"at night", "at bedtime"}, {"at bedtime", "at bedtime"}, {"every night", "at bedtime"}, {"nightly", "at bedtime"}, {"before bed", "at bedtime"},
	{"as needed", "as needed"}, {"prn", "as needed"}, {"when needed", "as needed"},
	{"once a week", "weekly"}, {"weekly", "weekly"}, {"every week", "weekly"}, {"once a month", "monthly"}, {"monthly", "monthly"},
	{"with meals", "with meals"},
}

var routes = []struct{ said, write string }{
	{"by mouth", "by mouth"}, {"orally", "by mouth"}, {"po", "by mouth"}, {"intravenous", "intravenously"}, {"intravenously", "intravenously"},
	{"iv", "intravenously"}, {"injection", "by injection"}, {"shot", "by injection"}, {"inject", "by injection"},
	{"subcutaneous", "subcutaneously"}, {"cream", "topically"}, {"ointment", "topically"}, {"topical", "topically"}, {"gel", "topically"},
	{"inhaler", "inhaled"}, {"inhaled", "inhaled"}, {"nebulizer", "inhaled"}, {"nasal spray", "nasal"}, {"eye drops", "ophthalmic"}, {"patch", "transdermal"},
}

// medicationsIn reads the medications of sentence ss[i].
func medicationsIn(s transcript.Sentence, prevQ *transcript.Sentence, ss []transcript.Sentence, i int) []Medication {
	ts := s.Tokens
	found := Drugs().FindAll(ts)
	if len(found) == 0 {
		return nil
	}
	var out []Medication
	for k, m := range found {
		if allergicContext(ts, m.Start) || labContext(ts, m.End) {
			continue
		}
		med := Medication{Name: m.Term, Generic: m.Value.Generic, ByClinician: s.Role == transcript.RoleClinician}
		lo, hi := 0, len(ts)
		if k > 0 {
			lo = found[k-1].End
		}
		if k+1 < len(found) {
			hi = found[k+1].Start
		}
		med.Evidence = []transcript.Span{s.Span()}
		med.Dose = doseNear(ts, m.Start, m.End, lo, hi)
		if med.Dose == nil {
			med.Dose = unitlessDose(ts, m.Start, m.Value.Generic)
		}
		if med.Dose == nil {
			med.Dose = bareAmountAfter(ts, m.End, hi, m.Value.Generic)
		}
		if med.Dose == nil && k == len(found)-1 {
			// "a low dose of prednisone ... i'm going to give you forty milligrams daily",
			// "we'll get you some motrin. we'll give you 600 milligrams every six hours": the
			// amount said later by the same speaker, before any other drug, is this one's.
			if d, freq, sp, ok := laterDose(ss, i, m.End); ok {
				med.Dose = d
				if med.Frequency == "" {
					med.Frequency = freq
				}
				if sp != nil {
					med.Evidence = append(med.Evidence, *sp)
				}
			}
		}
		med.Frequency = phraseNear(ts, m.End, min(hi, nextDoseAfter(ts, m.End)), frequencyPhrases())
		med.Route = phraseNear(ts, max(lo, m.Start-4), hi, routePhrases())
		med.Action = actionOf(s, prevQ, m.Start, m.End)
		if s.Question && s.Role == transcript.RoleClinician {
			med.Action = ActionMentioned
			if a, ans := answerTo(ss, i); ans != nil && anyCue(ts, takingQuestionCues) {
				switch a {
				case "yes":
					med.Action = ActionCurrent
					med.Evidence = append(med.Evidence, ans.Span())
				case "no":
					med.Action = ActionNotTaking
					med.Evidence = append(med.Evidence, ans.Span())
				}
			}
		}
		out = append(out, med)
	}
	return out
}

// answerTo returns the reply to the question ss[i]: the first sentence of the next
// speaker's turn, with its yes/no.
func answerTo(ss []transcript.Sentence, i int) (string, *transcript.Sentence) {
	if i+1 >= len(ss) || ss[i+1].SegmentID == ss[i].SegmentID || ss[i+1].Role == ss[i].Role {
		return "", nil
	}
	return ss[i+1].Answer, &ss[i+1]
}

// cueSet is a kind of cue and the action it means.
type cueSet struct {
	cues   []string
	action string
}

// clinicianCues and patientCues in order of precedence (first wins at equal distance).
var (
	clinicianCues = []cueSet{{avoidCues, ActionNotTaking}, {stopCues, ActionStop}, {increaseCues, ActionIncrease}, {decreaseCues, ActionDecrease},
		{continueCues, ActionContinue}, {refillCues, ActionRefill}, {startCues, ActionStart}, {currentCues, ActionCurrent}, {triedCues, ActionTried}}
	patientCues = []cueSet{{stoppedCues, ActionStopped}, {notTakeCues, ActionNotTaking}, {triedCues, ActionTried}, {currentCues, ActionCurrent}}
)

// actionOf decides what a sentence does with the medication at ts[start:end]: the cue
// nearest before it in the sentence ("stop the motrin ... i'll give you meloxicam":
// meloxicam is started), else the nearest within six words after it.
func actionOf(s transcript.Sentence, prevQ *transcript.Sentence, start, end int) string {
	ts := s.Tokens
	sets := patientCues
	if s.Role == transcript.RoleClinician {
		sets = clinicianCues
	}
	best, bestDist := "", 1<<30
	for _, set := range sets {
		for _, c := range set.cues {
			for from := 0; ; {
				i := indexPhrase(ts, c, from)
				if i < 0 {
					break
				}
				from = i + 1
				if set.action == ActionStop && negatedCue(ts, i) {
					continue // "don't stop"
				}
				if hedged(ts, i) {
					continue // "hopefully we can eventually get you off that lisinopril"
				}
				var d int
				switch {
				case i < start:
					d = start - i
				case i >= end && i-end <= 6:
					d = 100 + i - end // after the drug: only when nothing stands before it
				default:
					continue
				}
				if d < bestDist {
					best, bestDist = set.action, d
				}
			}
		}
	}
	if best == ActionStop && s.Role == transcript.RoleClinician && anyCue(ts, []string{"don't stop", "do not stop"}) {
		best = ActionContinue
	}
	// "stop taking any of the nonsteroidals that you're taking, the motrin or advil": a
	// stop reaches over a relative clause that says what is taken now.
	if s.Role == transcript.RoleClinician && (best == ActionCurrent || best == ActionTried || best == "") && stopReaches(ts, start) {
		best = ActionStop
	}
	if best != "" {
		return best
	}
	if s.Role != transcript.RoleClinician && prevQ != nil {
		switch {
		case anyCue(prevQ.Tokens, takingQuestionCues) && (s.Answer == "yes" || s.Words() <= 4):
			return ActionCurrent // "do you take anything for it?" "pepcid."
		case anyCue(prevQ.Tokens, []string{"taken", "tried", "take for", "used", "done for"}):
			return ActionTried
		}
	}
	return ActionMentioned
}

// negatedCue reports whether the cue at ts[i] is negated ("don't stop").
func negatedCue(ts []transcript.Token, i int) bool {
	return i > 0 && (ts[i-1].Norm == "don't" || ts[i-1].Norm == "not" || ts[i-1].Norm == "never")
}

func anyCue(ts []transcript.Token, cues []string) bool {
	for _, c := range cues {
		if has(ts, c) {
			return true
		}
	}
	return false
}

// allergicContext reports whether the drug at ts[i] is named as an allergen ("allergic
// to penicillin", "penicillin allergy").
func allergicContext(ts []transcript.Token, i int) bool {
	for k := max(0, i-4); k < i; k++ {
		switch ts[k].Norm {
		case "allergic", "allergy", "allergies", "reaction", "react":
			return true
		}
	}
	for k := i + 1; k < len(ts) && k <= i+3; k++ {
		switch ts[k].Norm {
		case "allergy", "allergies", "allergic":
			return true
		}
	}
	return false
}

// labContext reports whether the word after a drug makes it a laboratory value
// ("vitamin d level", "potassium levels").
func labContext(ts []transcript.Token, end int) bool {
	if end >= len(ts) {
		return false
	}
	switch ts[end].Norm {
	case "level", "levels", "count", "test", "panel", "deficiency", "deficient":
		return true
	}
	return false
}

// doseNear finds a number with a dose unit after the drug (within 12 tokens) or before it
// (within 5: "forty milligrams of lisinopril"), not crossing another drug (lo..hi).
func doseNear(ts []transcript.Token, start, end, lo, hi int) *Dose {
	try := func(from, to int) *Dose {
		for _, n := range Numbers(ts[from:to]) {
			n.Start += from
			n.End += from
			if n.HasSecond {
				continue
			}
			if u, ok := doseUnits[n.Suffix]; ok && n.Value > 0 { // "25mg"
				return &Dose{Value: n.Value, Unit: u}
			}
			if n.End >= len(ts) {
				continue
			}
			unit, ok := doseUnits[ts[n.End].Norm]
			if !ok {
				if u := percentSuffix(ts[n.Start].Norm); u != "" {
					unit, ok = u, true
				}
			}
			if ok && n.Value > 0 {
				return &Dose{Value: n.Value, Unit: unit}
			}
		}
		return nil
	}
	if d := try(end, min(hi, end+12)); d != nil {
		return d
	}
	return try(max(lo, start-5), start)
}

func percentSuffix(w string) string {
	if len(w) > 1 && w[len(w)-1] == '%' {
		if _, err := strconv.ParseFloat(w[:len(w)-1], 64); err == nil {
			return "%"
		}
	}
	return ""
}

type phrase struct{ said, write string }

func frequencyPhrases() []phrase {
	out := make([]phrase, len(frequencies))
	for i, f := range frequencies {
		out[i] = phrase(f)
	}
	return out
}

func routePhrases() []phrase {
	out := make([]phrase, len(routes))
	for i, r := range routes {
		out[i] = phrase(r)
	}
	return out
}

// phraseNear returns the first phrase (in list order) said in ts[from:to] within 12
// tokens of from.
func phraseNear(ts []transcript.Token, from, to int, list []phrase) string {
	to = min(to, from+12, len(ts))
	if from >= to {
		return ""
	}
	window := ts[from:to]
	for _, p := range list {
		if has(window, p.said) {
			return p.write
		}
	}
	return ""
}

// unitlessDose reads "<amount> of <drug>" said without a unit ("you're on two point five
// of norvasc", "five hundred of metformin"): mg is inferred (units for insulin), and
// marked as inferred.
func unitlessDose(ts []transcript.Token, start int, generic string) *Dose {
	k := start - 1
	if k >= 0 && (ts[k].Norm == "the" || ts[k].Norm == "your") {
		k--
	}
	if k < 1 || ts[k].Norm != "of" {
		return nil
	}
	from := max(0, k-6)
	for _, n := range Numbers(ts[from:k]) {
		if n.End+from != k || n.HasSecond || n.Value <= 0 {
			continue
		}
		unit := "mg"
		if strings.Contains(generic, "insulin") {
			unit = "units"
		}
		return &Dose{Value: n.Value, Unit: unit, UnitInferred: true}
	}
	return nil
}

// stopReaches reports whether a stop cue stands within twelve words before ts[start]
// with no other decision (start, continue, increase, decrease) and no new clause
// ("and i'll", "but") between.
func stopReaches(ts []transcript.Token, start int) bool {
	for q := start - 1; q >= 0 && q >= start-12; q-- {
		w := ts[q].Norm
		if w == "but" || w == "." || w == ";" || w == "and" && q+1 < len(ts) && subjectPronouns[ts[q+1].Norm] {
			return false
		}
		for _, set := range []([]string){startCues, continueCues, increaseCues, decreaseCues} {
			for _, c := range set {
				if indexPhrase(ts, c, q) == q {
					return false
				}
			}
		}
		for _, c := range stopCues {
			if indexPhrase(ts, c, q) == q && !negatedCue(ts, q) {
				return true
			}
		}
	}
	return false
}

var subjectPronouns = map[string]bool{"i": true, "i'm": true, "i'll": true, "we": true, "we'll": true, "we're": true, "you": true,
	"you'll": true, "let's": true}

// nextDoseAfter returns where the second amount with a dose unit after from starts (a
// regimen's next step: "500 milligrams today, then 250 milligrams daily"), or len(ts).
func nextDoseAfter(ts []transcript.Token, from int) int {
	seen := 0
	for _, n := range Numbers(ts[from:]) {
		end := from + n.End
		if _, ok := doseUnits[n.Suffix]; ok || end < len(ts) && doseUnits[ts[end].Norm] != "" {
			seen++
			if seen == 2 {
				return from + n.Start
			}
		}
	}
	return len(ts)
}

// notDoseUnits follow a number that is not a dose ("for three days", "20 pounds").
var notDoseUnits = map[string]bool{"day": true, "days": true, "week": true, "weeks": true, "month": true, "months": true,
	"year": true, "years": true, "hour": true, "hours": true, "minute": true, "minutes": true, "time": true, "times": true,
	"pound": true, "pounds": true, "percent": true, "%": true, "over": true, "out": true, "degrees": true, "years-old": true,
	"o'clock": true, "am": true, "pm": true, "refills": true, "refill": true, "pills": false}

// bareAmountAfter reads an amount said right after the drug without a unit ("metformin
// five hundred twice a day", "lisinopril 20 daily"): within two words of the drug, not
// a count of days, a weight or a pressure. The unit is inferred (mg; units for insulin)
// and marked as such.
func bareAmountAfter(ts []transcript.Token, end, hi int, generic string) *Dose {
	to := min(hi, end+3, len(ts))
	for _, n := range Numbers(ts[end:to]) {
		n.Start += end
		n.End += end
		if n.HasSecond || n.Value <= 0 || n.Value > 5000 || n.Suffix != "" {
			continue
		}
		if n.End < len(ts) && (notDoseUnits[ts[n.End].Norm] || doseUnits[ts[n.End].Norm] != "") {
			continue
		}
		unit := "mg"
		if strings.Contains(generic, "insulin") {
			unit = "units"
		}
		return &Dose{Value: n.Value, Unit: unit, UnitInferred: true}
	}
	return nil
}

// laterDose finds the dose of the last drug named in ss[i] said after it: later in the
// same sentence, or in the next sentence of the same turn when that names no drug.
func laterDose(ss []transcript.Sentence, i, end int) (*Dose, string, *transcript.Span, bool) {
	ts := ss[i].Tokens
	if d := doseNear(ts, end, end, end, len(ts)); d != nil {
		return d, phraseNear(ts, end, len(ts), frequencyPhrases()), nil, true
	}
	// doseNear only looks twelve words ahead; look to the sentence's end.
	for k := end; k < len(ts); k++ {
		if d := doseNear(ts, k, k, k, len(ts)); d != nil && k-end <= 40 {
			return d, phraseNear(ts, k, len(ts), frequencyPhrases()), nil, true
		}
	}
	if i+1 < len(ss) {
		next := ss[i+1]
		if next.SegmentID == ss[i].SegmentID && len(Drugs().FindAll(next.Tokens)) == 0 && !next.Question {
			if d := doseNear(next.Tokens, 0, 0, 0, len(next.Tokens)); d != nil {
				sp := next.Span()
				return d, phraseNear(next.Tokens, 0, len(next.Tokens), frequencyPhrases()), &sp, true
			}
		}
	}
	return nil, "", nil, false
}

// hedges make a cue a hope or a possibility rather than a decision.
var hedges = map[string]bool{"hopefully": true, "eventually": true, "maybe": true, "might": true, "may": true, "could": true,
	"if": true, "goal": true, "someday": true, "possibly": true, "consider": true, "considering": true, "perhaps": true,
	"later": true, "future": true, "unless": true, "whether": true}

// hedged reports whether a hedge stands within six words before ts[i].
func hedged(ts []transcript.Token, i int) bool {
	for k := max(0, i-6); k < i; k++ {
		if hedges[ts[k].Norm] {
			return true
		}
	}
	return false
}

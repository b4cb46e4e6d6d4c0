package clinical

import (
	"strconv"

	"github.com/medi-os/medi/shared/transcript"
)

// Cue phrases of medication actions (lower case). A clinician's cue decides what is done;
// a patient's says what they take or stopped.
var (
	stopCues     = []string{"stop", "stopping", "discontinue", "discontinuing", "come off", "get off", "hold off", "hold the", "quit", "no longer", "d/c", "cease"}
	stoppedCues  = []string{"stopped", "quit", "discontinued", "came off", "got off", "don't take it anymore", "not taking it anymore", "no longer take", "ran out"}
	notTakeCues  = []string{"not taking", "don't take", "didn't take", "never taken", "never took", "haven't taken", "haven't been taking", "not on", "aren't taking", "don't use"}
	startCues    = []string{"start", "starting", "prescribe", "prescribing", "prescription", "put you on", "put her on", "put him on", "give you", "going to give", "begin", "initiate", "try", "trial of", "send in", "sent in", "call in", "called in", "add", "adding", "recommend", "i'd like you to take", "want you to take", "you can take", "take some", "use some", "i'll have you take", "we'll have you", "going to have you"}
	continueCues = []string{"continue", "keep taking", "keep you on", "stay on", "remain on", "keep on", "keep using"}
	increaseCues = []string{"increase", "increasing", "bump up", "bump you up", "bump it up", "go up", "raise", "up the dose", "up your", "higher dose", "double"}
	decreaseCues = []string{"decrease", "decreasing", "reduce", "reducing", "lower the dose", "lower your", "cut back", "cut down", "wean", "taper", "lower dose"}
	refillCues   = []string{"refill", "refills", "renew"}
	currentCues  = []string{"i take", "i'm taking", "i am taking", "i'm on", "i am on", "i've been taking", "i have been taking", "i use", "i've been on", "i'm using",
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
		med.Frequency = phraseNear(ts, m.End, hi, frequencyPhrases())
		med.Route = phraseNear(ts, max(lo, m.Start-4), hi, routePhrases())
		med.Action = actionOf(s, prevQ)
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

// actionOf decides what a sentence does with the medications it names.
func actionOf(s transcript.Sentence, prevQ *transcript.Sentence) string {
	ts := s.Tokens
	if s.Role == transcript.RoleClinician {
		switch {
		case anyCue(ts, stopCues) && !anyCue(ts, []string{"don't stop", "do not stop", "not stop", "not to stop"}):
			return ActionStop
		case anyCue(ts, increaseCues):
			return ActionIncrease
		case anyCue(ts, decreaseCues):
			return ActionDecrease
		case anyCue(ts, continueCues) || anyCue(ts, []string{"don't stop", "do not stop"}):
			return ActionContinue
		case anyCue(ts, refillCues):
			return ActionRefill
		case anyCue(ts, startCues):
			return ActionStart
		case anyCue(ts, currentCues):
			return ActionCurrent
		}
		return ActionMentioned
	}
	switch {
	case anyCue(ts, stoppedCues):
		return ActionStopped
	case anyCue(ts, notTakeCues):
		return ActionNotTaking
	case anyCue(ts, currentCues):
		return ActionCurrent
	case prevQ != nil && anyCue(prevQ.Tokens, takingQuestionCues) && s.Answer == "yes":
		return ActionCurrent
	}
	return ActionMentioned
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

// doseNear finds a number with a dose unit after the drug (within 8 tokens) or before it
// (within 5: "forty milligrams of lisinopril"), not crossing another drug (lo..hi).
func doseNear(ts []transcript.Token, start, end, lo, hi int) *Dose {
	try := func(from, to int) *Dose {
		for _, n := range Numbers(ts[from:to]) {
			n.Start += from
			n.End += from
			if n.HasSecond || n.End >= len(ts) {
				continue
			}
			unit, ok := doseUnits[ts[n.End].Norm]
			if !ok && n.End+1 < len(ts) && ts[n.End].Norm == "of" {
				continue
			}
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
	if d := try(end, min(hi, end+8)); d != nil {
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

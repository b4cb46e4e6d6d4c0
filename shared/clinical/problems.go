package clinical

import (
	"github.com/medi-os/medi/shared/transcript"
)

// problemsIn reads the conditions a sentence names, unless negated ("no history of
// diabetes") or asked about without a "yes" ("any history of asthma?").
func problemsIn(s transcript.Sentence, prevQ *transcript.Sentence) []Problem {
	if s.Question {
		return nil
	}
	ts := s.Tokens
	var out []Problem
	for _, m := range Conditions().FindAll(ts) {
		if Negated(ts, m.Start) || familyContext(ts, m.Start) {
			continue
		}
		out = append(out, Problem{Name: m.Value.Name, Said: m.Term, ByClinician: s.Role == transcript.RoleClinician, Mentions: 1,
			Evidence: []transcript.Span{s.Span()}})
	}
	// "yes" to "any history of diabetes?"
	if prevQ != nil && s.Answer == "yes" {
		for _, m := range Conditions().FindAll(prevQ.Tokens) {
			if Negated(prevQ.Tokens, m.Start) || familyContext(prevQ.Tokens, m.Start) {
				continue
			}
			out = append(out, Problem{Name: m.Value.Name, Said: m.Term, Mentions: 1, Evidence: []transcript.Span{prevQ.Span(), s.Span()}})
		}
	}
	return out
}

// familyContext reports whether a condition is a relative's ("my mother had diabetes").
func familyContext(ts []transcript.Token, i int) bool {
	for k := max(0, i-8); k < i; k++ {
		switch ts[k].Norm {
		case "mother", "father", "mom", "dad", "brother", "sister", "grandmother", "grandfather", "aunt", "uncle", "family",
			"son", "daughter", "husband", "wife", "cousin", "parents", "grandma", "grandpa", "friend", "kids", "children":
			return true
		}
	}
	return false
}

// mergeProblems adds found problems to ps, one per name, counting mentions.
func mergeProblems(ps []Problem, found []Problem) []Problem {
	for _, f := range found {
		merged := false
		for j := range ps {
			if ps[j].Name == f.Name {
				ps[j].Mentions++
				ps[j].ByClinician = ps[j].ByClinician || f.ByClinician
				ps[j].Evidence = appendSpans(ps[j].Evidence, f.Evidence...)
				merged = true
				break
			}
		}
		if !merged {
			ps = append(ps, f)
		}
	}
	return ps
}

// symptomsIn reads symptoms from a sentence: a patient's statement (present unless
// negated), a clinician's statement about the patient, or the patient's yes/no to the
// clinician's question naming symptoms ("any chest pain or shortness of breath?" "no").
func symptomsIn(s transcript.Sentence, prevQ *transcript.Sentence, ss []transcript.Sentence, i int) []SymptomFact {
	ts := s.Tokens
	var out []SymptomFact
	if s.Question {
		if s.Role != transcript.RoleClinician {
			return nil
		}
		ans, reply := answerTo(ss, i)
		if reply == nil || ans == "" {
			return nil
		}
		found := Symptoms().FindAll(ts)
		if ans == "yes" && len(found) > 1 {
			return nil // which of them?
		}
		for _, m := range found {
			if familyContext(ts, m.Start) {
				continue
			}
			out = append(out, SymptomFact{Name: m.Value.Name, System: m.Value.System, Present: ans == "yes",
				Evidence: []transcript.Span{s.Span(), reply.Span()}})
		}
		return out
	}
	if s.Role == transcript.RoleOther && prevQ == nil {
		return nil
	}
	// A clinician's statement counts when it says what the patient has ("you've had a
	// cough"), not when it examines or instructs ("cough for me").
	if s.Role == transcript.RoleClinician && !anyCue(ts, reportedCues) {
		return nil
	}
	allergyAt := len(ts) // the reaction of an allergy is not a complaint of today
	for i, t := range ts {
		if t.Norm == "allergic" || t.Norm == "allergy" || t.Norm == "allergies" || t.Norm == "reaction" {
			allergyAt = i
			break
		}
	}
	for _, m := range Symptoms().FindAll(ts) {
		if m.Start > allergyAt || familyContext(ts, m.Start) || hypothetical(ts, m.Start) || s.Role != transcript.RoleClinician && otherSubject(ts, m.Start) {
			continue
		}
		out = append(out, SymptomFact{Name: m.Value.Name, System: m.Value.System, Present: !Negated(ts, m.Start),
			Evidence: []transcript.Span{s.Span()}})
	}
	return out
}

// reportedCues make a clinician's sentence a report of the patient's history.
var reportedCues = []string{"you've had", "you have had", "you've been having", "you've been", "you had", "you're having", "you are having",
	"you have", "you said", "you mentioned", "you're experiencing", "you've noticed", "you've got", "she has", "he has", "she's had",
	"he's had", "she's been", "he's been", "she reports", "he reports", "she denies", "he denies", "presents with", "complaining of",
	"she's having", "he's having", "you don't have", "you haven't had", "no history of"}

// otherSubject reports whether someone else is the subject of a patient's sentence
// before ts[i] ("they've always got runny noses").
func otherSubject(ts []transcript.Token, i int) bool {
	for k := i - 1; k >= 0 && k >= i-8; k-- {
		switch ts[k].Norm {
		case "i", "i've", "i'm", "i'd", "my", "me":
			return false
		case "they", "they've", "they're", "he", "he's", "she", "she's", "their", "his", "her", "everyone", "everybody", "nobody":
			return true
		}
	}
	return false
}

// hypothetical reports whether a symptom is said as a condition or instruction ("if you
// get a fever", "call me if", "watch for").
func hypothetical(ts []transcript.Token, i int) bool {
	for k := max(0, i-8); k < i; k++ {
		switch ts[k].Norm {
		case "if", "unless", "when", "whenever", "should", "for", "prevent", "avoid", "risk":
			if ts[k].Norm == "for" && !(k > 0 && (ts[k-1].Norm == "watch" || ts[k-1].Norm == "look")) {
				continue
			}
			return true
		}
	}
	return false
}

// mergeSymptoms keeps one fact per symptom: present when any statement reports it ("no
// fever ... actually i did have a fever last night"), denied when every one denies it.
func mergeSymptoms(ss []SymptomFact) []SymptomFact {
	var out []SymptomFact
	idx := map[string]int{}
	for _, s := range ss {
		if j, ok := idx[s.Name]; ok {
			out[j].Present = out[j].Present || s.Present
			out[j].Evidence = appendSpans(out[j].Evidence, s.Evidence...)
			continue
		}
		idx[s.Name] = len(out)
		out = append(out, s)
	}
	return out
}

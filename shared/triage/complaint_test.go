package triage

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTermTables(t *testing.T) {
	t.Parallel()
	if len(terms) > 128 {
		t.Fatalf("%d terms; TermSet holds 128", len(terms))
	}
	seen := map[string]bool{}
	for i, tm := range terms {
		var words []string
		forEachWord(tm.phrase, func(w string) { words = append(words, w) })
		if got := strings.Join(words, " "); got != tm.phrase {
			t.Errorf("term %q is not lowercase words separated by single spaces (tokenizes to %q)", tm.phrase, got)
		}
		if strings.ToLower(tm.phrase) != tm.phrase {
			t.Errorf("term %q is not lowercase", tm.phrase)
		}
		if len(words) > maxTermWords {
			t.Errorf("term %q has %d words, at most %d", tm.phrase, len(words), maxTermWords)
		}
		for _, w := range words {
			if len(w) > maxWordLen {
				t.Errorf("term %q: word %q longer than %d", tm.phrase, w, maxWordLen)
			}
		}
		if seen[tm.phrase] {
			t.Errorf("term %q listed twice", tm.phrase)
		}
		seen[tm.phrase] = true
		if tm.group == groupNone || tm.group.label() == "" {
			t.Errorf("term %q has no group label", tm.phrase)
		}
		// Every term is found in a complaint made of exactly itself.
		f := scanComplaint(tm.phrase)
		found := f.highRisk.has(i)
		if tm.group == groupFever {
			found = f.fever
		}
		if !found {
			t.Errorf("term %q not found in itself", tm.phrase)
		}
	}
}

func TestScanComplaint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		complaint string
		want      []string // high-risk phrases found
		negated   []string
		fever     bool
	}{
		// Whole words, never substrings (the old system read "vomiting" as "mi").
		{complaint: "vomiting", want: nil},
		{complaint: "Vomiting and diarrhoea since Monday", want: nil},
		{complaint: "vomiting, h/o MI 2019", want: []string{"mi"}},
		{complaint: "mild itch", want: nil},
		{complaint: "missed period", want: nil},
		{complaint: "tiara stuck in hair", want: nil},
		{complaint: "strokes of bad luck", want: nil},
		{complaint: "antisocial behaviour", want: nil},
		{complaint: "suicidality screen", want: nil},
		{complaint: "chest painful to touch", want: nil},
		{complaint: "CHEST PAIN", want: []string{"chest pain"}},
		{complaint: "Chest-pain radiating to jaw", want: []string{"chest pain"}},
		{complaint: "chest\tpain", want: []string{"chest pain"}},
		{complaint: "pain in chest", want: nil},
		{complaint: "sudden one-sided weakness", want: []string{"one sided weakness"}},
		{complaint: "sudden weakness", want: []string{"sudden weakness"}},
		{complaint: "R-sided facial droop & slurred speech", want: []string{"facial droop", "slurred speech"}},
		{complaint: "pt states he wants to die", want: []string{"wants to die"}},
		{complaint: "took too many pills", want: []string{"took too many pills"}},
		{complaint: "too many pills", want: nil},
		{complaint: "overdose (paracetamol)", want: []string{"overdose"}},
		{complaint: "fever and cough", fever: true},
		{complaint: "febrile, rigors", fever: true},
		{complaint: "chest pain, fever", want: []string{"chest pain"}, fever: true},
		// Terms across a clause break still count (errs to urgent).
		{complaint: "chest. pain", want: []string{"chest pain"}},

		// Simple negation: a cue immediately before the term, in the same clause.
		{complaint: "no chest pain", negated: []string{"chest pain"}},
		{complaint: "No chest pain. Cough.", negated: []string{"chest pain"}},
		{complaint: "denies SI", negated: []string{"si"}},
		{complaint: "denies any chest pain", negated: []string{"chest pain"}},
		{complaint: "negative for stroke", negated: []string{"stroke"}},
		{complaint: "not suicidal", negated: []string{"suicidal"}},
		{complaint: "no fever", negated: []string{"fever"}},
		{complaint: "headache without fever", negated: []string{"fever"}},
		// A shorter term ending at the same word as a negated one is negated too.
		{complaint: "no testicular torsion", negated: []string{"testicular torsion", "torsion"}},
		{complaint: "testicular torsion", want: []string{"testicular torsion", "torsion"}},
		{complaint: "no ectopic pregnancy", negated: []string{"ectopic", "ectopic pregnancy"}},
		{complaint: "no facial droop, slurred speech", want: []string{"slurred speech"}, negated: []string{"facial droop"}},
		// Anything else counts as present.
		{complaint: "no relief from chest pain", want: []string{"chest pain"}},
		{complaint: "no, chest pain", want: []string{"chest pain"}},
		{complaint: "no — chest pain", want: []string{"chest pain"}},
		{complaint: "no new chest pain", want: []string{"chest pain"}},
		{complaint: "r/o MI", want: []string{"mi"}},
		{complaint: "no chest pain yesterday; chest pain now", want: []string{"chest pain"}},
		{complaint: "nothing, chest pain", want: []string{"chest pain"}},
		{complaint: "any chest pain", want: []string{"chest pain"}},
		{complaint: "for chest pain", want: []string{"chest pain"}},

		// Non-ASCII text: letters are words, other symbols break words.
		{complaint: "douleur thoracique", want: nil},
		{complaint: "chest pain…", want: []string{"chest pain"}},
		{complaint: "mí chest", want: nil},
		{complaint: "\xffchest\xfepain\xff", want: []string{"chest pain"}},
		{complaint: "", want: nil},
		{complaint: strings.Repeat("a", 100) + " mi", want: []string{"mi"}},
		{complaint: strings.Repeat("x ", 200) + "stroke", want: []string{"stroke"}},
	}
	for _, tc := range tests {
		t.Run(tc.complaint, func(t *testing.T) {
			t.Parallel()
			f := scanComplaint(tc.complaint)
			if diff := cmp.Diff(tc.want, f.highRisk.Phrases()); diff != "" {
				t.Errorf("high-risk terms (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.negated, f.negated.Phrases()); diff != "" {
				t.Errorf("negated terms (-want +got):\n%s", diff)
			}
			if f.fever != tc.fever {
				t.Errorf("fever = %v, want %v", f.fever, tc.fever)
			}
		})
	}
}

func TestScanComplaintDoesNotAllocate(t *testing.T) {
	s := "Sudden onset crushing chest pain radiating to left arm, no fever, denies SI, h/o MI"
	if n := testing.AllocsPerRun(100, func() { _ = scanComplaint(s) }); n != 0 {
		t.Errorf("scanComplaint allocates %v times per run, want 0", n)
	}
}

package notedraft

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/medi-os/medi/shared/clinical"
	"github.com/medi-os/medi/shared/transcript"
)

// Classes of the section classifier: where a transcript sentence's content goes in a
// note, or nowhere.
const (
	ClassNone       = "none"
	ClassSubjective = "subjective"
	ClassExam       = "objective_exam"
	ClassResults    = "objective_results"
	ClassAP         = "assessment_and_plan"
)

// Classes in the model's order.
var Classes = []string{ClassNone, ClassSubjective, ClassExam, ClassResults, ClassAP}

// Classifier is a multinomial logistic regression over sentence features: Weights[feature]
// holds one weight per class (Classes order).
type Classifier struct {
	// Source says what the model was trained on, and how to regenerate it.
	Source  string               `json:"source"`
	Classes []string             `json:"classes"`
	Bias    []float64            `json:"bias"`
	Weights map[string][]float64 `json:"weights"`
}

//go:embed salience.json
var modelJSON []byte

var (
	modelOnce sync.Once
	model     *Classifier
	modelErr  error
)

// DefaultClassifier is the section classifier trained on the ACI-Bench training split by
// scripts/cmd/scribetrain (salience.json).
func DefaultClassifier() (*Classifier, error) {
	modelOnce.Do(func() {
		var m Classifier
		if err := json.Unmarshal(modelJSON, &m); err != nil {
			modelErr = fmt.Errorf("notedraft: salience.json: %w", err)
			return
		}
		if len(m.Classes) != len(Classes) || len(m.Bias) != len(Classes) {
			modelErr = fmt.Errorf("notedraft: salience.json has %d classes, want %d", len(m.Classes), len(Classes))
			return
		}
		model = &m
	})
	return model, modelErr
}

// Predict returns the class probabilities of a feature set (Classes order).
func (m *Classifier) Predict(features []string) []float64 {
	z := make([]float64, len(m.Bias))
	copy(z, m.Bias)
	for _, f := range features {
		if w, ok := m.Weights[f]; ok {
			for c := range z {
				z[c] += w[c]
			}
		}
	}
	return softmax(z)
}

func softmax(z []float64) []float64 {
	mx := z[0]
	for _, v := range z {
		mx = math.Max(mx, v)
	}
	sum := 0.0
	out := make([]float64, len(z))
	for i, v := range z {
		out[i] = math.Exp(v - mx)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}

// stopWords are left out of the bag of words (they say nothing of a section).
var stopWords = map[string]bool{"the": true, "a": true, "an": true, "and": true, "or": true, "of": true, "to": true, "in": true,
	"on": true, "at": true, "for": true, "with": true, "is": true, "it": true, "that": true, "this": true, "be": true, "as": true,
	"are": true, "was": true, "but": true, "if": true, "so": true, "just": true, "like": true, "um": true, "uh": true}

// Features describes sentence ss[i] for the classifier: who says it, whether it asks or
// answers, where in the conversation it is, how long it is, what clinical terms it holds
// (numbers, drugs, symptoms, conditions, vital signs) and its words (lower case, without
// stop words, with their neighbours as pairs).
func Features(ss []transcript.Sentence, i int) []string {
	s := ss[i]
	f := []string{"role=" + string(s.Role)}
	if s.Question {
		f = append(f, "question", "question&role="+string(s.Role))
	}
	if s.Answer != "" {
		f = append(f, "answer="+s.Answer)
	}
	pos := 0
	if len(ss) > 1 {
		pos = i * 10 / len(ss)
	}
	f = append(f, "pos="+strconv.Itoa(pos), "pos="+strconv.Itoa(pos)+"&role="+string(s.Role))
	n := s.Words()
	f = append(f, "len="+lengthBucket(n), "len="+lengthBucket(n)+"&role="+string(s.Role))
	if i > 0 && ss[i-1].Question && ss[i-1].Role != s.Role {
		f = append(f, "after_question")
	}
	if i+1 < len(ss) && s.Question && ss[i+1].Answer != "" {
		f = append(f, "answered="+ss[i+1].Answer)
	}
	ts := s.Tokens
	if len(clinical.Numbers(ts)) > 0 {
		f = append(f, "has_number", "has_number&role="+string(s.Role))
	}
	if len(clinical.Drugs().FindAll(ts)) > 0 {
		f = append(f, "has_drug", "has_drug&role="+string(s.Role))
	}
	if len(clinical.Symptoms().FindAll(ts)) > 0 {
		f = append(f, "has_symptom", "has_symptom&role="+string(s.Role))
	}
	if len(clinical.Conditions().FindAll(ts)) > 0 {
		f = append(f, "has_condition", "has_condition&role="+string(s.Role))
	}
	prev := ""
	for _, t := range ts {
		if t.Punct {
			prev = ""
			continue
		}
		w := t.Norm
		if isDigitsWord(w) {
			w = "<num>"
		}
		if !stopWords[w] {
			f = append(f, "w="+w)
		}
		if prev != "" {
			f = append(f, "b="+prev+"_"+w)
		}
		prev = w
	}
	return f
}

func isDigitsWord(w string) bool {
	return w != "" && strings.IndexFunc(w, func(r rune) bool { return (r < '0' || r > '9') && r != '.' && r != '/' }) < 0
}

func lengthBucket(n int) string {
	switch {
	case n <= 3:
		return "1-3"
	case n <= 7:
		return "4-7"
	case n <= 15:
		return "8-15"
	case n <= 30:
		return "16-30"
	}
	return "31+"
}

// SortedFeatures returns the model's features in order (for writing it).
func (m *Classifier) SortedFeatures() []string {
	out := make([]string, 0, len(m.Weights))
	for k := range m.Weights {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

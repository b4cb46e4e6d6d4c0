package acibench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/medi-os/medi/shared/notedraft"
	"github.com/medi-os/medi/shared/transcript"
)

// Training parameters of the section classifier.
const (
	LabelShare      = 0.6
	MinContentWords = 3
	MinFeatureCount = 3
	Steps           = 400
	LearningRate    = 0.5
	L2              = 1e-3
)

// example is one labelled sentence.
type example struct {
	features []int
	label    int
}

// Train fits the section classifier on encounters (see scripts/cmd/scribetrain) and
// describes what it did.
func Train(encs []Encounter) (*notedraft.Classifier, string, error) {
	var raw [][]string
	var labels []int
	counts := make([]int, len(notedraft.Classes))
	for _, e := range encs {
		t, err := e.Transcript()
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", e.ID, err)
		}
		ss := t.Sentences()
		divWords := map[string]map[string]bool{}
		for _, d := range Divisions {
			divWords[d] = wordSet(e.Division[d])
		}
		for i := range ss {
			l := Label(ss[i], divWords)
			raw = append(raw, notedraft.Features(ss, i))
			labels = append(labels, l)
			counts[l]++
		}
	}
	// Features seen in at least MinFeatureCount sentences, in sorted order.
	seen := map[string]int{}
	for _, fs := range raw {
		for _, f := range uniq(fs) {
			seen[f]++
		}
	}
	var names []string
	for f, n := range seen {
		if n >= MinFeatureCount {
			names = append(names, f)
		}
	}
	sort.Strings(names)
	index := map[string]int{}
	for i, f := range names {
		index[f] = i
	}
	exs := make([]example, len(raw))
	for i, fs := range raw {
		var ids []int
		for _, f := range uniq(fs) {
			if j, ok := index[f]; ok {
				ids = append(ids, j)
			}
		}
		sort.Ints(ids)
		exs[i] = example{ids, labels[i]}
	}
	k := len(notedraft.Classes)
	w := make([][]float64, len(names))
	for i := range w {
		w[i] = make([]float64, k)
	}
	bias := make([]float64, k)
	fit(exs, w, bias)
	m := notedraft.Classifier{
		Source: "Trained by go run ./scripts/cmd/scribetrain on the ACI-Bench training split (Yim et al., Scientific Data 10, 586 (2023); CC BY 4.0); " +
			fmt.Sprintf("%d sentences of %d conversations; labels: division holding >= %.0f %% of >= %d content words.", len(exs), len(encs), LabelShare*100, MinContentWords),
		Classes: notedraft.Classes,
		Bias:    round(bias),
		Weights: map[string][]float64{},
	}
	for i, f := range names {
		r := round(w[i])
		zero := true
		for _, v := range r {
			if v != 0 {
				zero = false
			}
		}
		if !zero {
			m.Weights[f] = r
		}
	}
	stats := fmt.Sprintf("%d sentences, labels %v (%s), %d features kept of %d", len(exs), counts, strings.Join(notedraft.Classes, "/"), len(m.Weights), len(names))
	return &m, stats, nil
}

// fit runs full-batch gradient descent on the softmax cross-entropy with L2.
func fit(exs []example, w [][]float64, bias []float64) {
	k := len(bias)
	n := float64(len(exs))
	gw := make([][]float64, len(w))
	for i := range gw {
		gw[i] = make([]float64, k)
	}
	gb := make([]float64, k)
	z := make([]float64, k)
	for step := 0; step < Steps; step++ {
		for i := range gw {
			for c := range gw[i] {
				gw[i][c] = 0
			}
		}
		for c := range gb {
			gb[c] = 0
		}
		for _, e := range exs {
			copy(z, bias)
			for _, f := range e.features {
				for c := 0; c < k; c++ {
					z[c] += w[f][c]
				}
			}
			p := softmax(z)
			for c := 0; c < k; c++ {
				g := p[c]
				if c == e.label {
					g--
				}
				gb[c] += g
				for _, f := range e.features {
					gw[f][c] += g
				}
			}
		}
		for c := 0; c < k; c++ {
			bias[c] -= LearningRate * gb[c] / n
		}
		for i := range w {
			for c := 0; c < k; c++ {
				w[i][c] -= LearningRate * (gw[i][c]/n + L2*w[i][c])
			}
		}
	}
}

func softmax(z []float64) []float64 {
	mx := z[0]
	for _, v := range z {
		mx = math.Max(mx, v)
	}
	out := make([]float64, len(z))
	sum := 0.0
	for i, v := range z {
		out[i] = math.Exp(v - mx)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}

func round(v []float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = math.Round(x*1e4) / 1e4
		if out[i] == 0 {
			out[i] = 0 // no negative zero
		}
	}
	return out
}

func uniq(fs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, f := range fs {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}

// labelStop are words a label ignores: they appear in every division.
var labelStop = map[string]bool{"the": true, "a": true, "an": true, "and": true, "or": true, "of": true, "to": true, "in": true,
	"on": true, "at": true, "for": true, "with": true, "is": true, "it": true, "that": true, "this": true, "be": true, "as": true,
	"are": true, "was": true, "but": true, "if": true, "so": true, "i": true, "you": true, "your": true, "my": true, "me": true,
	"we": true, "she": true, "he": true, "her": true, "his": true, "have": true, "has": true, "had": true, "do": true, "does": true,
	"did": true, "not": true, "no": true, "yes": true, "okay": true, "will": true, "can": true, "there": true, "any": true, "just": true,
	"about": true, "know": true, "going": true, "get": true, "been": true, "what": true, "some": true, "all": true, "they": true,
	"them": true, "would": true, "like": true, "well": true, "now": true, "right": true, "also": true, "let": true, "go": true,
	"think": true, "out": true, "up": true, "really": true, "one": true, "good": true, "see": true, "how": true, "from": true, "want": true}

// contentWords are a sentence's words that can tell divisions apart.
func contentWords(s transcript.Sentence) []string {
	var out []string
	for _, t := range s.Tokens {
		for _, w := range rougeWords(t.Norm) {
			if !labelStop[w] {
				out = append(out, w)
			}
		}
	}
	return uniq(out)
}

// Label returns the class index of a sentence given the words of each division.
func Label(s transcript.Sentence, div map[string]map[string]bool) int {
	words := contentWords(s)
	if len(words) < MinContentWords {
		return 0
	}
	best, bestShare := 0, 0.0
	for ci, c := range notedraft.Classes {
		if c == notedraft.ClassNone {
			continue
		}
		n := 0
		for _, w := range words {
			if div[c][w] {
				n++
			}
		}
		if share := float64(n) / float64(len(words)); share > bestShare {
			best, bestShare = ci, share
		}
	}
	if bestShare < LabelShare {
		return 0
	}
	return best
}

// rougeWords splits text as ROUGE does: lower case, runs of letters and digits.
func rougeWords(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	})
}

func wordSet(text string) map[string]bool {
	m := map[string]bool{}
	for _, w := range rougeWords(text) {
		m[w] = true
	}
	return m
}

// EncodeClassifier writes a classifier as salience.json holds it.
func EncodeClassifier(m *notedraft.Classifier) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

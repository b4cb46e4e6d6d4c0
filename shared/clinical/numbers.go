package clinical

import (
	"strconv"
	"strings"

	"github.com/medi-os/medi/shared/transcript"
)

// Number is a number said in a sentence: its value and the tokens it spans.
type Number struct {
	Value float64
	// Second is the value after a slash or "over" ("120/80", "one twenty over eighty").
	Second    float64
	HasSecond bool
	// Suffix is what a number written with digits has attached ("25mg" -> "mg").
	Suffix     string
	Start, End int // token indexes, End exclusive
}

var units = map[string]int{"zero": 0, "oh": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9}
var teens = map[string]int{"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
	"seventeen": 17, "eighteen": 18, "nineteen": 19}
var tens = map[string]int{"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}

// isNumberToken reports whether a token can be part of a spoken or written number.
func isNumberToken(w string) bool {
	if _, ok := units[w]; ok && w != "oh" {
		return true
	}
	if _, ok := teens[w]; ok {
		return true
	}
	if _, ok := tens[w]; ok {
		return true
	}
	if w == "hundred" || w == "thousand" {
		return true
	}
	_, err := strconv.ParseFloat(strings.TrimSuffix(w, "%"), 64)
	return err == nil
}

// Numbers finds the numbers of a sentence's tokens: digits ("38.4", "120/80", "1,000"),
// spoken numbers ("a hundred and thirty two", "ninety eight point six", "one twenty"
// said for 120, "one thirty two" for 132) and a spoken decimal point written as a
// period ("a hundred . four"); "over" joins two numbers as in a blood pressure.
func Numbers(ts []transcript.Token) []Number {
	var out []Number
	for i := 0; i < len(ts); {
		n, ok := numberAt(ts, i)
		if !ok {
			i++
			continue
		}
		// "120 over 80", "one twenty over eighty".
		if n.End+1 < len(ts) && ts[n.End].Norm == "over" {
			if m, ok := numberAt(ts, n.End+1); ok && !m.HasSecond {
				n.Second, n.HasSecond, n.End = m.Value, true, m.End
			}
		}
		out = append(out, n)
		i = n.End
	}
	return out
}

// numberAt parses a number starting at ts[i].
func numberAt(ts []transcript.Token, i int) (Number, bool) {
	w := ts[i].Norm
	// Written with digits.
	if w != "" && w[0] >= '0' && w[0] <= '9' {
		if a, b, ok := strings.Cut(w, "/"); ok {
			x, err1 := strconv.ParseFloat(a, 64)
			y, err2 := strconv.ParseFloat(b, 64)
			if err1 == nil && err2 == nil {
				return Number{Value: x, Second: y, HasSecond: true, Start: i, End: i + 1}, true
			}
			return Number{}, false
		}
		num, suffix := splitDigits(w)
		x, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return Number{}, false
		}
		end := i + 1
		// "100 . 4" (a transcribed decimal point).
		if end+1 < len(ts) && ts[end].Text == "." && isDigits(ts[end+1].Norm) && !strings.Contains(w, ".") {
			if f, err := strconv.ParseFloat(w+"."+ts[end+1].Norm, 64); err == nil {
				x, end = f, end+2
			}
		}
		return Number{Value: x, Suffix: suffix, Start: i, End: end}, true
	}
	// Spoken: collect the words ("twenty-five" is two).
	j := i
	if w == "a" || w == "an" {
		if i+1 < len(ts) && (ts[i+1].Norm == "hundred" || ts[i+1].Norm == "thousand") {
			j = i + 1
		} else {
			return Number{}, false
		}
	}
	var words []string
	k := j
	for k < len(ts) {
		t := ts[k].Norm
		if a, b, ok := strings.Cut(t, "-"); ok && isNumberToken(a) && isNumberToken(b) && a[0] > '9' {
			words = append(words, a, b)
			k++
			continue
		}
		if isNumberToken(t) && !(t != "" && t[0] >= '0' && t[0] <= '9') || t == "oh" && len(words) > 0 {
			words = append(words, t)
			k++
			continue
		}
		if t == "and" && len(words) > 0 && (words[len(words)-1] == "hundred" || words[len(words)-1] == "thousand") &&
			k+1 < len(ts) && isNumberToken(ts[k+1].Norm) {
			k++
			continue
		}
		break
	}
	if len(words) == 0 {
		return Number{}, false
	}
	if ts[j].Norm == "hundred" || ts[j].Norm == "thousand" {
		words = append([]string{"one"}, words...)
	}
	v, ok := spokenValue(words)
	if !ok {
		return Number{}, false
	}
	end := k
	// Decimal part: "point six", "point five", or a transcribed period ("hundred . four").
	if end+1 < len(ts) && (ts[end].Norm == "point" || ts[end].Text == ".") {
		var digits strings.Builder
		m := end + 1
		for m < len(ts) {
			if d, ok := units[ts[m].Norm]; ok {
				digits.WriteString(strconv.Itoa(d))
				m++
				continue
			}
			break
		}
		if digits.Len() > 0 {
			if f, err := strconv.ParseFloat(strconv.FormatFloat(v, 'f', -1, 64)+"."+digits.String(), 64); err == nil {
				v, end = f, m
			}
		}
	}
	return Number{Value: v, Start: i, End: end}, true
}

// spokenValue evaluates spoken number words. With "hundred"/"thousand" they compose as
// written English ("one hundred thirty two" = 132); without, chunks below one hundred
// said in a row are read as digits ("one twenty" = 120, "one thirty two" = 132, "twenty
// twenty" = 2020), as numbers are said in clinics.
func spokenValue(words []string) (float64, bool) {
	composed := false
	for _, w := range words {
		if w == "hundred" || w == "thousand" {
			composed = true
		}
	}
	if composed {
		total, cur := 0, 0
		for _, w := range words {
			switch {
			case w == "hundred":
				if cur == 0 {
					cur = 1
				}
				cur *= 100
			case w == "thousand":
				if cur == 0 {
					cur = 1
				}
				total += cur * 1000
				cur = 0
			default:
				v, ok := wordValue(w)
				if !ok {
					return 0, false
				}
				cur += v
			}
		}
		return float64(total + cur), true
	}
	// Chunks below 100: a tens word may take one units word.
	var chunks []int
	for i := 0; i < len(words); i++ {
		w := words[i]
		if t, ok := tens[w]; ok {
			if i+1 < len(words) {
				if u, ok := units[words[i+1]]; ok && u > 0 {
					chunks = append(chunks, t+u)
					i++
					continue
				}
			}
			chunks = append(chunks, t)
			continue
		}
		v, ok := wordValue(w)
		if !ok {
			return 0, false
		}
		chunks = append(chunks, v)
	}
	if len(chunks) == 1 {
		return float64(chunks[0]), true
	}
	var b strings.Builder
	for i, c := range chunks {
		if i > 0 && c < 10 && chunks[i-1] >= 10 {
			return 0, false // "twenty five" is one chunk; "twenty, five" is not a number
		}
		b.WriteString(strconv.Itoa(c))
	}
	f, err := strconv.ParseFloat(b.String(), 64)
	return f, err == nil
}

func wordValue(w string) (int, bool) {
	if v, ok := units[w]; ok {
		return v, true
	}
	if v, ok := teens[w]; ok {
		return v, true
	}
	if v, ok := tens[w]; ok {
		return v, true
	}
	return 0, false
}

func isDigits(w string) bool {
	return w != "" && strings.IndexFunc(w, func(r rune) bool { return r < '0' || r > '9' }) < 0
}

// FormatNumber writes a value without a trailing ".0".
func FormatNumber(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// splitDigits splits a token written with digits into its number and an attached
// suffix ("25mg" -> "25", "mg"; "95%" -> "95", "%").
func splitDigits(w string) (num, suffix string) {
	i := 0
	for i < len(w) && (w[i] >= '0' && w[i] <= '9' || w[i] == '.') {
		i++
	}
	return strings.TrimSuffix(w[:i], "."), w[i:]
}

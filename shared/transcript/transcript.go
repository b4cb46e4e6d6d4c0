// Package transcript holds consultation transcripts: the parsed upload (plain text,
// WebVTT, JSON) or the speech provider's result as numbered segments with speaker roles,
// and what the scribe reads from them: sentences with their character spans, speech
// with its fillers and false starts removed, and questions kept apart from statements.
//
// Segment texts are stored as uploaded (white space normalised); every span of this
// package counts Unicode code points of a segment's text, so that evidence cited by a
// note can be checked against the transcript the doctor sees.
package transcript

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Role of a speaker.
type Role string

// Speaker roles.
const (
	RoleClinician Role = "clinician"
	RolePatient   Role = "patient"
	RoleOther     Role = "other"
)

// Segment is one utterance of a transcript. IDs are "s1", "s2", ... in order; drafts cite them.
type Segment struct {
	ID      string `firestore:"id" json:"id"`
	StartMs int64  `firestore:"startMs" json:"startMs"`
	EndMs   int64  `firestore:"endMs" json:"endMs"`
	// Speaker is the label found in the source ("Dr Patel"), empty when unlabeled.
	Speaker string `firestore:"speaker,omitempty" json:"speaker,omitempty"`
	Role    Role   `firestore:"role" json:"role"`
	// RoleInferred is true when the role was guessed from the words (no usable label).
	RoleInferred bool   `firestore:"roleInferred" json:"roleInferred"`
	Text         string `firestore:"text" json:"text"`
}

// Transcript is a parsed upload (or the speech provider's result).
type Transcript struct {
	Source   string    `firestore:"source" json:"source"` // text, vtt, json, speech
	Segments []Segment `firestore:"segments" json:"segments"`
	// RolesInferred is true when at least one segment's role was inferred; the app says so.
	RolesInferred bool `firestore:"rolesInferred" json:"rolesInferred"`
}

// Segment returns the segment with id.
func (t Transcript) Segment(id string) (Segment, bool) {
	for _, s := range t.Segments {
		if s.ID == id {
			return s, true
		}
	}
	return Segment{}, false
}

// ErrTranscript is wrapped by every parse error; messages name lines or fields, never text.
var ErrTranscript = errors.New("invalid transcript")

// MaxBytes bounds a transcript upload.
const MaxBytes int64 = 2 << 20

// MaxSegments bounds a transcript.
const MaxSegments = 5000

// MaxOffsetMs bounds a segment's start and end (100 hours): a WebVTT or JSON time beyond
// it is an error, a text timestamp beyond it is ignored. It also keeps the arithmetic on
// hostile times far from overflowing int64.
const MaxOffsetMs = 100 * 60 * 60 * 1000

// ParseTranscript parses data in format (text, vtt or json).
func ParseTranscript(format string, data []byte) (Transcript, error) {
	if !utf8.Valid(data) {
		return Transcript{}, fmt.Errorf("%w: not UTF-8", ErrTranscript)
	}
	data = bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))
	var raw []Segment
	var err error
	switch format {
	case "text":
		raw, err = parseText(data)
	case "vtt":
		raw, err = parseVTT(data)
	case "json":
		raw, err = parseJSON(data)
	default:
		return Transcript{}, fmt.Errorf("%w: format %q is not a transcript", ErrTranscript, format)
	}
	if err != nil {
		return Transcript{}, err
	}
	return Build(format, raw)
}

// Build numbers segments (s1, s2, ...), normalises their white space, drops empty
// ones, assigns roles (the label's, else inferred) and checks limits. Parsers and speech
// adapters end with it.
func Build(source string, segs []Segment) (Transcript, error) {
	t := Transcript{Source: source}
	for _, s := range segs {
		s.Text = strings.Join(strings.Fields(s.Text), " ")
		if s.Text == "" {
			continue
		}
		t.Segments = append(t.Segments, s)
	}
	if len(t.Segments) == 0 {
		return Transcript{}, fmt.Errorf("%w: no utterances found", ErrTranscript)
	}
	if len(t.Segments) > MaxSegments {
		return Transcript{}, fmt.Errorf("%w: more than %d utterances", ErrTranscript, MaxSegments)
	}
	byLabel := speakerRoles(t.Segments)
	prev := Role("")
	for i := range t.Segments {
		s := &t.Segments[i]
		s.ID = "s" + strconv.Itoa(i+1)
		if s.Role == "" {
			s.Role = RoleFromLabel(s.Speaker)
		}
		if s.Role == "" && byLabel[s.Speaker] != "" {
			s.Role, s.RoleInferred = byLabel[s.Speaker], true
			t.RolesInferred = true
		}
		if s.Role == "" {
			s.Role, s.RoleInferred = InferRole(s.Text, prev), true
			t.RolesInferred = true
		}
		prev = s.Role
	}
	return t, nil
}

// speakerRoles infers the role of each speaker label that says nothing itself ("Speaker
// 1", a diarized voice, a bare name) from everything that speaker says: the speaker whose
// words score highest on the clinician cues (questions, examination, plans; InferRole's
// lexicon) is the clinician, the next the patient, any further speaker other. A single
// labelled speaker, or labels with no cue at all, are left to per-segment inference.
func speakerRoles(segs []Segment) map[string]Role {
	score := map[string]int{}
	var labels []string
	for _, s := range segs {
		if s.Role != "" || s.Speaker == "" || RoleFromLabel(s.Speaker) != "" {
			continue
		}
		if _, ok := score[s.Speaker]; !ok {
			labels = append(labels, s.Speaker)
		}
		c, p := roleCues(s.Text)
		score[s.Speaker] += c - p
	}
	if len(labels) < 2 {
		return nil
	}
	// Highest score first; ties keep the order of first appearance.
	slices.SortStableFunc(labels, func(a, b string) int { return score[b] - score[a] })
	if score[labels[0]] == score[labels[1]] {
		return nil // nothing tells them apart
	}
	out := map[string]Role{labels[0]: RoleClinician, labels[1]: RolePatient}
	for _, l := range labels[2:] {
		out[l] = RoleOther
	}
	return out
}

// Speaker label lexicon (lower case, matched on the label's first word or whole label).
var (
	clinicianLabels = []string{"doctor", "dr", "dr.", "clinician", "physician", "gp", "nurse", "np", "pa", "consultant", "registrar", "provider", "md"}
	patientLabels   = []string{"patient", "pt", "pt.", "client"}
	otherLabels     = []string{"interpreter", "mother", "father", "parent", "carer", "caregiver", "wife", "husband", "partner",
		"son", "daughter", "relative", "family", "friend", "guardian", "other", "guest", "companion", "sister", "brother"}
)

// RoleFromLabel maps a speaker label to a role; "" when the label says nothing usable
// (empty, "Speaker 1", a bare name).
func RoleFromLabel(label string) Role {
	l := strings.ToLower(strings.TrimSpace(label))
	if l == "" {
		return ""
	}
	l = strings.NewReplacer("_", " ", "'s", "").Replace(l)
	words := strings.Fields(l)
	first := words[0]
	// "patient guest", "patient's wife": a companion of the patient.
	if len(words) > 1 {
		for _, w := range words[1:] {
			if slices.Contains(otherLabels, w) {
				return RoleOther
			}
		}
	}
	for _, c := range []struct {
		words []string
		role  Role
	}{{clinicianLabels, RoleClinician}, {patientLabels, RolePatient}, {otherLabels, RoleOther}} {
		for _, w := range c.words {
			if first == w || l == w {
				return c.role
			}
		}
	}
	switch l {
	case "clinician", "doctor":
		return RoleClinician
	}
	return ""
}

// Inference cues (documented in docs/user-guides/ai-scribe.md).
var (
	clinicianCues = []string{"i'll prescribe", "i will prescribe", "let's ", "let me examine", "on examination", "i'd like to",
		"we'll ", "we will ", "i'm going to", "i recommend", "take this", "any allergies", "how long have you",
		"do you have", "are you taking", "can you tell me", "your blood pressure", "your temperature", "your sats",
		"your oxygen", "i think this", "it looks like", "come back", "follow up", "follow-up"}
	patientCues = []string{"i have", "i've had", "i've been", "i feel", "i'm feeling", "my ", "it hurts", "i can't", "i cannot",
		"i am allergic", "i'm allergic", "i take ", "i'm taking", "since yesterday", "for two days", "for three days", "i noticed"}
)

// roleCues counts the clinician and patient cues of a text (a question counts for the
// clinician).
func roleCues(text string) (c, p int) {
	l := " " + strings.ToLower(text) + " "
	for _, w := range clinicianCues {
		if strings.Contains(l, w) {
			c++
		}
	}
	for _, w := range patientCues {
		if strings.Contains(l, " "+w) {
			p++
		}
	}
	c += strings.Count(text, "?")
	return c, p
}

// InferRole guesses the role of an unlabeled utterance from its words: clinician cues
// (questions about history, examination, plans) and patient cues (first-person
// symptoms). A question without patient cues is the clinician's. With no cue it alternates
// from the previous speaker (a consultation is mostly turn-taking), starting with the
// clinician.
func InferRole(text string, prev Role) Role {
	c, p := roleCues(text)
	switch {
	case c > p:
		return RoleClinician
	case p > c:
		return RolePatient
	case prev == RoleClinician:
		return RolePatient
	default:
		return RoleClinician
	}
}

var (
	// "[00:01:02] " or "00:01 " timestamp prefix of a text line.
	textTimeRE = regexp.MustCompile(`^\[?((?:\d{1,2}:)?\d{1,2}:\d{2}(?:\.\d{1,3})?)\]?\s+`)
	// "Speaker: text" (label up to 40 characters, no digits-only labels).
	labelRE = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9 .'\-]{0,39}):\s*(.*)$`)
	// "[doctor] text" or "[patient_guest] text".
	bracketLabelRE = regexp.MustCompile(`^\[([A-Za-z][A-Za-z0-9 _.'\-]{0,39})\]\s*(.*)$`)
	vttTime        = regexp.MustCompile(`^((?:\d+:)?\d{2}:\d{2}\.\d{3})\s+-->\s+((?:\d+:)?\d{2}:\d{2}\.\d{3})`)
	vttVoice       = regexp.MustCompile(`^<v(?:\.[^ >]*)?\s+([^>]+)>(.*?)(?:</v>)?$`)
	vttTags        = regexp.MustCompile(`</?[^>]+>`)
)

// parseText reads one utterance per non-empty line: optional "[hh:mm:ss]" time, optional
// "Speaker:" or "[speaker]" label. A line without a label continues the previous labelled speaker only
// when it is indented; otherwise it is a new unlabeled utterance.
func parseText(data []byte) ([]Segment, error) {
	var out []Segment
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), int(MaxBytes))
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), " \t\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		if (line[0] == ' ' || line[0] == '\t') && len(out) > 0 {
			out[len(out)-1].Text += " " + strings.TrimSpace(line)
			continue
		}
		var seg Segment
		if m := textTimeRE.FindStringSubmatch(line); m != nil {
			ms, _ := parseClock(m[1])
			seg.StartMs, seg.EndMs = ms, ms
			line = line[len(m[0]):]
		}
		if m := bracketLabelRE.FindStringSubmatch(line); m != nil && (RoleFromLabel(m[1]) != "" || looksLikeSpeaker(m[1])) {
			seg.Speaker, seg.Text = strings.TrimSpace(m[1]), m[2]
		} else if m := labelRE.FindStringSubmatch(line); m != nil && RoleFromLabel(m[1]) != "" || m != nil && looksLikeSpeaker(m[1]) {
			seg.Speaker, seg.Text = strings.TrimSpace(m[1]), m[2]
		} else {
			seg.Text = line
		}
		out = append(out, seg)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrTranscript, err)
	}
	return out, nil
}

// looksLikeSpeaker accepts "Speaker 1" style labels (they carry no role).
func looksLikeSpeaker(label string) bool {
	l := strings.ToLower(label)
	return strings.HasPrefix(l, "speaker") || strings.HasPrefix(l, "spk")
}

// parseVTT reads WebVTT cues; the speaker comes from a <v Name> voice span or a "Name:" prefix.
func parseVTT(data []byte) ([]Segment, error) {
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "WEBVTT") {
		return nil, fmt.Errorf("%w: WebVTT must start with WEBVTT", ErrTranscript)
	}
	var out []Segment
	for i := 1; i < len(lines); i++ {
		m := vttTime.FindStringSubmatch(strings.TrimSpace(lines[i]))
		if m == nil {
			continue
		}
		start, err1 := parseClock(m[1])
		end, err2 := parseClock(m[2])
		if err1 != nil || err2 != nil || end < start {
			return nil, fmt.Errorf("%w: cue timing on line %d", ErrTranscript, i+1)
		}
		var text []string
		for i+1 < len(lines) && strings.TrimSpace(lines[i+1]) != "" {
			i++
			text = append(text, strings.TrimSpace(lines[i]))
		}
		body := strings.Join(text, " ")
		seg := Segment{StartMs: start, EndMs: end}
		if v := vttVoice.FindStringSubmatch(body); v != nil {
			seg.Speaker, body = strings.TrimSpace(v[1]), v[2]
		} else if l := labelRE.FindStringSubmatch(body); l != nil && (RoleFromLabel(l[1]) != "" || looksLikeSpeaker(l[1])) {
			seg.Speaker, body = strings.TrimSpace(l[1]), l[2]
		}
		seg.Text = vttTags.ReplaceAllString(body, "")
		out = append(out, seg)
	}
	return out, nil
}

// jsonSegment is one element of a JSON transcript. Times are seconds.
type jsonSegment struct {
	Speaker string   `json:"speaker"`
	Role    string   `json:"role"`
	Start   *float64 `json:"start"`
	End     *float64 `json:"end"`
	Text    string   `json:"text"`
}

// parseJSON reads {"segments": [...]} or a bare array of segments
// ({speaker, role, start, end, text}); role, when given, must be clinician, patient or other.
func parseJSON(data []byte) ([]Segment, error) {
	var doc struct {
		Segments []jsonSegment `json:"segments"`
	}
	t := bytes.TrimSpace(data)
	var err error
	if len(t) > 0 && t[0] == '[' {
		err = json.Unmarshal(t, &doc.Segments)
	} else {
		err = json.Unmarshal(t, &doc)
	}
	if err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("%w: JSON syntax error at byte %d", ErrTranscript, se.Offset)
		}
		return nil, fmt.Errorf("%w: JSON does not have the transcript shape", ErrTranscript)
	}
	out := make([]Segment, 0, len(doc.Segments))
	for i, js := range doc.Segments {
		seg := Segment{Speaker: strings.TrimSpace(js.Speaker), Text: js.Text}
		switch Role(js.Role) {
		case "":
		case RoleClinician, RolePatient, RoleOther:
			seg.Role = Role(js.Role)
		default:
			return nil, fmt.Errorf("%w: segment %d: role must be clinician, patient or other", ErrTranscript, i)
		}
		// Times are checked as seconds before conversion: a float64 beyond the int64 range
		// converts to an implementation-defined value. A missing end is the start (an
		// instant, as in text transcripts).
		const maxSeconds = MaxOffsetMs / 1000
		inRange := func(v *float64) bool { return v == nil || (*v >= 0 && *v <= maxSeconds) }
		if !inRange(js.Start) || !inRange(js.End) || (js.Start != nil && js.End != nil && *js.End < *js.Start) {
			return nil, fmt.Errorf("%w: segment %d: times must be between 0 and %d seconds, end after start", ErrTranscript, i, maxSeconds)
		}
		if js.Start != nil {
			seg.StartMs = int64(*js.Start * 1000)
		}
		seg.EndMs = seg.StartMs
		if js.End != nil {
			seg.EndMs = max(int64(*js.End*1000), seg.StartMs)
		}
		out = append(out, seg)
	}
	return out, nil
}

// parseClock parses [hh:]mm:ss[.mmm] into milliseconds, at most MaxOffsetMs (minutes
// below 60 when hours are given).
func parseClock(s string) (int64, error) {
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, errors.New("bad clock")
	}
	var ms int64
	for i, p := range parts {
		if i == len(parts)-1 {
			f, err := strconv.ParseFloat(p, 64)
			if err != nil || f < 0 || f >= 60 {
				return 0, errors.New("bad seconds")
			}
			ms = ms*60 + int64(f*1000+0.5)
			continue
		}
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > MaxOffsetMs/1000 || (len(parts) == 3 && i == 1 && n >= 60) {
			return 0, errors.New("bad clock")
		}
		ms = ms*60 + int64(n)*1000
		if ms > MaxOffsetMs {
			return 0, errors.New("clock out of range")
		}
	}
	if ms > MaxOffsetMs {
		return 0, errors.New("clock out of range")
	}
	return ms, nil
}

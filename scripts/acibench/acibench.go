// Package acibench reads conversations in the ACI-Bench format (Yim et al., "ACI-BENCH:
// a Novel Ambient Clinical Intelligence Dataset for Benchmarking Automatic Visit Note
// Generation", Scientific Data 10, 586 (2023), CC BY 4.0): a CSV of dialogues with their
// reference notes, a metadata CSV, and the reference notes split into four divisions
// (subjective, objective_exam, objective_results, assessment_and_plan). The scribe's
// evaluation and training commands read it from ../shared/data/aci-bench; no file of the
// data set is part of this repository.
package acibench

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/medi-os/medi/shared/transcript"
)

// Divisions of a reference note, in the data set's order.
var Divisions = []string{"subjective", "objective_exam", "objective_results", "assessment_and_plan"}

// Encounter is one conversation with its reference note.
type Encounter struct {
	Dataset, ID string
	// Dialogue is the conversation: lines "[doctor] ...", "[patient] ...",
	// "[patient_guest] ...".
	Dialogue string
	// Note is the reference note; Division holds its four divisions by name.
	Note     string
	Division map[string]string
	// Patient details from the metadata (what the patient record holds in production).
	FirstName, FamilyName, Gender string
	Age                           int
}

// Transcript parses the dialogue as the scribe parses a plain-text upload.
func (e Encounter) Transcript() (transcript.Transcript, error) {
	return transcript.ParseTranscript("text", []byte(e.Dialogue))
}

// ErrNoData is returned when the data set's folder does not exist.
var ErrNoData = errors.New("acibench: data set not found")

// DefaultDir finds ../shared/data/aci-bench relative to the repository root (the
// directory holding go.mod) above the working directory.
func DefaultDir() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(filepath.Dir(d), "shared", "data", "aci-bench"), nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("%w: no go.mod above %s", ErrNoData, wd)
		}
	}
}

// Load reads split ("train" or "valid") from dir.
func Load(dir, split string) ([]Encounter, error) {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNoData, dir)
	}
	rows, err := readCSV(filepath.Join(dir, split+".csv"))
	if err != nil {
		return nil, err
	}
	meta, err := readCSV(filepath.Join(dir, split+"_metadata.csv"))
	if err != nil {
		return nil, err
	}
	byID := map[string]map[string]string{}
	for _, m := range meta {
		byID[m["encounter_id"]] = m
	}
	var out []Encounter
	index := map[string]int{}
	for _, r := range rows {
		e := Encounter{Dataset: r["dataset"], ID: r["encounter_id"], Dialogue: r["dialogue"], Note: r["note"], Division: map[string]string{}}
		if m, ok := byID[e.ID]; ok {
			e.FirstName, e.FamilyName, e.Gender = m["patient_firstname"], m["patient_familyname"], m["patient_gender"]
			e.Age, _ = strconv.Atoi(m["patient_age"])
		}
		index[e.ID+"-"+e.Dataset] = len(out)
		out = append(out, e)
	}
	for _, d := range Divisions {
		var doc struct {
			Data []struct {
				Tgt  string `json:"tgt"`
				File string `json:"file"`
			} `json:"data"`
		}
		b, err := os.ReadFile(filepath.Join(dir, split+"_"+d+".json"))
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			return nil, fmt.Errorf("acibench: %s_%s.json: %w", split, d, err)
		}
		for _, x := range doc.Data {
			key := strings.TrimSuffix(x.File, "-"+d)
			if i, ok := index[key]; ok {
				out[i].Division[d] = x.Tgt
			}
		}
	}
	return out, nil
}

func readCSV(path string) ([]map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("acibench: %s: %w", filepath.Base(path), err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("acibench: %s is empty", filepath.Base(path))
	}
	var out []map[string]string
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			if i < len(r) {
				m[h] = r[i]
			}
		}
		out = append(out, m)
	}
	return out, nil
}

var lineLabel = regexp.MustCompile(`^\[([a-z_]+)\]\s*`)

// Relabelled returns the dialogue with its speaker labels removed (unlabelled text) or,
// when diarized, replaced by "Speaker N" numbered in order of first appearance (what
// speech-to-text diarization gives), with the roles the original labels say.
func (e Encounter) Relabelled(diarized bool) (string, []transcript.Role) {
	var b strings.Builder
	var roles []transcript.Role
	numbers := map[string]int{}
	for _, line := range strings.Split(e.Dialogue, "\n") {
		m := lineLabel.FindStringSubmatch(line)
		if m == nil || strings.TrimSpace(line[len(m[0]):]) == "" {
			continue
		}
		roles = append(roles, transcript.RoleFromLabel(m[1]))
		text := line[len(m[0]):]
		if diarized {
			if numbers[m[1]] == 0 {
				numbers[m[1]] = len(numbers) + 1
			}
			fmt.Fprintf(&b, "Speaker %d: %s\n", numbers[m[1]], text)
		} else {
			b.WriteString(text + "\n")
		}
	}
	return b.String(), roles
}

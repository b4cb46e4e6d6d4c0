// Command drugvocab writes the scribe's drug vocabulary, shared/clinical/drugs.tsv:
// generic names (RxNorm ingredients) and brand names with the generic they contain, from
// the RxNorm Current Prescribable Content (U.S. National Library of Medicine, release of
// 2025-10-06) as extracted per letter in github.com/davidanderson3/rxnorm-ingredients,
// files web/data/*.json at commit a8fcf13a679fa37073e8fa83e11d5e0d8cc07276, plus the
// reviewed additions in supplement.tsv.
//
// RxNorm's own names (source RXNORM) are produced by the National Library of Medicine and
// the Current Prescribable Content is distributed by it without a licence (public domain
// in the U.S.). This product uses publicly available data courtesy of the U.S. National
// Library of Medicine (NLM), National Institutes of Health, Department of Health and
// Human Services; NLM is not responsible for the product and does not endorse or
// recommend this or any other product.
//
// The snapshot of that repository this project works from lacks web/data/A.json (too
// large for the snapshot): generics beginning with "a" are recovered from the
// multi-ingredient clinical drugs listed under other letters ("amlodipine 5 MG /
// benazepril 10 MG Oral Capsule"), and supplement.tsv adds common ones still missing.
//
// Regenerate (bit for bit; the inputs' SHA-256 sums are checked against inputs.sha256):
//
//	git clone https://github.com/davidanderson3/rxnorm-ingredients /tmp/rxnorm-ingredients
//	git -C /tmp/rxnorm-ingredients checkout a8fcf13a679fa37073e8fa83e11d5e0d8cc07276
//	rm /tmp/rxnorm-ingredients/web/data/A.json   # absent from the reviewed snapshot
//	go run ./scripts/cmd/drugvocab -src /tmp/rxnorm-ingredients/web/data
//
// Names are filtered as reviewed: allergen extracts, pollens, venoms, antigens and other
// ingredients no consultation names as a medicine (water, oxygen, glucose, ...) are left
// out, and so are brand names made only of common English words ("Today", "Comfort
// Gel"), listed in exclude.txt (found with Debian's wamerican word list, then reviewed).
package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
)

//go:embed inputs.sha256
var inputSums string

//go:embed exclude.txt
var excludeList string

//go:embed supplement.tsv
var supplement string

type concept struct {
	Name  string `json:"Name"`
	TTY   string `json:"TTY"`
	SCDCs []struct {
		SCDs []struct {
			Name string `json:"Name"`
			SBDs []struct {
				BNs []struct {
					Name string `json:"Name"`
				} `json:"BNs"`
			} `json:"SBDs"`
		} `json:"SCDs"`
	} `json:"SCDCs"`
}

// entry is one line of the vocabulary.
type entry struct{ name, generic, kind string }

func main() {
	src := flag.String("src", "", "directory holding the per-letter JSON files (web/data)")
	out := flag.String("out", "shared/clinical/drugs.tsv", "file to write")
	flag.Parse()
	if *src == "" {
		fmt.Fprintln(os.Stderr, "drugvocab: -src is required (see the package documentation)")
		os.Exit(2)
	}
	b, err := build(*src)
	if err != nil {
		fmt.Fprintln(os.Stderr, "drugvocab:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "drugvocab:", err)
		os.Exit(1)
	}
}

func build(src string) ([]byte, error) {
	files, err := checkInputs(src)
	if err != nil {
		return nil, err
	}
	exclude := map[string]bool{}
	for _, l := range strings.Split(excludeList, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			exclude[strings.ToLower(l)] = true
		}
	}
	byName := map[string]entry{}
	add := func(e entry) {
		e.name = normalize(e.name)
		if e.name == "" || exclude[e.name] || len(e.name) < 4 || !keepName(e.name) {
			return
		}
		if old, ok := byName[e.name]; ok && (old.kind == "generic" || e.kind != "generic") {
			return // a generic name wins over a brand of the same spelling
		}
		byName[e.name] = e
	}
	for _, f := range files {
		raw, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			return nil, err
		}
		var cs []concept
		if err := json.Unmarshal(raw, &cs); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		for _, c := range cs {
			if c.TTY != "IN" {
				continue
			}
			generic := normalize(c.Name)
			add(entry{generic, generic, "generic"})
			for _, scdc := range c.SCDCs {
				for _, scd := range scdc.SCDs {
					parts := ingredientsOf(scd.Name)
					for _, p := range plainIngredientsOf(scd.Name) {
						if strings.HasPrefix(p, "a") { // recovers the missing letter
							add(entry{p, p, "generic"})
						}
					}
					for _, sbd := range scd.SBDs {
						for _, bn := range sbd.BNs {
							add(entry{bn.Name, strings.Join(parts, " / "), "brand"})
							if base, ok := brandBase(bn.Name); ok {
								add(entry{base, strings.Join(parts, " / "), "brand"})
							}
						}
					}
				}
			}
		}
	}
	for _, l := range strings.Split(supplement, "\n") {
		if l = strings.TrimSpace(l); l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		f := strings.Split(l, "\t")
		if len(f) != 3 {
			return nil, fmt.Errorf("supplement.tsv: bad line %q", l)
		}
		e := entry{f[0], normalize(f[1]), f[2]}
		e.name = normalize(e.name)
		byName[e.name] = e // reviewed by hand: wins
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	buf.WriteString(header)
	for _, n := range names {
		e := byName[n]
		fmt.Fprintf(&buf, "%s\t%s\t%s\n", e.name, e.generic, e.kind)
	}
	return buf.Bytes(), nil
}

const header = `# Drug vocabulary of the AI scribe: name<TAB>generic<TAB>generic|brand (lower case).
# Source: RxNorm Current Prescribable Content, 2025-10-06 (U.S. National Library of
# Medicine), per-letter extract github.com/davidanderson3/rxnorm-ingredients web/data/*.json
# at commit a8fcf13a679fa37073e8fa83e11d5e0d8cc07276 (A.json absent from the snapshot),
# plus the reviewed additions of scripts/cmd/drugvocab/supplement.tsv.
# Licence: RxNorm's own names are distributed by NLM without a licence (public domain in
# the U.S.). This product uses publicly available data courtesy of the U.S. National
# Library of Medicine (NLM), National Institutes of Health, Department of Health and Human
# Services; NLM is not responsible for the product and does not endorse or recommend this
# or any other product.
# Generated by: go run ./scripts/cmd/drugvocab -src <web/data> (do not edit by hand).
`

// checkInputs lists the JSON files of src and checks them against inputs.sha256.
func checkInputs(src string) ([]string, error) {
	want := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(inputSums))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 {
			want[f[1]] = f[0]
		}
	}
	matches, err := filepath.Glob(filepath.Join(src, "*.json"))
	if err != nil {
		return nil, err
	}
	var files []string
	for _, m := range matches {
		files = append(files, filepath.Base(m))
	}
	sort.Strings(files)
	if len(want) > 0 {
		var wantFiles []string
		for f := range want {
			wantFiles = append(wantFiles, f)
		}
		sort.Strings(wantFiles)
		if !slices.Equal(files, wantFiles) {
			return nil, fmt.Errorf("inputs differ from inputs.sha256: have %v, want %v", files, wantFiles)
		}
		for _, f := range files {
			b, err := os.ReadFile(filepath.Join(src, f))
			if err != nil {
				return nil, err
			}
			sum := sha256.Sum256(b)
			if got := hex.EncodeToString(sum[:]); got != want[f] {
				return nil, fmt.Errorf("%s: SHA-256 %s, want %s", f, got, want[f])
			}
		}
	}
	return files, nil
}

// normalize lower-cases a name and folds its white space.
func normalize(s string) string { return strings.Join(strings.Fields(strings.ToLower(s)), " ") }

// notMedicine matches ingredient names no consultation names as a medicine.
var notMedicine = regexp.MustCompile(`allergenic|extract|pollen|venom|antigen|vaccine|[,()]|\bfactor\b|\bprotein [a-z]\b|` +
	`^(water|oxygen|nitrogen|helium|carbon dioxide|glucose|fructose|sodium chloride|potassium|lactate|urea|starch|corn starch|` +
	`talc|sulfur|copper|boron|iodine|strontium|radium|gelatin|cellulose|citric acid|phosphoric acid|sulfuric acid|` +
	`inert ingredients|cocaine|opium|histamine|formaldehyde|bran|petrolatum|lanolin|lecithin|glycerin|pectin|` +
	`intrinsic factor|liver extract|royal jelly|bee pollen|turpentine|silicon dioxide|calcium|magnesium|sodium|zinc|` +
	`phosphorus|chloride|bicarbonate|alcohol|ethanol|salt|sugar|honey|caffeine|alanine|aspartate|arginine|aluminum|amylase)$`)

func keepName(n string) bool { return !notMedicine.MatchString(n) }

// salt words trailing an ingredient in a clinical drug's name.
var salts = map[string]bool{
	"hydrochloride": true, "hcl": true, "sodium": true, "potassium": true, "calcium": true, "magnesium": true,
	"maleate": true, "mesylate": true, "besylate": true, "succinate": true, "tartrate": true, "citrate": true,
	"fumarate": true, "acetate": true, "sulfate": true, "phosphate": true, "bromide": true, "chloride": true,
	"hyclate": true, "monohydrate": true, "trihydrate": true, "dihydrate": true, "hemihydrate": true, "anhydrous": true,
	"disodium": true, "dipropionate": true, "propionate": true, "furoate": true, "valerate": true, "xinafoate": true,
	"bitartrate": true, "hydrobromide": true, "napsylate": true, "estolate": true, "ethylsuccinate": true,
	"stearate": true, "lactobionate": true, "medoxomil": true, "axetil": true, "pivoxil": true, "trihydrochloride": true,
	"dihydrochloride": true, "monosodium": true, "benzoate": true, "lysine": true, "nitrate": true, "oxalate": true,
}

// ingredientsOf returns the ingredients of a clinical drug name ("amlodipine 5 MG /
// benazepril hydrochloride 10 MG Oral Capsule" -> amlodipine, benazepril): in each part,
// the first run of lower-case words (RxNorm writes ingredients in lower case, amounts,
// units and dose forms capitalised), without trailing salt words.
func ingredientsOf(scd string) []string {
	var out []string
	for _, part := range strings.Split(scd, " / ") {
		if name, _ := ingredientOf(part); name != "" && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out
}

// ingredientOf returns the ingredient of one part of a clinical drug name; qualified is
// true when a capitalised qualifier precedes it ("Abuse-Deterrent oxycodone",
// "Pulmonary Hypertension tadalafil"), as opposed to amounts ("3 ML", "1 MG Dose").
func ingredientOf(part string) (name string, qualified bool) {
	var words []string
	for _, w := range strings.Fields(part) {
		lower := strings.ToLower(w) == w && strings.IndexFunc(w, func(r rune) bool { return r >= '0' && r <= '9' }) < 0
		if lower {
			stop := strings.HasSuffix(w, ",")
			words = append(words, strings.TrimSuffix(w, ","))
			if stop {
				break
			}
			continue
		}
		if len(words) > 0 {
			break
		}
		if w != "Dose" && w != "Doses" && strings.ToUpper(w) != w {
			qualified = true
		}
	}
	for len(words) > 1 && salts[words[len(words)-1]] {
		words = words[:len(words)-1]
	}
	if len(words) == 0 || len(words) > 3 {
		return "", qualified
	}
	return strings.Join(words, " "), qualified
}

// plainIngredientsOf returns the ingredients of a clinical drug name that no capitalised
// qualifier precedes.
func plainIngredientsOf(scd string) []string {
	var out []string
	for _, part := range strings.Split(scd, " / ") {
		if name, q := ingredientOf(part); name != "" && !q && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out
}

// releaseWords end brand names that are said without them ("Wellbutrin XL", "Ventolin
// HFA", "Toprol XL").
var releaseWords = map[string]bool{"xl": true, "sr": true, "xr": true, "er": true, "cr": true, "la": true, "hfa": true,
	"odt": true, "ds": true, "cd": true, "respimat": true, "handihaler": true, "diskus": true, "ellipta": true,
	"soluspan": true, "pen": true, "kwikpen": true, "flexpen": true, "solostar": true, "xt": true, "24": true, "12": true}

// brandBase returns a brand name without its release or device word.
func brandBase(name string) (string, bool) {
	f := strings.Fields(name)
	if len(f) == 2 && releaseWords[strings.ToLower(f[1])] {
		return f[0], true
	}
	return "", false
}

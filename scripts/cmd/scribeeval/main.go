// Command scribeeval measures the AI scribe's deterministic drafter on conversations in
// the ACI-Bench format (../shared/data/aci-bench: dialogue, reference note and its four
// divisions): per division and whole-note ROUGE-1/2/L, medication, dose, vital-sign and
// diagnosis recall against the reference, the wrong-fact counts, evidence-span validity,
// and the grounding check's detection rate on perturbed reference sentences and its
// false-flag rate on unperturbed ones. The rules are in docs/performance.md.
//
//	go run ./scripts/cmd/scribeeval                 validation and training splits
//	go run ./scripts/cmd/scribeeval -split valid    one split
//
// The test of this package runs it on the validation split and fails when a figure the
// project holds regresses.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/medi-os/medi/scripts/acibench"
)

func main() {
	split := flag.String("split", "valid,train", "comma-separated splits to measure")
	cv := flag.Int("cv", 0, "k > 1: measure by k-fold cross-validation, training the classifier on the other folds")
	data := flag.String("data", "", "ACI-Bench folder (default ../shared/data/aci-bench from the repository root)")
	misses := flag.Bool("misses", false, "list what each measure missed (for studying the training split)")
	flag.Parse()
	if *misses {
		Misses = func(enc, what, detail string) { fmt.Printf("%s\t%s\t%s\n", enc, what, detail) }
	}
	dir := *data
	if dir == "" {
		var err error
		if dir, err = acibench.DefaultDir(); err != nil {
			fmt.Fprintln(os.Stderr, "scribeeval:", err)
			os.Exit(1)
		}
	}
	for _, s := range strings.Split(*split, ",") {
		encs, err := acibench.Load(dir, s)
		if err != nil {
			fmt.Fprintln(os.Stderr, "scribeeval:", err)
			os.Exit(1)
		}
		var rep Report
		if *cv > 1 {
			rep, err = CrossValidate(s, encs, *cv)
		} else {
			rep, err = Evaluate(s, encs, nil)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "scribeeval:", err)
			os.Exit(1)
		}
		fmt.Println(rep.Print())
	}
}

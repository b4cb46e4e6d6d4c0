// Command scribetrain trains the deterministic drafter's section classifier
// (shared/notedraft/salience.json) on the training split of ACI-Bench (Yim et al.,
// Scientific Data 10, 586 (2023), CC BY 4.0), read from ../shared/data/aci-bench:
//
//	go run ./scripts/cmd/scribetrain            rewrite shared/notedraft/salience.json
//	go run ./scripts/cmd/scribetrain -check     exit 1 when the committed file differs
//
// Every transcript sentence is labelled with the division of the reference note its words
// come from (subjective, objective_exam, objective_results, assessment_and_plan), or none:
// the division holding the largest share of the sentence's content words when that share
// is at least LabelShare of at least MinContentWords words. A multinomial logistic
// regression over notedraft.Features is fitted by full-batch gradient descent with L2
// regularisation, a fixed number of steps and no randomness, and written with weights
// rounded to four decimals, so the file regenerates bit for bit. Only the training split
// is read; the validation split measures the result (scripts/cmd/scribeeval).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/medi-os/medi/scripts/acibench"
	"github.com/medi-os/medi/scripts/repo"
)

const outPath = "shared/notedraft/salience.json"

func main() {
	check := flag.Bool("check", false, "exit 1 when "+outPath+" differs from what training writes")
	data := flag.String("data", "", "ACI-Bench folder (default ../shared/data/aci-bench from the repository root)")
	flag.Parse()
	if err := run(*data, *check); err != nil {
		fmt.Fprintln(os.Stderr, "scribetrain:", err)
		os.Exit(1)
	}
}

func run(dir string, check bool) error {
	root, err := repo.Root()
	if err != nil {
		return err
	}
	if dir == "" {
		if dir, err = acibench.DefaultDir(); err != nil {
			return err
		}
	}
	encs, err := acibench.Load(dir, "train")
	if err != nil {
		return err
	}
	m, stats, err := acibench.Train(encs)
	if err != nil {
		return err
	}
	b, err := acibench.EncodeClassifier(m)
	if err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, stats)
	path := filepath.Join(root, outPath)
	if check {
		old, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if !bytes.Equal(old, b) {
			return fmt.Errorf("%s is not what training writes; run go run ./scripts/cmd/scribetrain", outPath)
		}
		return nil
	}
	return os.WriteFile(path, b, 0o644)
}

// Command triagemodel trains the triage engine's learned second opinion and measures the
// engine against triage experts' levels, on visits in the KTAS study's CSV format.
//
//	go run ./scripts/cmd/triagemodel eval  [-data ../shared/data/ktas/train.csv] [-folds 5]
//	go run ./scripts/cmd/triagemodel train [-data ../shared/data/ktas/train.csv] [-out shared/triage/data/model.json]
//	go run ./scripts/cmd/triagemodel check [-data ...]   # exit 1 unless the committed model is what train makes
//	go run ./scripts/cmd/triagemodel policies [-data ...] [-folds 5]
//
// eval prints, with SpO2 recorded as 98 % on room air and no expected resources given: the
// rules alone, the engine with its learned part cross-validated (each fold assessed with a
// model trained without it), the engine with the committed model (in-sample), and the study
// nurses' own levels, each as exact agreement, under- and over-triage, under-triage among
// expert levels 1-2 and quadratic-weighted kappa with their 95 % intervals (Wilson for the
// rates, a seeded bootstrap for kappa, so the output is the same on every run) and the
// confusion matrix; then where the cross-validated levels come
// from (decision point) and what made point B fire. policies prints the same figures,
// cross-validated, for variants of how the rules and the learned part combine
// (evaluation.Policies): figures for the clinical lead's decision, not modes of the engine.
// train writes the model file bit for bit from the data; check compares.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/medi-os/medi/shared/triage"
	"github.com/medi-os/medi/shared/triage/evaluation"
	"github.com/medi-os/medi/shared/triage/learn"
)

const (
	defaultData  = "../shared/data/ktas/train.csv"
	defaultModel = "shared/triage/data/model.json"
	trainCommand = "go run ./scripts/cmd/triagemodel train -data ../shared/data/ktas/train.csv"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "triagemodel:", err)
		os.Exit(1)
	}
}

func usage() error {
	return errors.New("usage: triagemodel eval|policies|train|check [-data file.csv] [-folds 5] [-out model.json]")
}

func run(args []string, out io.Writer) error {
	if len(args) == 0 {
		return usage()
	}
	cmd := args[0]
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	data := fs.String("data", defaultData, "visits in the KTAS CSV format")
	folds := fs.Int("folds", 5, "cross-validation folds (eval)")
	model := fs.String("out", defaultModel, "model file (train writes it, check reads it)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	raw, err := os.ReadFile(*data)
	if err != nil {
		return fmt.Errorf("reading the data: %w (the KTAS training split is ../shared/data/ktas/train.csv)", err)
	}
	visits, err := evaluation.ReadKTAS(bytes.NewReader(raw), evaluation.DefaultOptions)
	if err != nil {
		return err
	}
	switch cmd {
	case "eval":
		r, err := evaluation.Run(visits, *folds)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%s: %d visits, SpO2 98 %% on room air, no expected resources; engine %s\n\n", *data, len(visits), triage.EngineVersion)
		r.Write(out, *folds)
		return nil
	case "policies":
		rs, err := evaluation.CrossValidatePolicies(visits, *folds, evaluation.Policies)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%s: %d visits, SpO2 98 %% on room air, no expected resources; engine %s\n\n", *data, len(visits), triage.EngineVersion)
		evaluation.WritePolicies(out, rs)
		return nil
	case "train", "check":
		b, err := trainFile(visits, raw, *data)
		if err != nil {
			return err
		}
		if cmd == "train" {
			if err := os.WriteFile(*model, b, 0o644); err != nil {
				return err
			}
			fmt.Fprintf(out, "wrote %s (%d bytes)\n", *model, len(b))
			return nil
		}
		have, err := os.ReadFile(*model)
		if err != nil {
			return err
		}
		if !bytes.Equal(have, b) {
			return fmt.Errorf("%s is not what %q makes from %s", *model, trainCommand, *data)
		}
		fmt.Fprintf(out, "%s is reproduced bit for bit from %s\n", *model, *data)
		return nil
	}
	return usage()
}

// trainFile trains on every visit and encodes the model file.
func trainFile(visits []evaluation.Visit, raw []byte, name string) ([]byte, error) {
	opt := learn.DefaultOptions
	opt.Version = "ktas-ordinal/" + learn.DataHash(raw)[:12]
	m, rep, err := learn.Train(evaluation.Examples(visits), opt)
	if err != nil {
		return nil, err
	}
	return learn.Encode(m, learn.FileInfo{Data: "ktas/train.csv", DataSHA256: learn.DataHash(raw), Rows: len(visits),
		Command: trainCommand}, opt, rep), nil
}

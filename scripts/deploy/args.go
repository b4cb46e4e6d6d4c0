package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
)

// Commands of the tool.
const (
	cmdPlan   = "plan"
	cmdApply  = "apply"
	cmdOutput = "output"
	cmdFacts  = "facts"
)

// Environments, each with terraform/envs/<env>.tfvars and terraform/backends/<env>.gcs.tfbackend.
var environments = []string{"dev", "staging", "prod"}

const usage = `usage: deploy <command> [flags]

  plan   -env E [-release R]      init, zip the function sources, write the saved plan
                                  terraform/plans/E.tfplan and print its summary and digest
  apply  -env E [-approve DIGEST] apply the saved plan of E (nothing else); prod requires
                                  -approve with the digest printed by plan
  output -env E [-json]           print the API and function URLs of E
  facts  [-o FILE]                print what terraform/tests check against the code (JSON)

common flags:
  -dir DIR          the Terraform root module (default: terraform/ of this repository)
  -terraform PATH   terraform binary (default: terraform in PATH)
  -plugin-dir DIR   provider mirror for init (default: $TF_PLUGIN_DIR; none: the registry)
`

// options is a parsed command line.
type options struct {
	command   string
	env       string
	release   string // plan: MEDI_VERSION of every function
	approve   string // apply: approved summary digest
	jsonOut   bool   // output: raw JSON
	out       string // facts: file ("" or "-": stdout)
	dir       string
	terraform string
	pluginDir string
}

// errUsage is wrapped by parse errors; main prints the usage for them.
var errUsage = errors.New("usage")

var (
	digestPattern  = regexp.MustCompile(`^[0-9a-f]{64}$`)
	releasePattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,63}$`)
)

// parseArgs reads the command line (without the program name). getenv supplies defaults
// from the environment (TF_PLUGIN_DIR).
func parseArgs(args []string, getenv func(string) string) (options, error) {
	if len(args) == 0 {
		return options{}, fmt.Errorf("%w: no command", errUsage)
	}
	o := options{command: args[0]}
	fs := flag.NewFlagSet("deploy "+o.command, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.dir, "dir", "", "")
	fs.StringVar(&o.terraform, "terraform", "", "")
	fs.StringVar(&o.pluginDir, "plugin-dir", getenv("TF_PLUGIN_DIR"), "")
	switch o.command {
	case cmdPlan:
		fs.StringVar(&o.env, "env", "", "")
		fs.StringVar(&o.release, "release", "", "")
	case cmdApply:
		fs.StringVar(&o.env, "env", "", "")
		fs.StringVar(&o.approve, "approve", "", "")
	case cmdOutput:
		fs.StringVar(&o.env, "env", "", "")
		fs.BoolVar(&o.jsonOut, "json", false, "")
	case cmdFacts:
		fs.StringVar(&o.out, "o", "", "")
	case "help", "-h", "-help", "--help":
		return options{}, fmt.Errorf("%w: help", errUsage)
	default:
		return options{}, fmt.Errorf("%w: unknown command %q", errUsage, o.command)
	}
	if err := fs.Parse(args[1:]); err != nil {
		return options{}, fmt.Errorf("%w: %s: %v", errUsage, o.command, err)
	}
	if fs.NArg() > 0 {
		return options{}, fmt.Errorf("%w: %s: unexpected argument %q", errUsage, o.command, fs.Arg(0))
	}
	return o, o.validate()
}

func (o options) validate() error {
	var errs []error
	if o.command != cmdFacts {
		switch {
		case o.env == "":
			errs = append(errs, fmt.Errorf("-env is required (one of %s)", strings.Join(environments, ", ")))
		case !slices.Contains(environments, o.env):
			errs = append(errs, fmt.Errorf("-env %q: must be one of %s", o.env, strings.Join(environments, ", ")))
		}
	}
	if o.release != "" && !releasePattern.MatchString(o.release) {
		errs = append(errs, fmt.Errorf("-release %q: 1-63 letters, digits, dots, underscores or hyphens", o.release))
	}
	if o.approve != "" && !digestPattern.MatchString(o.approve) {
		errs = append(errs, fmt.Errorf("-approve: a summary digest is 64 lower-case hex digits (printed by plan)"))
	}
	if o.command == cmdApply && o.env == "prod" && o.approve == "" {
		errs = append(errs, errors.New("apply -env prod needs -approve <digest>: the digest of the plan summary someone reviewed"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %s: %w", errUsage, o.command, err)
	}
	return nil
}

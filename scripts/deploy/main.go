// Command deploy ships Medi OS with Terraform (through terraform-exec):
//
//	deploy plan -env staging              saved plan terraform/plans/staging.tfplan + summary
//	deploy apply -env staging             applies that saved plan, nothing else
//	deploy plan -env prod                 prints the summary and its digest for review
//	deploy apply -env prod -approve <d>   applies the saved prod plan if its digest is d
//	deploy output -env staging            API and function URLs
//	deploy facts                          what terraform/tests check against the code
//
// plan zips the function sources (go.mod, go.sum, functions.go, functions/, shared/)
// deterministically into terraform/plans/source-<sha256>.zip, which Terraform uploads to
// the source bucket. See docs/deployment.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/medi-os/medi/scripts/repo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := realMain(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, errUsage) {
			fmt.Fprintf(os.Stderr, "deploy: %v\n\n%s", err, usage)
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "deploy:", err)
		os.Exit(1)
	}
}

func realMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseArgs(args, os.Getenv)
	if err != nil {
		return err
	}
	repo, err := repo.Root()
	if err != nil {
		return err
	}
	if o.command == cmdFacts {
		return runFacts(repo, o.out, stdout)
	}
	dir := o.dir
	if dir == "" {
		dir = filepath.Join(repo, "terraform")
	}
	bin := o.terraform
	if bin == "" {
		if bin, err = exec.LookPath("terraform"); err != nil {
			return errors.New("terraform not found in PATH (or pass -terraform)")
		}
	}
	tf, err := tfexec.NewTerraform(dir, bin)
	if err != nil {
		return err
	}
	tf.SetStdout(stderr) // Terraform's own progress goes to stderr; stdout is the summary
	tf.SetStderr(stderr)
	d := &deployer{tf: tf, dir: dir, repo: repo, pluginDir: o.pluginDir, release: gitRelease(repo), stdout: stdout, stderr: stderr}
	switch o.command {
	case cmdPlan:
		_, err = d.plan(ctx, o.env, o.release)
	case cmdApply:
		err = d.apply(ctx, o.env, o.approve)
	case cmdOutput:
		err = d.output(ctx, o.env, o.jsonOut)
	}
	return err
}

func runFacts(repo, out string, stdout io.Writer) error {
	f, err := CollectFacts(repo)
	if err != nil {
		return err
	}
	if out == "" || out == "-" {
		return WriteFacts(stdout, f)
	}
	file, err := os.Create(out)
	if err != nil {
		return err
	}
	if err := WriteFacts(file, f); err != nil {
		file.Close()
		return err
	}
	return file.Close()
}

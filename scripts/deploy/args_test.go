package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseArgs(t *testing.T) {
	t.Parallel()
	digest := strings.Repeat("ab", 32)
	env := map[string]string{"TF_PLUGIN_DIR": "/mirror"}
	getenv := func(k string) string { return env[k] }
	tests := []struct {
		name    string
		args    []string
		want    options
		wantErr string // substring; "" means no error
	}{
		{name: "plan staging", args: []string{"plan", "-env", "staging"},
			want: options{command: cmdPlan, env: "staging", pluginDir: "/mirror"}},
		{name: "plan with release and flags", args: []string{"plan", "-env=prod", "-release", "abc123", "-dir", "/tf", "-terraform", "/bin/tf", "-plugin-dir", "/other"},
			want: options{command: cmdPlan, env: "prod", release: "abc123", dir: "/tf", terraform: "/bin/tf", pluginDir: "/other"}},
		{name: "apply staging without approval", args: []string{"apply", "-env", "staging"},
			want: options{command: cmdApply, env: "staging", pluginDir: "/mirror"}},
		{name: "apply prod with approval", args: []string{"apply", "-env", "prod", "-approve", digest},
			want: options{command: cmdApply, env: "prod", approve: digest, pluginDir: "/mirror"}},
		{name: "output json", args: []string{"output", "-env", "dev", "-json"},
			want: options{command: cmdOutput, env: "dev", jsonOut: true, pluginDir: "/mirror"}},
		{name: "facts to file", args: []string{"facts", "-o", "f.json"},
			want: options{command: cmdFacts, out: "f.json", pluginDir: "/mirror"}},

		{name: "no command", args: nil, wantErr: "no command"},
		{name: "unknown command", args: []string{"destroy", "-env", "dev"}, wantErr: `unknown command "destroy"`},
		{name: "help", args: []string{"help"}, wantErr: "help"},
		{name: "env missing", args: []string{"plan"}, wantErr: "-env is required"},
		{name: "env unknown", args: []string{"plan", "-env", "production"}, wantErr: `-env "production": must be one of dev, staging, prod`},
		{name: "prod apply needs approval", args: []string{"apply", "-env", "prod"}, wantErr: "apply -env prod needs -approve"},
		{name: "approval not a digest", args: []string{"apply", "-env", "prod", "-approve", "yes"}, wantErr: "64 lower-case hex digits"},
		{name: "approval upper case", args: []string{"apply", "-env", "staging", "-approve", strings.ToUpper(digest)}, wantErr: "64 lower-case hex digits"},
		{name: "approve is not a plan flag", args: []string{"plan", "-env", "prod", "-approve", digest}, wantErr: "flag provided but not defined: -approve"},
		{name: "release is not an apply flag", args: []string{"apply", "-env", "dev", "-release", "x"}, wantErr: "flag provided but not defined: -release"},
		{name: "bad release", args: []string{"plan", "-env", "dev", "-release", "a b"}, wantErr: `-release "a b"`},
		{name: "positional argument", args: []string{"plan", "-env", "dev", "extra"}, wantErr: `unexpected argument "extra"`},
		{name: "facts has no env", args: []string{"facts", "-env", "dev"}, wantErr: "flag provided but not defined: -env"},
		{name: "several problems reported together", args: []string{"plan", "-env", "qa", "-release", "a/b"}, wantErr: `-env "qa": must be one of dev, staging, prod` + "\n" + `-release "a/b"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseArgs(tt.args, getenv)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("parseArgs(%q) = %+v, want error containing %q", tt.args, got, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("parseArgs(%q) error = %q, want it to contain %q", tt.args, err, tt.wantErr)
				}
				if !errors.Is(err, errUsage) {
					t.Errorf("parseArgs(%q) error %q does not wrap errUsage (main would not print the usage)", tt.args, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseArgs(%q): %v", tt.args, err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(options{})); diff != "" {
				t.Errorf("parseArgs(%q) mismatch (-want +got):\n%s", tt.args, diff)
			}
		})
	}
}

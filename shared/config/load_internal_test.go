package config

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// countingResolver stands in for the Secret Manager resolver Load creates itself.
type countingResolver struct{ resolved []string }

func (r *countingResolver) Resolve(_ context.Context, v string) (string, error) {
	r.resolved = append(r.resolved, v)
	return "resolved:" + v[strings.LastIndex(v, "/")+1:], nil
}

type twoSecrets struct {
	Base
	A Secret `env:"A"`
	B Secret `env:"B"`
	C string `env:"C"`
}

func TestLoadCreatesSecretManagerResolverInDeployedTiers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		tier        string
		env         map[string]string
		wantCreated int
	}{
		{"staging", map[string]string{"A": "secret://projects/p/secrets/a/versions/1", "B": "secret://projects/p/secrets/b/versions/latest", "C": "plain"}, 1},
		{"prod", map[string]string{"A": "secret://projects/p/secrets/a/versions/1", "B": "secret://projects/p/secrets/b/versions/latest", "C": "plain"}, 1},
		{"prod", map[string]string{"A": "plain-a", "C": "plain"}, 0}, // no reference: no client
	} {
		t.Run(tc.tier, func(t *testing.T) {
			t.Parallel()
			created, closed := 0, 0
			r := &countingResolver{}
			env := map[string]string{"MEDI_ENV": tc.tier, "GOOGLE_CLOUD_PROJECT": "p"}
			for k, v := range tc.env {
				env[k] = v
			}
			var cfg twoSecrets
			err := Load(t.Context(), &cfg, WithEnvironment(env), func(o *loadOptions) {
				o.newResolver = func(context.Context) (SecretResolver, func() error, error) {
					created++
					return r, func() error { closed++; return nil }, nil
				}
			})
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if created != tc.wantCreated || closed != tc.wantCreated {
				t.Errorf("resolver created %d and closed %d times, want %d", created, closed, tc.wantCreated)
			}
			if tc.wantCreated > 0 && (cfg.A != "resolved:1" || cfg.B != "resolved:latest" || cfg.C != "plain") {
				t.Errorf("cfg = %q, %q, %q; want resolved:1, resolved:latest, plain", cfg.A.Reveal(), cfg.B.Reveal(), cfg.C)
			}
		})
	}
}

func TestLoadReportsResolverCreationFailureOncePerVariable(t *testing.T) {
	t.Parallel()
	created := 0
	var cfg twoSecrets
	err := Load(t.Context(), &cfg, WithEnvironment(map[string]string{
		"MEDI_ENV":             "prod",
		"GOOGLE_CLOUD_PROJECT": "p",
		"A":                    "secret://projects/p/secrets/a/versions/1",
		"B":                    "secret://projects/p/secrets/b/versions/1",
	}), func(o *loadOptions) {
		o.newResolver = func(context.Context) (SecretResolver, func() error, error) {
			created++
			return nil, nil, errors.New("secrets: create Secret Manager client: no credentials")
		}
	})
	if created != 1 {
		t.Errorf("resolver creation attempted %d times, want 1", created)
	}
	want := "config: A: secrets: create Secret Manager client: no credentials; B: secrets: create Secret Manager client: no credentials"
	if err == nil || err.Error() != want {
		t.Errorf("Load error = %v, want %q", err, want)
	}
}

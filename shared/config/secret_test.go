package config_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/medi-os/medi/shared/config"
)

// badVerb is a verb that does not suit strings (a variable, so that vet lets it through).
var badVerb = "%d"

func TestSecretIsRedacted(t *testing.T) {
	t.Parallel()
	const value = "hunter2-very-secret"
	s := config.Secret(value)
	cfg := scribeConfig{
		Base:   config.Base{Tier: config.Prod, ProjectID: "medi-prod"},
		APIKey: s,
		DB:     dbConfig{Addr: "db:5432", Password: s},
		Mail:   &mailConfig{Password: s},
	}

	render := map[string]func() string{
		"%v":       func() string { return fmt.Sprintf("%v", s) },
		"%s":       func() string { return fmt.Sprintf("%s", s) },
		"%q":       func() string { return fmt.Sprintf("%q", s) },
		"%x":       func() string { return fmt.Sprintf("%x", s) },
		"%X":       func() string { return fmt.Sprintf("%X", s) },
		"%d":       func() string { return fmt.Sprintf(badVerb, s) },
		"%#v":      func() string { return fmt.Sprintf("%#v", s) },
		"%10.3s":   func() string { return fmt.Sprintf("%10.3s", s) },
		"Sprint":   func() string { return fmt.Sprint(s, &s) },
		"Sprintln": func() string { return fmt.Sprintln(s) },
		"struct %+v": func() string {
			return fmt.Sprintf("%+v", cfg)
		},
		"struct %#v": func() string {
			return fmt.Sprintf("%#v", cfg.DB)
		},
		"json value": func() string {
			b, err := json.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		},
		"json config": func() string {
			b, err := json.Marshal(cfg)
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		},
		"slog JSON": func() string {
			var buf bytes.Buffer
			slog.New(slog.NewJSONHandler(&buf, nil)).Info("loaded", "apiKey", s, "config", cfg)
			return buf.String()
		},
		"slog text": func() string {
			var buf bytes.Buffer
			slog.New(slog.NewTextHandler(&buf, nil)).Info("loaded", "apiKey", s, slog.Any("config", cfg))
			return buf.String()
		},
		"error": func() string { return fmt.Errorf("connect with %v: refused", s).Error() },
	}
	for name, f := range render {
		got := f()
		if strings.Contains(got, value) || strings.Contains(got, fmt.Sprintf("%x", value)) {
			t.Errorf("%s: output %q contains the secret", name, got)
		}
		if !strings.Contains(got, "[redacted]") {
			t.Errorf("%s: output %q does not show [redacted]", name, got)
		}
	}

	if got := s.Reveal(); got != value {
		t.Errorf("Reveal() = %q, want %q", got, value)
	}
}

func TestEmptySecretShowsEmpty(t *testing.T) {
	t.Parallel()
	var s config.Secret
	if got := s.String(); got != "" {
		t.Errorf("String() = %q, want \"\"", got)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(b); got != `""` {
		t.Errorf("MarshalJSON = %s, want \"\"", got)
	}
	if got := s.LogValue().String(); got != "" {
		t.Errorf("LogValue = %q, want \"\"", got)
	}
}

func TestSecretFormats(t *testing.T) {
	t.Parallel()
	s := config.Secret("pa55word")
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"%v", fmt.Sprintf("%v", s), "[redacted]"},
		{"%q", fmt.Sprintf("%q", s), `"[redacted]"`},
		{"%#v", fmt.Sprintf("%#v", s), `config.Secret("[redacted]")`},
		{"%x", fmt.Sprintf("%x", s), "[redacted]"},
		{"String", s.String(), "[redacted]"},
		{"LogValue", s.LogValue().String(), "[redacted]"},
		{"struct %+v", fmt.Sprintf("%+v", struct{ Key config.Secret }{s}), "{Key:[redacted]}"},
		{"empty %q", fmt.Sprintf("%q", config.Secret("")), `""`},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s = %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}

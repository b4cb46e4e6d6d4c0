package patient

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestFold(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"Núñez", "nunez"},
		{"NUNEZ", "nunez"},
		{"nuñez", "nunez"},
		{"  José  María ", "jose maria"},
		{"Smith-Jones, Ann", "smith jones ann"},
		{"O'Brien", "obrien"},
		{"O’Brien", "obrien"},
		{"Straße", "strasse"},
		{"Ærøskøbing", "aeroskobing"},
		{"Łódź", "lodz"},
		{"Øster", "oster"},
		{"Þór", "thor"},
		{"İstanbul", "istanbul"},
		{"Ｎｕｎｅｚ", "nunez"}, // full-width forms fold to ASCII (NFKD)
		{"Ǆ", "dz"},        // a ligature letter decomposes
		{"Müller", "muller"},
		{"Zoë", "zoe"},
		{"Привет", "привет"}, // other scripts keep their letters, lower case
		{"李", "李"},
		{"---", ""},
		{"", ""},
	} {
		if got := Fold(tc.in); got != tc.want {
			t.Errorf("Fold(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNameKeyAndFoldPrefixMeet(t *testing.T) {
	t.Parallel()
	key := NameKey("Núñez", "José")
	if key != "nunez jose" {
		t.Fatalf("NameKey = %q", key)
	}
	for _, q := range []string{"nunez", "NÚÑEZ", "Nu", "núñez, jo", "Nunez Jose", "nunez "} {
		if p := FoldPrefix(q); !strings.HasPrefix(key, p) {
			t.Errorf("FoldPrefix(%q) = %q: not a prefix of %q", q, p, key)
		}
	}
	for _, q := range []string{"jose", "nunez jo x", "nunezj"} {
		if p := FoldPrefix(q); strings.HasPrefix(key, p) {
			t.Errorf("FoldPrefix(%q) = %q unexpectedly matches %q", q, p, key)
		}
	}
	// A trailing separator means "the family name ends here".
	if p := FoldPrefix("nunez "); strings.HasPrefix(NameKey("Nunezova", "Ana"), p) {
		t.Errorf("FoldPrefix(%q) = %q matches a longer family name", "nunez ", p)
	}
}

func TestPrefixEnd(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		prefix, want string
		ok           bool
	}{
		{"nunez", "nune{", true},
		{"jos", "jot", true},
		{"a", "b", true},
		{"ab ", "ab!", true},
		{"z\uD7FF", "z\uE000", true}, // skips the surrogates
		{"a\U0010FFFF", "b", true},   // the last rune has no successor: carry
		{"\U0010FFFF", "", false},
		{"", "", false},
	} {
		got, ok := prefixEnd(tc.prefix)
		if got != tc.want || ok != tc.ok {
			t.Errorf("prefixEnd(%q) = %q, %v; want %q, %v", tc.prefix, got, ok, tc.want, tc.ok)
		}
	}
}

// FuzzPrefixEnd checks the bound on arbitrary strings: every string with the prefix
// sorts below it (byte order, as Firestore compares strings), and the prefix itself
// is not above it.
func FuzzPrefixEnd(f *testing.F) {
	for _, s := range []string{"nunez", "a\U0010FFFF", "ü", "z\uD7FF"} {
		f.Add(s, "suffix")
	}
	f.Fuzz(func(t *testing.T, prefix, suffix string) {
		if !utf8.ValidString(prefix) || !utf8.ValidString(suffix) {
			t.Skip()
		}
		end, ok := prefixEnd(prefix)
		if !ok {
			return
		}
		if !utf8.ValidString(end) {
			t.Fatalf("prefixEnd(%q) = %q is not valid UTF-8", prefix, end)
		}
		if s := prefix + suffix; s >= end {
			t.Fatalf("%q >= prefixEnd(%q) = %q", s, prefix, end)
		}
	})
}

func TestNormalizeMRN(t *testing.T) {
	t.Parallel()
	if got := NormalizeMRN("  mrn-7 "); got != "MRN-7" {
		t.Errorf("NormalizeMRN = %q", got)
	}
}

package events

import (
	"errors"
	"fmt"
	"testing"
)

func TestPermanent(t *testing.T) {
	t.Parallel()
	base := errors.New("patient record gone")
	sentinel := errors.New("sentinel")

	tests := []struct {
		name          string
		err           error
		wantPermanent bool
		wantMsg       string
		wantIs        error
	}{
		{name: "nil stays nil", err: Permanent(nil)},
		{name: "plain error is transient", err: base, wantMsg: base.Error(), wantIs: base},
		{name: "marked", err: Permanent(base), wantPermanent: true, wantMsg: base.Error(), wantIs: base},
		{name: "marked then wrapped", err: fmt.Errorf("project: %w", Permanent(sentinel)), wantPermanent: true, wantMsg: "project: sentinel", wantIs: sentinel},
		{name: "marked twice", err: Permanent(Permanent(base)), wantPermanent: true, wantMsg: base.Error(), wantIs: base},
		{name: "sentinel wrapped directly", err: fmt.Errorf("bad input: %w", ErrPermanent), wantPermanent: true, wantMsg: "bad input: permanent failure", wantIs: ErrPermanent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := IsPermanent(tc.err); got != tc.wantPermanent {
				t.Errorf("IsPermanent = %v, want %v", got, tc.wantPermanent)
			}
			if got, want := errors.Is(tc.err, ErrPermanent), tc.wantPermanent; got != want {
				t.Errorf("errors.Is(err, ErrPermanent) = %v, want %v", got, want)
			}
			if tc.err == nil {
				return
			}
			if got := tc.err.Error(); got != tc.wantMsg {
				t.Errorf("Error() = %q, want %q", got, tc.wantMsg)
			}
			if !errors.Is(tc.err, tc.wantIs) {
				t.Errorf("errors.Is(err, %v) = false, want true", tc.wantIs)
			}
		})
	}
}

package llm

import "testing"

func TestCost(t *testing.T) {
	t.Parallel()
	p := Price{InputPerMTok: 0.30, OutputPerMTok: 2.50}
	if got, want := p.Cost(1_000_000, 200_000), 0.30+0.50; got < want-1e-9 || got > want+1e-9 {
		t.Errorf("Cost = %v, want %v", got, want)
	}
	if got := (Price{}).Cost(500, 500); got != 0 {
		t.Errorf("zero price Cost = %v", got)
	}
}

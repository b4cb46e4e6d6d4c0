package patient

import (
	"testing"
	"time"
)

func TestAgeOn(t *testing.T) {
	t.Parallel()
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	for _, tc := range []struct {
		birth, on string
		want      Age
	}{
		{"2019-03-15", "2026-12-07", Age{Years: 7, Months: 8, Days: 22, TotalMonths: 92, TotalDays: 2824}},
		{"2026-12-07", "2026-12-07", Age{}},
		{"2026-10-31", "2026-12-07", Age{Months: 1, Days: 7, TotalMonths: 1, TotalDays: 37}},
		{"2026-01-31", "2026-03-01", Age{Months: 1, Days: 1, TotalMonths: 1, TotalDays: 29}},
		{"2000-02-29", "2026-02-28", Age{Years: 25, Months: 11, Days: 30, TotalMonths: 311, TotalDays: 9496}},
		{"1950-12-07", "2026-12-07", Age{Years: 76, TotalMonths: 912, TotalDays: 27759}},
		{"1950-12-08", "2026-12-07", Age{Years: 75, Months: 11, Days: 29, TotalMonths: 911, TotalDays: 27758}},
	} {
		got, err := AgeOn(tc.birth, day(tc.on))
		if err != nil || got != tc.want {
			t.Errorf("born %s, on %s: %+v, %v; want %+v", tc.birth, tc.on, got, err, tc.want)
		}
	}
	// The calendar date is the one of the given location: 23:30 on the 6th in New York is
	// already the 7th in UTC.
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no time zone data")
	}
	if a, _ := AgeOn("2020-12-07", time.Date(2026, 12, 6, 23, 30, 0, 0, ny)); a.Years != 5 {
		t.Errorf("local date: %+v, want 5 years (the birthday is tomorrow there)", a)
	}
	for _, bad := range []string{"", "2020-13-01", "07/12/2020", "2027-01-01"} {
		if _, err := AgeOn(bad, day("2026-12-07")); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

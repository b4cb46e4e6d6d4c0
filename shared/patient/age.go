package patient

import (
	"errors"
	"time"
)

// Age is a completed age in calendar units: Years, then Months (0-11), then Days (0-30), with
// the totals in months and in days.
type Age struct {
	Years, Months, Days    int
	TotalMonths, TotalDays int
}

// ErrBirthDate is returned for a birth date that is not a date YYYY-MM-DD or lies after the
// day the age is asked for.
var ErrBirthDate = errors.New("patient: birth date is not a date YYYY-MM-DD on or before the day")

// AgeOn returns the completed age, on the calendar date of on (in on's location), of someone
// born on birthDate (YYYY-MM-DD).
func AgeOn(birthDate string, on time.Time) (Age, error) {
	if !isDate(birthDate) {
		return Age{}, ErrBirthDate
	}
	b, _ := time.Parse(time.DateOnly, birthDate)
	y, m, d := on.Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	if today.Before(b) {
		return Age{}, ErrBirthDate
	}
	months := (today.Year()-b.Year())*12 + int(today.Month()-b.Month())
	if today.Day() < b.Day() {
		months--
	}
	// The day the last completed month was completed: the birth day of that month, or its
	// last day when the month is shorter (born on the 31st, a month is completed on the 30th
	// of a 30-day month).
	anchor := monthsAfter(b, months)
	for anchor.After(today) {
		months--
		anchor = monthsAfter(b, months)
	}
	return Age{
		Years: months / 12, Months: months % 12, Days: int(today.Sub(anchor).Hours() / 24),
		TotalMonths: months, TotalDays: int(today.Sub(b).Hours() / 24),
	}, nil
}

// monthsAfter is the same day of the month n months after b, or that month's last day.
func monthsAfter(b time.Time, n int) time.Time {
	first := time.Date(b.Year(), b.Month()+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return time.Date(first.Year(), first.Month(), min(b.Day(), last), 0, 0, 0, 0, time.UTC)
}

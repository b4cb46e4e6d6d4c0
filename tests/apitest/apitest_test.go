package apitest

import (
	"strings"
	"testing"
)

func TestZeroTimesFindsEveryZeroTime(t *testing.T) {
	t.Parallel()
	body := `{"success":true,"data":{"createdAt":"2026-11-27T08:00:00Z","timings":{"failedAt":"0001-01-01T00:00:00Z"},
		"items":[{"at":"0001-01-01T00:00:00.000Z"},{"at":"2026-01-01T00:00:00+01:00"}],"note":"0001-01-01 is a date in prose"},"requestId":"r"}`
	got := strings.Join(ZeroTimes([]byte(body)), " ")
	if want := "data.items[0].at data.timings.failedAt"; got != want {
		t.Errorf("ZeroTimes = %q, want %q", got, want)
	}
	if got := ZeroTimes([]byte(`not json`)); got != nil {
		t.Errorf("ZeroTimes(not json) = %v", got)
	}
}

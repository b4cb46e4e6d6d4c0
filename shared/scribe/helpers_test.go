package scribe_test

import (
	"encoding/json"
	"time"
)

var testNow = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

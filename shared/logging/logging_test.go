package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var traceIDRE = regexp.MustCompile(`^[0-9a-f]{32}$`)

// decodeLines parses every JSON line written to buf.
func decodeLines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %v\n%s", err, line)
		}
		out = append(out, m)
	}
	return out
}

// decodeOne parses the single JSON line written to buf.
func decodeOne(t *testing.T, buf *bytes.Buffer) map[string]any {
	t.Helper()
	lines := decodeLines(t, buf)
	if len(lines) != 1 {
		t.Fatalf("got %d log lines, want 1:\n%s", len(lines), buf.String())
	}
	return lines[0]
}

func TestSeverity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		level slog.Level
		want  string
	}{
		{slog.Level(-8), "DEBUG"},
		{slog.LevelDebug, "DEBUG"},
		{slog.LevelDebug + 1, "DEBUG"},
		{slog.LevelInfo, "INFO"},
		{slog.LevelInfo + 1, "INFO"},
		{levelNotice, "NOTICE"},
		{slog.LevelWarn - 1, "NOTICE"},
		{slog.LevelWarn, "WARNING"},
		{slog.LevelError - 1, "WARNING"},
		{slog.LevelError, "ERROR"},
		{levelCritical - 1, "ERROR"},
		{levelCritical, "CRITICAL"},
		{slog.Level(16), "CRITICAL"},
	}
	for _, tc := range tests {
		t.Run(tc.level.String(), func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			log := New(&buf, slog.Level(-100))
			log.Log(context.Background(), tc.level, "hello", "k", "v")
			got := decodeOne(t, &buf)
			if got["severity"] != tc.want {
				t.Errorf("severity = %v, want %q", got["severity"], tc.want)
			}
		})
	}
}

func TestNew_FieldNames(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := New(&buf, nil)
	log.Info("patient checked in", "encounterId", "e1")
	got := decodeOne(t, &buf)
	if got["message"] != "patient checked in" {
		t.Errorf("message = %v, want %q", got["message"], "patient checked in")
	}
	if got["encounterId"] != "e1" {
		t.Errorf("encounterId = %v, want e1", got["encounterId"])
	}
	if _, ok := got["time"].(string); !ok {
		t.Errorf("time = %v, want an RFC 3339 string", got["time"])
	}
	for _, k := range []string{"msg", "level"} {
		if _, ok := got[k]; ok {
			t.Errorf("line has slog's default key %q; Cloud Logging would not recognise it: %v", k, got)
		}
	}
}

func TestNew_DefaultLevelIsInfo(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := New(&buf, nil)
	log.Debug("hidden")
	if buf.Len() != 0 {
		t.Errorf("debug line written at default level: %s", buf.String())
	}
	log.Info("shown")
	if got := decodeOne(t, &buf); got["message"] != "shown" {
		t.Errorf("message = %v, want shown", got["message"])
	}
}

func TestNew_GroupedKeysNotRenamed(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	New(&buf, nil).WithGroup("g").Info("m", "level", "x", "msg", "y")
	got := decodeOne(t, &buf)
	want := map[string]any{"level": "x", "msg": "y"}
	if diff := cmp.Diff(want, got["g"]); diff != "" {
		t.Errorf("group g (-want +got):\n%s", diff)
	}
	if got["severity"] != "INFO" || got["message"] != "m" {
		t.Errorf("top-level severity/message = %v/%v, want INFO/m", got["severity"], got["message"])
	}
}

func TestParseTraceparent(t *testing.T) {
	t.Parallel()
	const (
		tid = "4bf92f3577b34da6a3ce929d0e0e4736"
		sid = "00f067aa0ba902b7"
	)
	tests := []struct {
		name   string
		header string
		want   Trace
		ok     bool
	}{
		{name: "sampled", header: "00-" + tid + "-" + sid + "-01", want: Trace{TraceID: tid, SpanID: sid, Sampled: true}, ok: true},
		{name: "not sampled", header: "00-" + tid + "-" + sid + "-00", want: Trace{TraceID: tid, SpanID: sid}, ok: true},
		{name: "other flag bits", header: "00-" + tid + "-" + sid + "-02", want: Trace{TraceID: tid, SpanID: sid}, ok: true},
		{name: "surrounding space", header: "  00-" + tid + "-" + sid + "-01 ", want: Trace{TraceID: tid, SpanID: sid, Sampled: true}, ok: true},
		{name: "upper-case hex normalised", header: "00-" + strings.ToUpper(tid) + "-" + strings.ToUpper(sid) + "-0B", want: Trace{TraceID: tid, SpanID: sid, Sampled: true}, ok: true},
		{name: "future version with extra field", header: "cc-" + tid + "-" + sid + "-01-what-ever", want: Trace{TraceID: tid, SpanID: sid, Sampled: true}, ok: true},
		{name: "version ff", header: "ff-" + tid + "-" + sid + "-01"},
		{name: "version not hex", header: "zz-" + tid + "-" + sid + "-01"},
		{name: "version 00 with extra field", header: "00-" + tid + "-" + sid + "-01-extra"},
		{name: "all-zero trace id", header: "00-" + strings.Repeat("0", 32) + "-" + sid + "-01"},
		{name: "all-zero span id", header: "00-" + tid + "-" + strings.Repeat("0", 16) + "-01"},
		{name: "short trace id", header: "00-" + tid[:31] + "-" + sid + "-01"},
		{name: "short span id", header: "00-" + tid + "-" + sid[:15] + "-01"},
		{name: "non-hex trace id", header: "00-" + tid[:31] + "g-" + sid + "-01"},
		{name: "non-hex flags", header: "00-" + tid + "-" + sid + "-0x"},
		{name: "three fields", header: "00-" + tid + "-" + sid},
		{name: "empty", header: ""},
		{name: "garbage", header: "not a traceparent"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := parseTraceparent(tc.header)
			if ok != tc.ok {
				t.Fatalf("parseTraceparent(%q) ok = %v, want %v", tc.header, ok, tc.ok)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("parseTraceparent(%q) (-want +got):\n%s", tc.header, diff)
			}
		})
	}
}

func TestParseCloudTraceContext(t *testing.T) {
	t.Parallel()
	const tid = "105445aa7843bc8bf206b12000100000"
	tests := []struct {
		name   string
		header string
		want   Trace
		ok     bool
	}{
		{name: "trace span sampled", header: tid + "/1;o=1", want: Trace{TraceID: tid, SpanID: "0000000000000001", Sampled: true}, ok: true},
		{name: "span as hex", header: tid + "/12345678901234567890;o=0", want: Trace{TraceID: tid, SpanID: "ab54a98ceb1f0ad2"}, ok: true},
		{name: "trace span no options", header: tid + "/255", want: Trace{TraceID: tid, SpanID: "00000000000000ff"}, ok: true},
		{name: "trace only", header: tid, want: Trace{TraceID: tid}, ok: true},
		{name: "trace and slash", header: tid + "/", want: Trace{TraceID: tid}, ok: true},
		{name: "trace and options", header: tid + ";o=1", want: Trace{TraceID: tid, Sampled: true}, ok: true},
		{name: "span zero dropped", header: tid + "/0;o=1", want: Trace{TraceID: tid, Sampled: true}, ok: true},
		{name: "span not decimal dropped", header: tid + "/abc;o=1", want: Trace{TraceID: tid, Sampled: true}, ok: true},
		{name: "upper-case trace", header: strings.ToUpper(tid) + "/7", want: Trace{TraceID: tid, SpanID: "0000000000000007"}, ok: true},
		{name: "all-zero trace", header: strings.Repeat("0", 32) + "/1;o=1"},
		{name: "short trace", header: tid[:30] + "/1;o=1"},
		{name: "garbage", header: "garbage"},
		{name: "empty", header: ""},
		{name: "spaces", header: "   "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := parseCloudTraceContext(tc.header)
			if ok != tc.ok {
				t.Fatalf("parseCloudTraceContext(%q) ok = %v, want %v", tc.header, ok, tc.ok)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("parseCloudTraceContext(%q) (-want +got):\n%s", tc.header, diff)
			}
		})
	}
}

func TestTraceFromHeaders(t *testing.T) {
	t.Parallel()
	const (
		w3cTrace   = "4bf92f3577b34da6a3ce929d0e0e4736"
		cloudTrace = "105445aa7843bc8bf206b12000100000"
	)
	validTP := "00-" + w3cTrace + "-00f067aa0ba902b7-01"
	tests := []struct {
		name      string
		header    http.Header
		wantTrace string // "" means: a fresh random id
	}{
		{name: "traceparent", header: http.Header{"Traceparent": {validTP}}, wantTrace: w3cTrace},
		{name: "traceparent wins over cloud header", header: http.Header{"Traceparent": {validTP}, "X-Cloud-Trace-Context": {cloudTrace + "/1;o=1"}}, wantTrace: w3cTrace},
		{name: "invalid traceparent falls back to cloud header", header: http.Header{"Traceparent": {"ff-" + w3cTrace + "-00f067aa0ba902b7-01"}, "X-Cloud-Trace-Context": {cloudTrace + "/1;o=1"}}, wantTrace: cloudTrace},
		{name: "cloud header", header: http.Header{"X-Cloud-Trace-Context": {cloudTrace}}, wantTrace: cloudTrace},
		{name: "none", header: http.Header{}},
		{name: "both invalid", header: http.Header{"Traceparent": {"garbage"}, "X-Cloud-Trace-Context": {"garbage"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := TraceFromHeaders(tc.header)
			// The request id is the server's, never the client's: new for every request,
			// even for two requests that send the same trace.
			if !traceIDRE.MatchString(got.RequestID()) || got.RequestID() == got.TraceID {
				t.Errorf("RequestID() = %q (trace %q), want 32 lower-case hex digits of its own", got.RequestID(), got.TraceID)
			}
			if again := TraceFromHeaders(tc.header); again.RequestID() == got.RequestID() {
				t.Errorf("two requests with the same headers share request id %q", got.RequestID())
			}
			if tc.wantTrace != "" {
				if got.TraceID != tc.wantTrace {
					t.Errorf("TraceID = %q, want %q", got.TraceID, tc.wantTrace)
				}
				return
			}
			if !traceIDRE.MatchString(got.TraceID) {
				t.Errorf("fallback TraceID = %q, want 32 lower-case hex digits", got.TraceID)
			}
			if got.SpanID != "" || got.Sampled {
				t.Errorf("fallback trace = %+v, want no span and not sampled", got)
			}
			if again := TraceFromHeaders(tc.header); again.TraceID == got.TraceID {
				t.Errorf("two fallback ids are equal (%q); want a new id per request", got.TraceID)
			}
		})
	}
}

func TestNewTrace(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 100 {
		tr := NewTrace()
		if !traceIDRE.MatchString(tr.TraceID) || allZero(tr.TraceID) {
			t.Fatalf("NewTrace().TraceID = %q, want 32 lower-case hex digits, not all zero", tr.TraceID)
		}
		if seen[tr.TraceID] {
			t.Fatalf("NewTrace repeated %q", tr.TraceID)
		}
		seen[tr.TraceID] = true
		if got := tr.RequestID(); !traceIDRE.MatchString(got) || got == tr.TraceID || seen[got] {
			t.Errorf("RequestID() = %q, want 32 lower-case hex digits of its own", got)
		}
		seen[tr.RequestID()] = true
	}
}

func TestForTrace(t *testing.T) {
	t.Parallel()
	const tid = "4bf92f3577b34da6a3ce929d0e0e4736"
	const rid = "0af7651916cd43dd8448eb211c80319c"
	tests := []struct {
		name    string
		project string
		trace   Trace
		want    map[string]any
		absent  []string
	}{
		{
			name:    "project, span, sampled",
			project: "medi-prod",
			trace:   Trace{TraceID: tid, SpanID: "00f067aa0ba902b7", Sampled: true, Request: rid},
			want: map[string]any{
				TraceKey:     "projects/medi-prod/traces/" + tid,
				SpanKey:      "00f067aa0ba902b7",
				SampledKey:   true,
				RequestIDKey: rid,
			},
		},
		{
			name:    "no span, not sampled",
			project: "medi-prod",
			trace:   Trace{TraceID: tid, Request: rid},
			want: map[string]any{
				TraceKey:     "projects/medi-prod/traces/" + tid,
				RequestIDKey: rid,
			},
			absent: []string{SpanKey, SampledKey},
		},
		{
			name:  "no project: bare id",
			trace: Trace{TraceID: tid, Request: rid},
			want: map[string]any{
				TraceKey:     tid,
				RequestIDKey: rid,
			},
			absent: []string{SpanKey, SampledKey},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			ForTrace(New(&buf, nil), tc.project, tc.trace).Info("x")
			got := decodeOne(t, &buf)
			for k, v := range tc.want {
				if diff := cmp.Diff(v, got[k]); diff != "" {
					t.Errorf("field %q (-want +got):\n%s", k, diff)
				}
			}
			for _, k := range tc.absent {
				if v, ok := got[k]; ok {
					t.Errorf("field %q = %v, want absent", k, v)
				}
			}
		})
	}
}

func TestStart(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	tr := Trace{TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", SpanID: "00f067aa0ba902b7", Request: "0af7651916cd43dd8448eb211c80319c"}
	ctx := Start(context.Background(), New(&buf, nil), "p", tr)

	if got, want := RequestID(ctx), tr.Request; got != want {
		t.Errorf("RequestID(ctx) = %q, want %q", got, want)
	}
	gotTrace, ok := TraceFromContext(ctx)
	if !ok {
		t.Fatal("TraceFromContext: no trace")
	}
	if diff := cmp.Diff(tr, gotTrace); diff != "" {
		t.Errorf("TraceFromContext (-want +got):\n%s", diff)
	}

	FromContext(ctx).Warn("w")
	got := decodeOne(t, &buf)
	want := map[string]any{
		"severity":   "WARNING",
		"message":    "w",
		TraceKey:     "projects/p/traces/" + tr.TraceID,
		SpanKey:      tr.SpanID,
		RequestIDKey: tr.Request,
	}
	for k, v := range want {
		if diff := cmp.Diff(v, got[k]); diff != "" {
			t.Errorf("field %q (-want +got):\n%s", k, diff)
		}
	}
}

func TestStart_NilBaseUsesDefault(t *testing.T) {
	t.Parallel()
	ctx := Start(context.Background(), nil, "", NewTrace())
	if FromContext(ctx) == nil {
		t.Fatal("FromContext returned nil")
	}
	if RequestID(ctx) == "" {
		t.Error("RequestID is empty after Start")
	}
}

func TestFromContext_Default(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	if got := FromContext(ctx); got != Default() {
		t.Errorf("FromContext(empty ctx) = %p, want Default() %p", got, Default())
	}
	if got := FromContext(WithLogger(ctx, nil)); got != Default() {
		t.Errorf("FromContext(ctx with nil logger) = %p, want Default() %p", got, Default())
	}
	l := New(&bytes.Buffer{}, nil)
	if got := FromContext(WithLogger(ctx, l)); got != l {
		t.Errorf("FromContext did not return the stored logger")
	}
	if got := RequestID(ctx); got != "" {
		t.Errorf("RequestID(empty ctx) = %q, want empty", got)
	}
	if _, ok := TraceFromContext(ctx); ok {
		t.Error("TraceFromContext(empty ctx) ok = true")
	}
}

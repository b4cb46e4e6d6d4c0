// Command assessload measures POST /v1/triage/assess over HTTP against the local stack:
// a fixed number of concurrent clients (closed model: each sends its next request when
// the previous one is answered) for a bounded duration, then latency percentiles and
// throughput. Loopback only; the figures go into docs, never into test assertions.
//
//	scripts/dev                                 # in another terminal: the local stack
//	go run ./scripts/cmd/assessload             # 20 clients, 20 s, the demo nurse
//	go run ./scripts/cmd/assessload -clients 20 -duration 30s -base http://127.0.0.1:8080
//
// It signs in the demo nurse through the Auth emulator (or uses -token) and sends a
// complete adult assessment (no patient data: a synthetic body).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"sort"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/medi-os/medi/scripts/devports"
)

// maxDuration bounds an attack: this is a measurement, not a soak test.
const maxDuration = 2 * time.Minute

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "assessload:", err)
		os.Exit(1)
	}
}

type options struct {
	base, authHost, email, password, token string
	clients                                uint64
	duration, warmup                       time.Duration
}

func run() error {
	o := options{}
	defBase, defAuth, err := devports.Client(os.Getenv)
	if err != nil {
		return err
	}
	flag.StringVar(&o.base, "base", defBase, "base URL of the local stack's gateway (loopback only; default $MEDI_BASE_URL, else the dev stack's, MEDI_PORT_BASE included)")
	flag.StringVar(&o.authHost, "auth", defAuth, "Auth emulator host:port (loopback only; default $FIREBASE_AUTH_EMULATOR_HOST, else the dev stack's)")
	flag.StringVar(&o.email, "email", "nurse@demo-clinic.medi.test", "staff account to sign in with")
	flag.StringVar(&o.password, "password", "demo-nurse-pass", "its password")
	flag.StringVar(&o.token, "token", "", "ID token to use instead of signing in")
	flag.Uint64Var(&o.clients, "clients", 20, "concurrent clients")
	flag.DurationVar(&o.duration, "duration", 20*time.Second, "measured duration (at most 2m)")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured warm-up (cold start, token verification keys)")
	flag.Parse()
	if o.clients == 0 || o.clients > 200 {
		return errors.New("-clients must be 1..200")
	}
	if o.duration <= 0 || o.duration > maxDuration || o.warmup < 0 || o.warmup > maxDuration {
		return fmt.Errorf("-duration must be in (0, %s] and -warmup in [0, %s]", maxDuration, maxDuration)
	}
	base, err := url.Parse(strings.TrimRight(o.base, "/"))
	if err != nil || !loopback(base.Hostname()) {
		return fmt.Errorf("-base %q: only loopback URLs are allowed", o.base)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	token := o.token
	if token == "" {
		if token, err = signIn(ctx, o.authHost, o.email, o.password); err != nil {
			return err
		}
	}
	body, err := json.Marshal(assessBody())
	if err != nil {
		return err
	}
	target := vegeta.Target{
		Method: http.MethodPost,
		URL:    base.String() + "/v1/triage/assess",
		Body:   body,
		Header: http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer " + token}},
	}
	targeter := vegeta.NewStaticTargeter(target)
	// Closed model: exactly `clients` workers at an unbounded rate.
	attacker := func() *vegeta.Attacker {
		return vegeta.NewAttacker(vegeta.Workers(o.clients), vegeta.MaxWorkers(o.clients),
			vegeta.Connections(int(o.clients)), vegeta.Timeout(10*time.Second), vegeta.KeepAlive(true))
	}
	if o.warmup > 0 {
		a := attacker()
		for range a.Attack(targeter, vegeta.Rate{}, o.warmup, "warmup") {
			if ctx.Err() != nil {
				a.Stop()
			}
		}
	}
	a := attacker()
	var m vegeta.Metrics
	for res := range a.Attack(targeter, vegeta.Rate{}, o.duration, "assess") {
		m.Add(res)
		if ctx.Err() != nil {
			a.Stop()
		}
	}
	m.Close()
	report(os.Stdout, o, &m)
	if m.Success < 1 {
		return fmt.Errorf("%.2f %% of requests failed (status codes %v; errors %v)", 100*(1-m.Success), m.StatusCodes, m.Errors)
	}
	return nil
}

func report(w io.Writer, o options, m *vegeta.Metrics) {
	codes := make([]string, 0, len(m.StatusCodes))
	for c, n := range m.StatusCodes {
		codes = append(codes, fmt.Sprintf("%s:%d", c, n))
	}
	sort.Strings(codes)
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }
	fmt.Fprintf(w, "POST /v1/triage/assess, %d concurrent clients, %s measured (after %s warm-up)\n", o.clients, o.duration, o.warmup)
	fmt.Fprintf(w, "  requests    %d (%.0f/s, success %.2f %%, status %s)\n", m.Requests, m.Throughput, 100*m.Success, strings.Join(codes, " "))
	fmt.Fprintf(w, "  latency     p50 %s  p90 %s  p95 %s  p99 %s  max %s  mean %s\n",
		ms(m.Latencies.P50), ms(m.Latencies.P90), ms(m.Latencies.P95), ms(m.Latencies.P99), ms(m.Latencies.Max), ms(m.Latencies.Mean))
}

// assessBody is a synthetic, complete adult assessment (ESI 3 at point D).
func assessBody() map[string]any {
	return map[string]any{
		"ageYears": 52, "sex": "female", "chiefComplaint": "abdominal pain since this morning",
		"complaintCategory": "abdominal_pain", "arrivalMode": "walk_in", "mentalStatus": "A", "painScore": 5,
		"vitals": map[string]any{"heartRate": 92, "respiratoryRate": 18, "systolicBP": 128, "diastolicBP": 82,
			"spo2": 97, "temperatureC": 37.4, "onSupplementalOxygen": false},
	}
}

// signIn gets an ID token from the Auth emulator's REST API, as an app does.
func signIn(ctx context.Context, host, email, password string) (string, error) {
	h, _, err := net.SplitHostPort(host)
	if err != nil || !loopback(h) {
		return "", fmt.Errorf("-auth %q: only a loopback Auth emulator is allowed", host)
	}
	body, _ := json.Marshal(map[string]any{"email": email, "password": password, "returnSecureToken": true})
	u := "http://" + host + "/identitytoolkit.googleapis.com/v1/accounts:signInWithPassword?key=demo-key"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("signing in: %w", err)
	}
	defer resp.Body.Close()
	var out struct {
		IDToken string `json:"idToken"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK || out.IDToken == "" {
		return "", fmt.Errorf("signing in %s: status %d (is the stack running with its demo accounts?)", email, resp.StatusCode)
	}
	return out.IDToken, nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

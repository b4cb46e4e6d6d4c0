package authz

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/medi-os/medi/scripts/stack"
	roles "github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/tasks"
	"github.com/medi-os/medi/shared/testenv"
	"github.com/medi-os/medi/tests/apitest"
)

// TestMatrix calls every route of every registered HTTP function once per cell (see
// Row.cells) on the local stack and checks the outcome the matrix expects. Fixtures live
// in two clinics of different organisations: the own clinic's ids are requested by its
// own staff, by the other clinic's staff and with revoked tokens. Not parallel itself
// (it may set environment variables); its cells are.
func TestMatrix(t *testing.T) {
	routes := listRoutes(t)
	st := newStackUnderTest(t)
	spec := apitest.Spec(t)
	started := time.Now()

	ownID, otherID := "authz-a-"+randomHex(5), "authz-b-"+randomHex(5)
	revoked, revoke := revokedUsers(t, ownID)
	var own, other *clinicFixture
	t.Run("fixtures", func(t *testing.T) {
		t.Run("own", func(t *testing.T) { t.Parallel(); own = st.buildClinic(t, ownID) })
		t.Run("other", func(t *testing.T) { t.Parallel(); other = st.buildClinic(t, otherID) })
	})
	if own == nil || other == nil {
		t.Fatal("fixtures could not be created")
	}
	revoke()
	fixturesTook := time.Since(started)

	m := &matrixRun{st: st, spec: spec, own: own, other: other, revoked: revoked}
	cellsStarted := time.Now()
	t.Run("cells", func(t *testing.T) {
		for _, fr := range routes {
			for _, route := range fr.Routes {
				row, ok := matrix[fr.Name][routeKey(route)]
				if !ok {
					t.Errorf("%s %s has no row (see TestEveryRouteHasARow)", fr.Name, routeKey(route))
					continue
				}
				t.Run(fr.Name+" "+routeKey(route), func(t *testing.T) {
					t.Parallel()
					m.checkAnswers(t, fr.Name, route, row)
					for _, c := range row.cells() {
						t.Run(c.String(), func(t *testing.T) {
							if !row.Serial {
								t.Parallel()
							}
							m.check(t, fr.Name, route, row, c)
						})
					}
				})
			}
		}
	})
	t.Logf("authorization matrix: %d routes, %d cells (%s); fixtures %s, cells %s",
		m.routes(), m.total(), m.breakdown(), fixturesTook.Round(100*time.Millisecond), time.Since(cellsStarted).Round(100*time.Millisecond))
}

// matrixRun holds what the cells share.
type matrixRun struct {
	st         *stackUnderTest
	spec       *openapi3.T
	own, other *clinicFixture
	revoked    map[roles.Role]staffUser

	mu       sync.Mutex
	counts   map[Outcome]int
	routeSet map[string]bool
}

func (m *matrixRun) count(fn string, route httpx.Route, o Outcome) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.counts == nil {
		m.counts, m.routeSet = map[Outcome]int{}, map[string]bool{}
	}
	m.counts[o]++
	m.routeSet[fn+" "+routeKey(route)] = true
}

func (m *matrixRun) total() int {
	n := 0
	for _, c := range m.counts {
		n += c
	}
	return n
}

func (m *matrixRun) routes() int { return len(m.routeSet) }

func (m *matrixRun) breakdown() string {
	var parts []string
	for _, o := range []Outcome{Allowed, Unauthenticated, Forbidden, NotFound, Invalid} {
		parts = append(parts, string(o)+": "+strconv.Itoa(m.counts[o]))
	}
	return strings.Join(parts, ", ")
}

// placeholders replaces the path placeholders with the fixture ids.
func placeholders(ids map[string]string) *strings.Replacer {
	var pairs []string
	for k, v := range ids {
		pairs = append(pairs, "{"+k+"}", v)
	}
	return strings.NewReplacer(pairs...)
}

// maxAttempts bounds the calls of a cell answered 503.
const maxAttempts = 3

// answer is what a cell got back.
type answer struct {
	Status int
	Body   []byte
	Code   string
}

// check makes the call of cell c on route and compares the answer with the row.
func (m *matrixRun) check(t *testing.T, fn string, route httpx.Route, row Row, c cell) {
	want := row.expect(c)
	m.count(fn, route, want)

	ids := m.own.IDs
	var caller staffUser
	switch c.Kind {
	case Own:
		caller = m.own.Users[c.Role]
	case Other:
		caller = m.other.Users[c.Role]
	case Revoked:
		caller = m.revoked[c.Role]
	}
	if row.Disposable && (c.Kind == Own || c.Kind == Other) {
		caller = newUser(t, c.Role, caller.Clinic)
	}
	if row.FreshEncounter && c.Kind == Own {
		ids = maps.Clone(ids)
		ids["encounter"] = m.own.Fresh[c.Role]
	}

	path := row.Path
	if path == "" {
		path = route.Pattern
	}
	req := apitest.Request{Method: route.Method, Path: placeholders(ids).Replace(path), Token: caller.Token, Header: map[string]string{}}
	maps.Copy(req.Header, row.Header)
	if row.Body != nil {
		req.Body = row.Body(ids, caller)
	}

	pathOnly, _, _ := strings.Cut(req.Path, "?")
	base := m.st.gateway.BaseURL
	if c.Kind != Gateway && (row.Access == Worker || stack.Route(pathOnly) != fn) {
		base = testenv.FunctionURL(t, fn) // not behind the load balancer
	}
	if c.Kind == Task || c.Kind == Gateway {
		req.Header[tasks.SecretHeader] = m.st.taskSecret
	}
	documented := false
	if item := m.spec.Paths.Find(route.Pattern); item != nil && item.GetOperation(route.Method) != nil {
		documented = true
	}
	if !documented && row.Access != Worker {
		t.Errorf("%s %s is not documented in %s", route.Method, route.Pattern, apitest.SpecPath)
	}

	// 503 leaves the authorization undecided: retry as the apps do (contended Firestore
	// transactions on the emulator time out under the matrix's concurrent load).
	var got answer
	for attempt := 1; ; attempt++ {
		switch {
		case row.Stream:
			got = m.stream(t, base, req)
		case documented && c.Kind != Gateway:
			resp := m.st.client(t, base).Do(t, req)
			got = answer{Status: resp.Status, Body: resp.Body, Code: resp.Envelope.Code()}
		default:
			got = raw(t, base, req)
		}
		if got.Status != http.StatusServiceUnavailable || attempt == maxAttempts {
			break
		}
		t.Logf("attempt %d: 503, retrying", attempt)
		time.Sleep(time.Duration(attempt) * 500 * time.Millisecond)
	}

	m.judge(t, row, c, want, caller, ids, got)
	if want == Forbidden && got.Status == http.StatusForbidden && c.Kind != Gateway {
		refusalNamesAction(t, route, got.Body)
	}
}

// refusalNamesAction checks the one rule of a 403: details.action names the route refused
// (method and pattern, never the ids), and a refusal by the route's role check says so
// with the roles allowed.
func refusalNamesAction(t *testing.T, route httpx.Route, body []byte) {
	t.Helper()
	var env struct {
		Error struct {
			Message string `json:"message"`
			Details struct {
				Reason       string   `json:"reason"`
				Action       string   `json:"action"`
				AllowedRoles []string `json:"allowedRoles"`
			} `json:"details"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		t.Errorf("403 is not an error envelope: %v", err)
		return
	}
	d := env.Error.Details
	if want := routeKey(route); d.Action != want {
		t.Errorf("403 details.action = %q, want %q: %s", d.Action, want, truncate(body))
	}
	if d.Reason == roles.ReasonRole && (len(d.AllowedRoles) == 0 || !strings.Contains(env.Error.Message, routeKey(route))) {
		t.Errorf("a role refusal names neither the action in its message nor the roles allowed: %s", truncate(body))
	}
}

// judge compares an answer with the expected outcome and looks for the other clinic's
// ids in successful answers.
func (m *matrixRun) judge(t *testing.T, row Row, c cell, want Outcome, caller staffUser, ids map[string]string, got answer) {
	t.Helper()
	if got.Status >= 500 {
		t.Fatalf("status %d (want %s): a server error leaves the authorization undecided: %s", got.Status, want, truncate(got.Body))
	}
	switch want {
	case Allowed:
		if got.Status == http.StatusUnauthorized || got.Status == http.StatusForbidden {
			t.Errorf("status %d, want the call let through (%s): %s", got.Status, row.Why, truncate(got.Body))
		}
		if row.Scope == ScopeResource && c.Kind == Own && got.Status == http.StatusNotFound {
			t.Errorf("status 404 for the clinic's own resource: %s", truncate(got.Body))
		}
	default:
		if got.Status != want.status() {
			t.Errorf("status %d, want %d: %s", got.Status, want.status(), truncate(got.Body))
		} else if got.Code != want.code() && c.Kind != Gateway {
			// A task delivery posted to the load balancer reaches no function: paths outside
			// /v1 are the web app's (its bucket's 404 is not the API's envelope).
			t.Errorf("error code %q, want %q", got.Code, want.code())
		}
	}
	if got.Status/100 != 2 || row.Access == Public || (c.Kind != Own && c.Kind != Other) {
		return
	}
	foreign := m.other
	if caller.Clinic == m.other.ID {
		foreign = m.own
	}
	for k, v := range foreign.IDs {
		if bytes.Contains(got.Body, []byte(v)) {
			t.Errorf("a caller of clinic %s got the %s of clinic %s: %s", caller.Clinic, k, foreign.ID, truncate(got.Body))
		}
	}
	if row.Shows != "" && c.Kind == Own && want == Allowed && !bytes.Contains(got.Body, []byte(ids[row.Shows])) {
		t.Errorf("the answer lacks the clinic's own %s %s: %s", row.Shows, ids[row.Shows], truncate(got.Body))
	}
}

// raw sends req without the contract check (worker routes are not in the public API).
func raw(t *testing.T, base string, req apitest.Request) answer {
	t.Helper()
	resp, body := send(t, context.Background(), base, req)
	return answer{Status: resp.StatusCode, Body: body, Code: envelopeCode(body)}
}

func send(t *testing.T, ctx context.Context, base string, req apitest.Request) (*http.Response, []byte) {
	t.Helper()
	var body io.Reader
	if req.Body != nil {
		b, err := json.Marshal(req.Body)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	hr, err := http.NewRequestWithContext(ctx, req.Method, base+req.Path, body)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	if req.Token != "" {
		hr.Header.Set("Authorization", "Bearer "+req.Token)
	}
	for k, v := range req.Header {
		hr.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.Path, err)
	}
	defer resp.Body.Close()
	if ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); ct == "text/event-stream" {
		return resp, nil // a stream: the status and headers are the answer
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// stream opens an event stream, reads the status and headers, and closes it; refusals
// (JSON envelopes) are contract-checked.
func (m *matrixRun) stream(t *testing.T, base string, req apitest.Request) answer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	resp, body := send(t, ctx, base, req)
	if resp.StatusCode == http.StatusOK {
		if ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); ct != "text/event-stream" {
			t.Errorf("stream answered 200 with Content-Type %q", resp.Header.Get("Content-Type"))
		}
		return answer{Status: resp.StatusCode}
	}
	check, _ := http.NewRequest(req.Method, base+req.Path, nil)
	m.st.client(t, base).Contract.Check(t, check, resp.StatusCode, resp.Header, body)
	return answer{Status: resp.StatusCode, Body: body, Code: envelopeCode(body)}
}

func envelopeCode(body []byte) string {
	var env apitest.Envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return ""
	}
	return env.Code()
}

func truncate(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "..."
	}
	return string(b)
}

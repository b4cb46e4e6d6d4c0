package authz

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	roles "github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/tests/apitest"
)

// wildcard matches one wildcard of a route pattern ({id}, {rest...}).
var wildcard = regexp.MustCompile(`\{[^}]+\}`)

// TestMalformedIDsAreNotFound calls every public route whose path names an id, through the
// load balancer, with ids the suite never issues (Firestore's reserved __name__, 2,000
// characters, "a b/c") in every path wildcard, as a member of staff whose role the route
// allows and with the row's body. Each must be 404 not_found: the router checks ids before
// any handler or store runs. Before, such ids reached Firestore and came back 500 or 503
// (with Retry-After) from patients, encounters, break-glass, staff, summaries and triage.
// Not parallel: listRoutes may set environment variables.
func TestMalformedIDsAreNotFound(t *testing.T) {
	routes := listRoutes(t)
	st := newStackUnderTest(t)
	clinic := "authz-ids-" + randomHex(5)
	users := map[roles.Role]staffUser{}
	for _, role := range roles.Roles {
		users[role] = newUser(t, role, clinic)
	}
	calls := 0
	for _, fr := range routes {
		for _, route := range fr.Routes {
			row, ok := matrix[fr.Name][routeKey(route)]
			if !ok || row.Access == Worker || !wildcard.MatchString(route.Pattern) {
				continue
			}
			caller := staffUser{}
			if row.Access == Staff {
				caller = users[row.Roles[0]]
			}
			for name, bad := range map[string]string{"reserved": "__name__", "2000 characters": strings.Repeat("x", 2000), "not an id": "a b/c"} {
				path := wildcard.ReplaceAllString(route.Pattern, url.PathEscape(bad))
				calls++
				t.Run(fr.Name+" "+routeKey(route)+"/"+name, func(t *testing.T) {
					req := apitest.Request{Method: route.Method, Path: path, Token: caller.Token}
					if row.Body != nil {
						req.Body = row.Body(map[string]string{"clinic": clinic}, caller)
					}
					for k, v := range row.Header {
						req.Header = map[string]string{k: v}
					}
					resp := st.gateway.Do(t, req)
					if resp.Status != http.StatusNotFound || resp.Envelope.Code() != "not_found" {
						t.Errorf("status %d code %q Retry-After %q, want 404 not_found\n%s", resp.Status, resp.Envelope.Code(),
							resp.Header.Get("Retry-After"), truncate(resp.Body))
					}
				})
			}
		}
	}
	if calls < 30 {
		t.Errorf("only %d calls: the routes with ids were not found", calls)
	}
	t.Logf("%d calls with malformed ids", calls)
}

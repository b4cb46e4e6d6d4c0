package authz

import (
	"context"
	"flag"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/tests/apitest"
)

// defaultParallel bounds the matrix's concurrent calls when -parallel is not given (the
// cells wait on the network; the default, GOMAXPROCS, would leave the stack idle).
const defaultParallel = 8

func TestMain(m *testing.M) {
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		_ = flag.Set("test.parallel", strconv.Itoa(defaultParallel))
	}
	os.Exit(m.Run())
}

// functionRoutes are the routes of one function, as its router lists them.
type functionRoutes struct {
	Name   string
	Routes []httpx.Route
}

// listRoutes builds every registered HTTP function's router (no request is served, no
// backend is reached) and returns the routes by function name. Variables the functions'
// configurations require are set for the test when the environment lacks them (the local
// stack sets them all). The caller must not be parallel.
func listRoutes(t *testing.T) []functionRoutes {
	t.Helper()
	for k, v := range map[string]string{
		"GOOGLE_CLOUD_PROJECT": "demo-authz-routes",
		"MEDI_UPLOADS_BUCKET":  "demo-authz-routes-uploads",
		// triage's setup creates its Firestore client (without connecting): without an
		// emulator it would look for Google credentials.
		"FIRESTORE_EMULATOR_HOST": "127.0.0.1:1",
	} {
		if os.Getenv(k) == "" {
			t.Setenv(k, v)
		}
	}
	if os.Getenv("MEDI_ENV") == "" {
		t.Setenv("MEDI_ENV", "dev") // the dev outbox route exists in dev only
	}
	var out []functionRoutes
	for _, f := range httpFunctions {
		routes, err := f.Routes(context.Background())
		if err != nil {
			t.Fatalf("%s: listing routes: %v", f.Name(), err)
		}
		out = append(out, functionRoutes{Name: f.Name(), Routes: routes})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func routeKey(r httpx.Route) string { return r.Method + " " + r.Pattern }

// TestEveryRouteHasARow fails when functions.go registers an HTTP function the matrix
// does not know, when a function serves a route without a row in the matrix, or when a
// row names a route that no longer exists. Not parallel: it may set environment variables.
func TestEveryRouteHasARow(t *testing.T) {
	registered := registeredHTTPFunctions(t)
	var known []string
	for expr := range httpFunctions {
		known = append(known, expr)
	}
	slices.Sort(known)
	for _, expr := range registered {
		if !slices.Contains(known, expr) {
			t.Errorf("functions.go registers app.RegisterHTTP(%s): add it to httpFunctions in tests/authz/matrix_test.go and a row per route to matrix", expr)
		}
	}
	for _, expr := range known {
		if !slices.Contains(registered, expr) {
			t.Errorf("httpFunctions lists %s, which functions.go does not register", expr)
		}
	}

	total := 0
	for _, fr := range listRoutes(t) {
		rows, ok := matrix[fr.Name]
		if !ok {
			t.Errorf("function %s has no rows in matrix: add one per route (%d routes)", fr.Name, len(fr.Routes))
			continue
		}
		served := map[string]bool{}
		for _, r := range fr.Routes {
			served[routeKey(r)] = true
			if _, ok := rows[routeKey(r)]; !ok {
				t.Errorf("%s serves %s, which has no row in matrix[%q]: write down who may call it (tests/authz/matrix_test.go)",
					fr.Name, routeKey(r), fr.Name)
			}
		}
		for key := range rows {
			if !served[key] {
				t.Errorf("matrix[%q] has a row for %s, which %s no longer serves", fr.Name, key, fr.Name)
			}
		}
		total += len(fr.Routes)
	}
	names := map[string]bool{}
	for _, f := range httpFunctions {
		names[f.Name()] = true
	}
	for name := range matrix {
		if !names[name] {
			t.Errorf("matrix has rows for %q, which is not a registered HTTP function", name)
		}
	}
	if total < 50 {
		t.Errorf("only %d routes listed: the route listing is broken", total)
	}
}

// registeredHTTPFunctions returns the arguments of app.RegisterHTTP in functions.go, as
// written there (e.g. "auth.Function").
func registeredHTTPFunctions(t *testing.T) []string {
	t.Helper()
	path := filepath.Join(apitest.RepoRoot(), "functions.go")
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatalf("parsing %s: %v", path, err)
	}
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		if fn, ok := call.Fun.(*ast.SelectorExpr); !ok || fn.Sel.Name != "RegisterHTTP" {
			return true
		}
		if expr, ok := selector(call.Args); ok {
			out = append(out, expr)
		} else {
			t.Errorf("functions.go: RegisterHTTP is called with something other than pkg.Var")
		}
		return true
	})
	if len(out) == 0 {
		t.Fatalf("no app.RegisterHTTP call found in %s", path)
	}
	slices.Sort(out)
	return out
}

// selector returns "pkg.Name" when args is exactly that one selector expression.
func selector(args []ast.Expr) (string, bool) {
	if len(args) != 1 {
		return "", false
	}
	sel, ok := args[0].(*ast.SelectorExpr)
	if !ok {
		return "", false
	}
	pkg, ok := sel.X.(*ast.Ident)
	if !ok {
		return "", false
	}
	return pkg.Name + "." + sel.Sel.Name, true
}

// TestRowsAreConsistent checks each row on its own: the path it calls is routed to the
// row's pattern, staff rows name roles, and overrides are explained.
func TestRowsAreConsistent(t *testing.T) {
	dummy := strings.NewReplacer("{patient}", "p1", "{family}", "f1", "{encounter}", "e1", "{note}", "n1",
		"{session}", "s1", "{staff}", "u1", "{grant}", "g1")
	for fn, rows := range matrix {
		mux := http.NewServeMux()
		for key := range rows {
			mux.HandleFunc(key, func(http.ResponseWriter, *http.Request) {})
		}
		for key, row := range rows {
			method, pattern, _ := strings.Cut(key, " ")
			path := row.Path
			if path == "" {
				path = pattern
			}
			req := httptest.NewRequest(method, dummy.Replace(path), nil)
			if _, got := mux.Handler(req); got != key {
				t.Errorf("%s %s: path %q is routed to %q", fn, key, path, got)
			}
			if strings.Contains(dummy.Replace(path), "{") {
				t.Errorf("%s %s: path %q keeps a placeholder", fn, key, path)
			}
			if row.Access == Staff && len(row.Roles) == 0 {
				t.Errorf("%s %s: a staff route must name the roles allowed", fn, key)
			}
			if row.Access != Staff && len(row.Roles) > 0 {
				t.Errorf("%s %s: roles on a %s route mean nothing", fn, key, row.Access)
			}
			if (len(row.Override) > 0 || row.FreshEncounter || row.Disposable || row.Serial || row.ActionRoles != nil) && row.Why == "" {
				t.Errorf("%s %s: say Why", fn, key)
			}
			for _, r := range row.ActionRoles {
				if !slices.Contains(row.Roles, r) {
					t.Errorf("%s %s: action role %s cannot pass the route's role check", fn, key, r)
				}
			}
			if row.Shows != "" && row.Scope == ScopeNone {
				t.Errorf("%s %s: Shows needs clinic data", fn, key)
			}
		}
	}
}

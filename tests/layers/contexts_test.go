package layers

import (
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"testing"
)

// freshContextAllowed are the deployed files that may create a context from nothing, and
// why: none of them begins a transaction for a request.
var freshContextAllowed = map[string]string{
	"shared/app/http.go":       "configuration loaded at startup, before any request",
	"shared/app/cloudevent.go": "configuration loaded at startup, before any request",
	"shared/app/shutdown.go":   "the drain's grace after a termination signal",
	"shared/tasks/local.go":    "the local task dispatcher's lifetime (local stack only)",
	"shared/txtrack/registry.go": "the Registry's own calls (renewals, sweeps of dead processes' transactions), " +
		"which belong to the process, not to a request",
}

// Deployed code derives every context from its caller's: a keyed request's Firestore
// transactions are then begun under the request's context, where the idempotency
// middleware's tracker records them in the key's record (shared/txtrack), so that the
// retry that takes the key over rolls back those of a killed instance at once.
// context.Background() or context.TODO() in a handler's path would leave them to the
// process-wide txtrack.Registry, whose sweep finds them only after its lease. Test
// helpers may; the files above may, for their reasons.
func TestNoFreshContextsInDeployedCode(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, f := range parseTree(t) {
		if f.test || isTestSupport(f.pkg) {
			continue
		}
		calls := freshContexts(f.ast)
		if len(calls) == 0 {
			continue
		}
		seen[f.name] = true
		if _, ok := freshContextAllowed[f.name]; !ok {
			t.Errorf("%s creates a context from nothing (%v): derive it from the caller's context (context.WithoutCancel to outlive it)", f.name, calls)
		}
	}
	for name := range freshContextAllowed {
		if !seen[name] {
			t.Errorf("%s is allowed a fresh context but has none: remove it from freshContextAllowed", name)
		}
	}
}

// freshContexts lists the calls of f to context.Background and context.TODO.
func freshContexts(f *ast.File) []string {
	names := map[string]bool{}
	for _, im := range f.Imports {
		if ip, _ := strconv.Unquote(im.Path.Value); ip == "context" {
			names[packageName(ip, im.Name)] = true
		}
	}
	return packageCalls(f, names, "Background", "TODO")
}

// The check finds fresh contexts under any import name, and nothing else.
func TestFreshContextsFound(t *testing.T) {
	t.Parallel()
	src := `package p

import (
	"context"
	ctxpkg "context"
)

func f(ctx context.Context) {
	_ = context.Background()
	_ = ctxpkg.TODO()
	_ = context.WithoutCancel(ctx)
}
`
	af, err := parser.ParseFile(token.NewFileSet(), "p.go", src, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := freshContexts(af), []string{"context.Background", "ctxpkg.TODO"}; !slices.Equal(got, want) {
		t.Errorf("freshContexts = %v, want %v", got, want)
	}
}

// Package layers checks the import rules of docs/architecture.md ("Folders and what they
// may import") on the source tree: which folder may import which, that domain code does
// not know HTTP, that test helpers stay out of deployed code, and that only the platform
// layer creates Google Cloud clients.
package layers

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/medi-os/medi"

// file is one parsed Go file of the module.
type file struct {
	pkg     string // package directory relative to the root ("." for the root package)
	name    string // path relative to the root
	test    bool   // a _test.go file
	ast     *ast.File
	imports []string // module-relative imports ("shared/httpx") and others as they are
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("repository root not found: %v", err)
	}
	return root
}

// parseTree parses every Go file of the root package, functions/ and shared/.
func parseTree(t *testing.T) []file {
	t.Helper()
	root := repoRoot(t)
	var out []file
	add := func(p string) {
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		ff := file{pkg: path.Dir(rel), name: rel, test: strings.HasSuffix(rel, "_test.go"), ast: f}
		for _, im := range f.Imports {
			ip, _ := strconv.Unquote(im.Path.Value)
			if ip == module {
				ip = "."
			} else {
				ip = strings.TrimPrefix(ip, module+"/")
			}
			ff.imports = append(ff.imports, ip)
		}
		out = append(out, ff)
	}
	top, _ := filepath.Glob(filepath.Join(root, "*.go"))
	for _, p := range top {
		add(p)
	}
	for _, dir := range []string{"functions", "shared"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			if !d.IsDir() && strings.HasSuffix(p, ".go") {
				add(p)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(out) < 100 {
		t.Fatalf("parsed only %d files: the walk is broken", len(out))
	}
	return out
}

func under(pkg, dir string) bool { return pkg == dir || strings.HasPrefix(pkg, dir+"/") }

// isTestSupport reports whether a package is a helper for tests (its name ends in
// "test", or shared/testenv).
func isTestSupport(pkg string) bool {
	name := path.Base(pkg)
	return strings.HasSuffix(name, "test") || name == "testenv"
}

// httpSide are the packages that translate to and from HTTP; with functions/ they alone
// may import shared/httpx.
var httpSide = []string{"shared/httpx", "shared/auth", "shared/app"}

// foundation are the packages every other layer builds on; they import only each other.
var foundation = []string{"shared/apierr", "shared/commitmark", "shared/logging", "shared/config", "shared/secrets",
	"shared/events", "shared/tasks", "shared/mail", "shared/llm", "shared/routes", "shared/docid", "shared/txtrack",
	"shared/afterwork"}

// httpCore is the HTTP side below the platform layer; it imports only foundation and itself.
var httpCore = []string{"shared/httpx", "shared/auth"}

func within(pkg string, dirs []string) bool {
	return slices.ContainsFunc(dirs, func(d string) bool { return under(pkg, d) })
}

// allowedFunctionImports are the functions/ packages another function package may import.
var allowedFunctionImports = map[string][]string{
	// The administrative routes are served by the auth deployment (functions/admin).
	"functions/auth": {"functions/admin"},
}

func TestImportRules(t *testing.T) {
	t.Parallel()
	for _, f := range parseTree(t) {
		for _, im := range f.imports {
			if !under(im, "functions") && !under(im, "shared") && !under(im, "scripts") && !under(im, "tests") && im != "." {
				continue // not the module's
			}
			if why := refused(f, im); why != "" {
				t.Errorf("%s imports %s: %s", f.name, im, why)
			}
		}
	}
}

// refused says why f may not import im ("" when it may).
func refused(f file, im string) string {
	support := isTestSupport(f.pkg)
	switch {
	case (under(im, "scripts") || under(im, "tests")) && !f.test:
		return "deployed code does not depend on scripts/ or tests/"
	case im == ".":
		return "nothing imports the root package (it only registers the functions)"
	case f.pkg == "." && !f.test && !under(im, "functions") && im != "shared/app":
		return "the root package imports only functions/* and shared/app (registration)"
	case under(f.pkg, "shared") && under(im, "functions") && !support:
		return "shared/ never depends on functions/"
	case under(f.pkg, "functions") && under(im, "functions") && path.Dir(im) != f.pkg && !f.test && !support &&
		!slices.Contains(allowedFunctionImports[f.pkg], im):
		return "a function package does not import another (share code through shared/)"
	case isTestSupport(im) && !f.test && !support:
		return "test helpers are for tests only: deployed code must not link them"
	case im == "shared/app" && under(f.pkg, "shared") && !under(f.pkg, "shared/app") && !f.test && !support:
		return "shared/app is the functions' scaffolding; shared packages receive clients, they do not build functions"
	case within(f.pkg, foundation) && under(im, "shared") && !within(im, foundation) && !f.test && !support:
		return "foundation packages import only each other (the domain, HTTP and platform layers build on them)"
	case within(f.pkg, httpCore) && under(im, "shared") && !within(im, foundation) && !within(im, httpCore) && !f.test && !support:
		return "the HTTP side (httpx, auth) imports only foundation packages and itself"
	case (im == "shared/httpx" || under(im, "shared/httpx")) && under(f.pkg, "shared") && !f.test && !support &&
		!slices.ContainsFunc(httpSide, func(h string) bool { return under(f.pkg, h) }):
		return "domain packages do not know HTTP: return shared/apierr errors and take what the request carries as arguments; httpx and functions/ translate"
	}
	return ""
}

// clientPackages are the import paths whose constructors create Google Cloud clients.
var clientPackages = []string{"cloud.google.com/go/", "firebase.google.com/go/", "google.golang.org/genai"}

// Only the platform layer (shared/app) creates Google Cloud clients; functions and shared
// packages receive them.
func TestOnlyThePlatformCreatesClients(t *testing.T) {
	t.Parallel()
	for _, f := range parseTree(t) {
		if f.test || isTestSupport(f.pkg) || under(f.pkg, "shared/app") {
			continue
		}
		for _, c := range clientConstructors(f.ast) {
			t.Errorf("%s calls %s: take the client from the platform (shared/app/platform.go)", f.name, c)
		}
	}
}

// clientConstructors lists the calls of f that create a Google Cloud or Firebase client.
func clientConstructors(f *ast.File) []string {
	names := map[string]bool{} // local names of client packages
	for _, im := range f.Imports {
		ip, _ := strconv.Unquote(im.Path.Value)
		if !slices.ContainsFunc(clientPackages, func(p string) bool { return strings.HasPrefix(ip, p) }) {
			continue
		}
		names[packageName(ip, im.Name)] = true
	}
	return packageCalls(f, names, "NewClient", "NewApp")
}

// packageCalls lists the calls in f of the functions funcs of the packages whose local
// names are in pkgs, as "pkg.Func".
func packageCalls(f *ast.File, pkgs map[string]bool, funcs ...string) []string {
	var calls []string
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		if pkg, ok := sel.X.(*ast.Ident); ok && pkgs[pkg.Name] && slices.Contains(funcs, sel.Sel.Name) {
			calls = append(calls, pkg.Name+"."+sel.Sel.Name)
		}
		return true
	})
	return calls
}

// packageName is the name an import of ip is referred to by: its explicit name, else the
// package's own name (the last path element, skipping a major version or an API version
// suffix; firebase.google.com/go/v4 is package firebase).
func packageName(ip string, explicit *ast.Ident) string {
	if explicit != nil {
		return explicit.Name
	}
	if ip == "firebase.google.com/go" || strings.HasPrefix(ip, "firebase.google.com/go/v") && !strings.Contains(strings.TrimPrefix(ip, "firebase.google.com/go/"), "/") {
		return "firebase"
	}
	name := path.Base(ip)
	if isVersion(name) {
		name = path.Base(path.Dir(ip))
	}
	return name
}

// isVersion reports whether a path element is a major or API version (v2, apiv1).
func isVersion(elem string) bool {
	elem = strings.TrimPrefix(elem, "api")
	if len(elem) < 2 || elem[0] != 'v' {
		return false
	}
	_, err := strconv.Atoi(elem[1:])
	return err == nil
}

// The rules hold on known violations (so that the test above can fail).
func TestRulesRefuseKnownViolations(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		f    file
		im   string
		want bool
	}{
		{file{pkg: "shared/patient"}, "shared/httpx", true},
		{file{pkg: "shared/patient"}, "shared/httpx/idempotency", true},
		{file{pkg: "shared/patient", test: true}, "shared/httpx", false},
		{file{pkg: "shared/patient"}, "shared/apierr", false},
		{file{pkg: "shared/auth"}, "shared/httpx", false},
		{file{pkg: "shared/encounter"}, "functions/encounters", true},
		{file{pkg: "functions/patients"}, "functions/encounters", true},
		{file{pkg: "functions/auth"}, "functions/admin", false},
		{file{pkg: "functions/patients"}, "shared/testenv", true},
		{file{pkg: "functions/patients", test: true}, "shared/testenv", false},
		{file{pkg: "shared/queue"}, "shared/app", true},
		{file{pkg: "shared/queue"}, "scripts/stack", true},
		{file{pkg: "functions/patients", test: true}, "tests/apitest", false},
		{file{pkg: "."}, "shared/patient", true},
		{file{pkg: "."}, "functions/patients", false},
		{file{pkg: "shared/events"}, "shared/encounter", true},
		{file{pkg: "shared/mail"}, "shared/tasks", false},
		{file{pkg: "shared/llm"}, "shared/httpx", true},
		{file{pkg: "shared/auth"}, "shared/staff", true},
		{file{pkg: "shared/httpx/idempotency"}, "shared/commitmark", false},
	} {
		if got := refused(tc.f, tc.im) != ""; got != tc.want {
			t.Errorf("%s (test %v) importing %s: refused %v, want %v", tc.f.pkg, tc.f.test, tc.im, got, tc.want)
		}
	}
	src := `package p

import (
	firebase "firebase.google.com/go/v4"
	"cloud.google.com/go/pubsub/v2"
	speech "cloud.google.com/go/speech/apiv2"
	"cloud.google.com/go/storage"
	"google.golang.org/genai"
	"example.com/other"
)

func f() {
	firebase.NewApp(nil, nil)
	pubsub.NewClient(nil, "p")
	speech.NewClient(nil)
	storage.NewClient(nil)
	genai.NewClient(nil, nil)
	other.NewClient()
}
`
	af, err := parser.ParseFile(token.NewFileSet(), "p.go", src, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"firebase.NewApp", "pubsub.NewClient", "speech.NewClient", "storage.NewClient", "genai.NewClient"}
	if got := clientConstructors(af); !slices.Equal(got, want) {
		t.Errorf("clientConstructors = %v, want %v", got, want)
	}
	for ip, want := range map[string]string{"firebase.google.com/go/v4": "firebase", "firebase.google.com/go/v4/auth": "auth",
		"cloud.google.com/go/cloudtasks/apiv2": "cloudtasks", "cloud.google.com/go/firestore": "firestore"} {
		if got := packageName(ip, nil); got != want {
			t.Errorf("packageName(%s) = %s, want %s", ip, got, want)
		}
	}
}

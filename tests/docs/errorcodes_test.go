package docs

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// modulePath is the module of the repository (go.mod).
const modulePath = "github.com/medi-os/medi"

// Kinds of codes the API can return.
const (
	kindCode    = "error.code"           // the stable code of the error envelope
	kindReason  = "error.details.reason" // a refinement in the error's details
	kindFailure = "scribe failure.code"  // why a scribe session failed (GET /v1/scribe/sessions/{id})
)

// occurrence is where the extraction found a code.
type occurrence struct {
	kind, code, pos string
}

// source is the parsed non-test Go code of functions/ and shared/.
type source struct {
	fset *token.FileSet
	root string
	// consts maps a package directory (relative to the root, slash-separated) to its
	// string constants by name.
	consts map[string]map[string]string
	files  []parsedFile
	// aliases are constants defined by another constant (CodeNotFound = apierr.CodeNotFound),
	// resolved once every file is parsed.
	aliases []constAlias
}

type constAlias struct {
	pf   parsedFile
	name string
	expr ast.Expr
}

type parsedFile struct {
	dir     string // package directory, relative to the root
	file    *ast.File
	imports map[string]string // local name -> package directory (module packages only)
}

func parseSource(t *testing.T, root string, dirs ...string) *source {
	t.Helper()
	src := &source{fset: token.NewFileSet(), root: root, consts: map[string]map[string]string{}}
	for _, d := range dirs {
		err := filepath.WalkDir(filepath.Join(root, d), func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if e.IsDir() {
				if e.Name() == "testdata" {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return nil
			}
			f, err := parser.ParseFile(src.fset, p, nil, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			relDir, err := filepath.Rel(root, filepath.Dir(p))
			if err != nil {
				return err
			}
			pf := parsedFile{dir: filepath.ToSlash(relDir), file: f, imports: map[string]string{}}
			for _, im := range f.Imports {
				ip, _ := strconv.Unquote(im.Path.Value)
				if !strings.HasPrefix(ip, modulePath+"/") {
					continue
				}
				name := path.Base(ip)
				if im.Name != nil {
					name = im.Name.Name
				}
				pf.imports[name] = strings.TrimPrefix(ip, modulePath+"/")
			}
			src.files = append(src.files, pf)
			src.collectConsts(pf)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	src.resolveAliases()
	return src
}

// resolveAliases gives constants defined by other constants their values (a chain of
// aliases resolves in as many rounds as it is long).
func (s *source) resolveAliases() {
	for pending := s.aliases; len(pending) > 0; {
		var left []constAlias
		for _, a := range pending {
			if v, ok := s.resolve(a.pf, a.expr); ok {
				s.setConst(a.pf.dir, a.name, v)
			} else {
				left = append(left, a)
			}
		}
		if len(left) == len(pending) {
			return // the rest are not string constants
		}
		pending = left
	}
}

func (s *source) setConst(dir, name, v string) {
	if s.consts[dir] == nil {
		s.consts[dir] = map[string]string{}
	}
	s.consts[dir][name] = v
}

// position is pos as path:line relative to the repository root ("" for NoPos).
func (s *source) position(pos token.Pos) string {
	if !pos.IsValid() {
		return ""
	}
	p := s.fset.Position(pos)
	name := p.Filename
	if r, err := filepath.Rel(s.root, name); err == nil {
		name = filepath.ToSlash(r)
	}
	return fmt.Sprintf("%s:%d", name, p.Line)
}

func (s *source) collectConsts(pf parsedFile) {
	for _, decl := range pf.file.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if i >= len(vs.Values) {
					continue
				}
				switch x := vs.Values[i].(type) {
				case *ast.BasicLit:
					if x.Kind != token.STRING {
						continue
					}
					if v, err := strconv.Unquote(x.Value); err == nil {
						s.setConst(pf.dir, name.Name, v)
					}
				case *ast.Ident, *ast.SelectorExpr:
					s.aliases = append(s.aliases, constAlias{pf: pf, name: name.Name, expr: x})
				}
			}
		}
	}
}

// resolve returns the string value of e: a string literal, or a constant of the file's
// own package or of an imported package of the module.
func (s *source) resolve(pf parsedFile, e ast.Expr) (string, bool) {
	switch x := e.(type) {
	case *ast.BasicLit:
		if x.Kind != token.STRING {
			return "", false
		}
		v, err := strconv.Unquote(x.Value)
		return v, err == nil
	case *ast.Ident:
		v, ok := s.consts[pf.dir][x.Name]
		return v, ok
	case *ast.SelectorExpr:
		pkg, ok := x.X.(*ast.Ident)
		if !ok {
			return "", false
		}
		dir, ok := pf.imports[pkg.Name]
		if !ok {
			return "", false
		}
		v, ok := s.consts[dir][x.Sel.Name]
		return v, ok
	case *ast.ParenExpr:
		return s.resolve(pf, x.X)
	}
	return "", false
}

// isFunc reports whether call calls function name of package dir (by its package-local
// name inside dir itself, or through an import elsewhere).
func isFunc(pf parsedFile, call *ast.CallExpr, dir, name string) bool {
	switch f := call.Fun.(type) {
	case *ast.Ident:
		return pf.dir == dir && f.Name == name
	case *ast.SelectorExpr:
		if f.Sel.Name != name {
			return false
		}
		pkg, ok := f.X.(*ast.Ident)
		return ok && pf.imports[pkg.Name] == dir
	}
	return false
}

// isMethodCall reports whether call is a method call x.name(...).
func isMethodCall(call *ast.CallExpr, name string) bool {
	sel, ok := call.Fun.(*ast.SelectorExpr)
	return ok && sel.Sel.Name == name
}

// isType reports whether t names type name of package dir.
func isType(pf parsedFile, t ast.Expr, dir, name string) bool {
	switch x := t.(type) {
	case *ast.Ident:
		return pf.dir == dir && x.Name == name
	case *ast.SelectorExpr:
		pkg, ok := x.X.(*ast.Ident)
		return ok && x.Sel.Name == name && pf.imports[pkg.Name] == dir
	}
	return false
}

// extractCodes finds every code the code can return:
//
//   - error.code: the Code* constants of shared/apierr and shared/httpx (where the stable
//     codes are defined), plus the code argument of every httpx.NewError call and of every
//     WithCode call, and the Code field of every httpx.Error literal;
//   - error.details.reason: the value of the "reason" key of every map literal passed to
//     (*httpx.Error).WithDetails. A value that is not a constant (a parameter, as in
//     shared/auth's unauth(reason, msg)) stands for every Reason* string constant of its
//     package;
//   - scribe failure.code: the code argument of every scribe.Fail call and the Code field
//     of every scribe.Failure literal.
//
// Anything that cannot be resolved is returned in unresolved, so that the test fails
// rather than silently missing a code.
func extractCodes(src *source) (found []occurrence, unresolved []string) {
	const httpxDir, apierrDir, scribeDir = "shared/httpx", "shared/apierr", "shared/scribe"
	add := func(kind, code string, pos token.Pos) {
		found = append(found, occurrence{kind: kind, code: code, pos: src.position(pos)})
	}
	for _, dir := range []string{apierrDir, httpxDir} {
		for name, v := range src.consts[dir] {
			if strings.HasPrefix(name, "Code") {
				add(kindCode, v, token.NoPos)
			}
		}
	}
	for _, pf := range src.files {
		ast.Inspect(pf.file, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.CallExpr:
				switch {
				case isFunc(pf, x, httpxDir, "NewError") && len(x.Args) >= 2:
					if v, ok := src.resolve(pf, x.Args[1]); ok {
						add(kindCode, v, x.Pos())
					} else {
						unresolved = append(unresolved, fmt.Sprintf("%s: httpx.NewError code", src.position(x.Pos())))
					}
				case isMethodCall(x, "WithCode") && len(x.Args) == 1:
					if v, ok := src.resolve(pf, x.Args[0]); ok {
						add(kindCode, v, x.Pos())
					} else if !isParam(x.Args[0]) {
						unresolved = append(unresolved, fmt.Sprintf("%s: WithCode code", src.position(x.Pos())))
					}
				case isFunc(pf, x, scribeDir, "Fail") && len(x.Args) >= 1:
					if v, ok := src.resolve(pf, x.Args[0]); ok {
						add(kindFailure, v, x.Pos())
					} else {
						unresolved = append(unresolved, fmt.Sprintf("%s: scribe.Fail code", src.position(x.Pos())))
					}
				case isMethodCall(x, "WithDetails"):
					for _, arg := range x.Args {
						src.reasons(pf, arg, add, &unresolved)
					}
				}
			case *ast.CompositeLit:
				for field, kind := range map[string]string{"Error": kindCode, "Failure": kindFailure} {
					dir := httpxDir
					if kind == kindFailure {
						dir = scribeDir
					}
					if !isType(pf, x.Type, dir, field) {
						continue
					}
					for _, el := range x.Elts {
						kv, ok := el.(*ast.KeyValueExpr)
						if !ok {
							continue
						}
						if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "Code" {
							if v, ok := src.resolve(pf, kv.Value); ok {
								add(kind, v, kv.Pos())
							} else if !isParam(kv.Value) {
								unresolved = append(unresolved, fmt.Sprintf("%s: %s{Code: ...}", src.position(kv.Pos()), field))
							}
						}
					}
				}
			}
			return true
		})
	}
	return found, unresolved
}

// isParam reports whether e is a plain identifier (a parameter or variable that carries a
// code through, as in httpx.NewError's own body and scribe.Fail's).
func isParam(e ast.Expr) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name != "" && strings.ToLower(id.Name[:1]) == id.Name[:1]
}

// reasons adds the "reason" values of a map literal given to WithDetails.
func (s *source) reasons(pf parsedFile, arg ast.Expr, add func(kind, code string, pos token.Pos), unresolved *[]string) {
	lit, ok := arg.(*ast.CompositeLit)
	if !ok {
		return
	}
	if _, ok := lit.Type.(*ast.MapType); !ok {
		return
	}
	for _, el := range lit.Elts {
		kv, ok := el.(*ast.KeyValueExpr)
		if !ok {
			continue
		}
		if k, ok := s.resolve(pf, kv.Key); !ok || k != "reason" {
			continue
		}
		if v, ok := s.resolve(pf, kv.Value); ok {
			add(kindReason, v, kv.Pos())
			continue
		}
		// A value passed through a variable: every Reason* constant of the package.
		n := 0
		for name, v := range s.consts[pf.dir] {
			if strings.HasPrefix(name, "Reason") || strings.HasPrefix(name, "reason") {
				add(kindReason, v, kv.Pos())
				n++
			}
		}
		if n == 0 {
			*unresolved = append(*unresolved, fmt.Sprintf("%s: details reason", s.position(kv.Pos())))
		}
	}
}

// backticked matches `code` spans of one line.
var backticked = regexp.MustCompile("`([^`]+)`")

// documentedCodes lists the content of every inline code span of a document, outside
// fenced code blocks (a code only shown in an example is not explained).
func documentedCodes(text string) map[string]bool {
	out := map[string]bool{}
	for _, l := range proseLines(text) {
		for _, m := range backticked.FindAllStringSubmatch(l, -1) {
			out[strings.TrimSpace(m[1])] = true
		}
	}
	return out
}

// missingCodes lists the codes of found that doc does not document, one line each with
// where the code comes from.
func missingCodes(found []occurrence, documented map[string]bool) []string {
	where := map[string][]string{}
	for _, o := range found {
		if documented[o.code] {
			continue
		}
		key := o.kind + " `" + o.code + "`"
		if o.pos != "" && len(where[key]) < 3 {
			where[key] = append(where[key], o.pos)
		} else if _, ok := where[key]; !ok {
			where[key] = nil
		}
	}
	var out []string
	for k, pos := range where {
		from := "shared/httpx/errors.go"
		if len(pos) > 0 {
			from = strings.Join(pos, ", ")
		}
		out = append(out, fmt.Sprintf("%s (from %s)", k, from))
	}
	sort.Strings(out)
	return out
}

// TestEveryErrorCodeIsDocumented fails when the code can return an error code, a details
// reason or a scribe failure code that docs/troubleshooting.md does not explain (as a
// `code` in backticks).
func TestEveryErrorCodeIsDocumented(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	found, unresolved := extractCodes(parseSource(t, root, "functions", "shared"))
	for _, u := range unresolved {
		t.Errorf("%s: cannot tell which code this returns; use a constant or a literal (or teach tests/docs)", u)
	}
	byKind := map[string]map[string]bool{}
	for _, o := range found {
		if byKind[o.kind] == nil {
			byKind[o.kind] = map[string]bool{}
		}
		byKind[o.kind][o.code] = true
	}
	// The extraction must find what is known to exist, and not suspiciously little, so
	// that a broken extraction cannot make this test pass.
	for _, c := range []struct {
		kind    string
		min     int
		needles []string
	}{
		{kindCode, 10, []string{"invalid_argument", "unauthenticated", "rate_limited", "payload_too_large", "unavailable"}},
		{kindReason, 15, []string{"session_idle", "reauthentication_required", "token_expired", "illegal_transition", "idempotency_key_reused", "open_encounter", "duplicate_mrn"}},
		{kindFailure, 5, []string{"speech_not_configured", "empty_upload", "draft_failed"}},
	} {
		got := byKind[c.kind]
		if len(got) < c.min {
			t.Errorf("found only %d distinct %s values (%v), expected at least %d: the extraction is broken", len(got), c.kind, keys(got), c.min)
		}
		for _, n := range c.needles {
			if !got[n] {
				t.Errorf("the extraction did not find %s %q, which the code returns: it is broken", c.kind, n)
			}
		}
	}
	doc, err := os.ReadFile(filepath.Join(root, "docs", "troubleshooting.md"))
	if err != nil {
		t.Fatal(err)
	}
	if missing := missingCodes(found, documentedCodes(string(doc))); len(missing) > 0 {
		t.Errorf("docs/troubleshooting.md does not document %d code(s) the API can return; add each with its HTTP status, cause and what to do:\n  %s",
			len(missing), strings.Join(missing, "\n  "))
	}
	t.Logf("checked %d error codes, %d details reasons, %d scribe failure codes", len(byKind[kindCode]), len(byKind[kindReason]), len(byKind[kindFailure]))
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestExtractCodes runs the extraction on a small synthetic tree, so that each form it
// understands is proven to be found.
func TestExtractCodes(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	write := func(rel, content string) {
		t.Helper()
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("shared/httpx/errors.go", `package httpx
const (
	CodeA = "code_a"
	Other = "not_a_code"
)
type Error struct{ Code string }
func NewError(status int, code, msg string) *Error { return &Error{Code: code} }
func (e *Error) WithDetails(d any) *Error { return e }
func own() *Error { return NewError(400, "code_literal", "x") }
`)
	write("shared/scribe/session.go", `package scribe
type Failure struct{ Code, Message string }
const FailX = "fail_x"
func Fail(code, msg string) *Failure { return &Failure{Code: code, Message: msg} }
func use() { _ = Fail(FailX, "m"); _ = &Failure{Code: "fail_literal"} }
`)
	write("shared/auth/auth.go", `package auth
import "github.com/medi-os/medi/shared/httpx"
const (
	ReasonOne = "reason_one"
	ReasonTwo = "reason_two"
	NotAReason = "no"
)
func unauth(reason string) *httpx.Error {
	return httpx.NewError(401, httpx.CodeA, "m").WithDetails(map[string]string{"reason": reason})
}
`)
	write("functions/f/f.go", `package f
import (
	h "github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/auth"
)
const reasonLocal = "reason_local"
func g() {
	_ = h.NewError(409, "code_conflictish", "m").WithDetails(map[string]any{"reason": auth.ReasonOne, "x": 1})
	_ = h.NewError(409, h.CodeA, "m").WithDetails(map[string]any{"reason": reasonLocal})
}
`)
	write("functions/f/f_test.go", `package f
func t() { _ = h.NewError(1, "from_a_test", "") }
`)
	found, unresolved := extractCodes(parseSource(t, root, "functions", "shared"))
	got := map[string]bool{}
	for _, o := range found {
		got[o.kind+" "+o.code] = true
	}
	want := []string{
		kindCode + " code_a", kindCode + " code_literal", kindCode + " code_conflictish",
		kindReason + " reason_one", kindReason + " reason_two", kindReason + " reason_local",
		kindFailure + " fail_x", kindFailure + " fail_literal",
	}
	for _, w := range want {
		if !got[w] {
			t.Errorf("extraction missed %q; found %v", w, keys(got))
		}
	}
	for _, notWant := range []string{kindCode + " not_a_code", kindReason + " no", kindCode + " from_a_test"} {
		if got[notWant] {
			t.Errorf("extraction found %q, which is not a returned code", notWant)
		}
	}
	if len(unresolved) > 0 {
		t.Errorf("unresolved: %v", unresolved)
	}
	doc := "| `code_a` | 400 |\n`reason_one` and `reason_two`\n```\n`fail_x` only in an example\n```\n"
	missing := missingCodes(found, documentedCodes(doc))
	var missingNames []string
	for _, m := range missing {
		missingNames = append(missingNames, backticked.FindString(m))
	}
	sort.Strings(missingNames)
	if got, want := strings.Join(missingNames, " "), "`code_conflictish` `code_literal` `fail_literal` `fail_x` `reason_local`"; got != want {
		t.Errorf("missing codes = %s, want %s (full: %v)", got, want, missing)
	}
}

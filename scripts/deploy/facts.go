package main

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"io"
	"io/fs"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/medi-os/medi/scripts/stack"
	"github.com/medi-os/medi/shared/tasks"
)

// Facts are what the Terraform tests check the configuration against, read from the Go
// code: terraform/tests/invariants.tftest.hcl gets them as variables (the JSON field
// names are the variable names).
type Facts struct {
	// EnvNames are the environment variables the code's config structs read (env tags).
	EnvNames []string `json:"code_env_names"`
	// CatalogRoutes are the HTTP path prefixes of every public function, as the local
	// gateway routes them (scripts/stack/catalog.go).
	CatalogRoutes map[string][]string `json:"catalog_routes"`
	// CatalogDefault receives paths no prefix matches.
	CatalogDefault string `json:"catalog_default_function"`
	// CatalogTriggers is how the catalog invokes each function, in Terraform's words
	// (http, pubsub, storage, tasks, scheduler).
	CatalogTriggers map[string]string `json:"catalog_triggers"`
	// CatalogQueues maps each Cloud Tasks queue of the catalog to its worker.
	CatalogQueues map[string]string `json:"catalog_queues"`
	// QueueRetry is each queue's retry policy as the code knows it (shared/tasks
	// QueueRetry, which the local dispatcher follows), in terraform/tasks.tf's terms.
	QueueRetry map[string]QueueRetryFact `json:"code_queue_retry"`
	// CatalogTopics maps each Pub/Sub-triggered function to its topic.
	CatalogTopics map[string]string `json:"catalog_topics"`
	// FunctionURLPrefix is "MEDI_FUNCTION_URL_" when the code reads function URLs from
	// MEDI_FUNCTION_URL_<NAME> (shared/app.FunctionURL: NAME is a function name upper-cased,
	// dashes as underscores), else empty.
	FunctionURLPrefix string `json:"code_function_url_prefix"`
	// Queries are the Firestore queries in the code that need a composite index.
	Queries []CompositeQuery `json:"code_composite_queries"`
	// APIs are the Google APIs the deployed code calls (googleAPIs), sorted: each must
	// be enabled in the project.
	APIs []string `json:"code_google_apis"`
}

// googleAPIs maps the client packages the code imports (by import path prefix) to the
// Google API they call. An import of cloud.google.com/go/..., firebase.google.com/... or
// google.golang.org/genai that no prefix matches fails CollectFacts: a new client must be
// mapped here, so that Terraform enables its API.
var googleAPIs = []struct{ prefix, api string }{
	{"cloud.google.com/go/firestore", "firestore.googleapis.com"},
	{"cloud.google.com/go/pubsub", "pubsub.googleapis.com"},
	{"cloud.google.com/go/storage", "storage.googleapis.com"},
	{"cloud.google.com/go/cloudtasks", "cloudtasks.googleapis.com"},
	{"cloud.google.com/go/secretmanager", "secretmanager.googleapis.com"},
	{"cloud.google.com/go/speech", "speech.googleapis.com"},
	{"cloud.google.com/go/longrunning", "speech.googleapis.com"}, // the recognizer's long-running operations
	{"firebase.google.com/go/v4/auth", "identitytoolkit.googleapis.com"},
	{"firebase.google.com/go/v4", "identitytoolkit.googleapis.com"},
	{"google.golang.org/genai", "aiplatform.googleapis.com"}, // Vertex AI backend
}

// signBlobAPI is called by the storage client to sign URLs without a private key
// (storage.SignedURLOptions without PrivateKey: IAM Credentials signBlob).
const signBlobAPI = "iamcredentials.googleapis.com"

// apisOf adds the Google APIs file calls to apis.
func apisOf(sf sourceFile, apis map[string]bool) error {
	for _, imp := range sf.file.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		if !strings.HasPrefix(path, "cloud.google.com/go/") && !strings.HasPrefix(path, "firebase.google.com/") &&
			!strings.HasPrefix(path, "google.golang.org/genai") {
			continue
		}
		found := false
		for _, g := range googleAPIs {
			if path == g.prefix || strings.HasPrefix(path, g.prefix+"/") {
				apis[g.api], found = true, true
				break
			}
		}
		if !found {
			return fmt.Errorf("facts: %s imports %s: map it to its Google API in googleAPIs", sf.rel, path)
		}
	}
	ast.Inspect(sf.file, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok && sel.Sel.Name == "SignedURLOptions" {
			apis[signBlobAPI] = true
		}
		return true
	})
	return nil
}

// functionURLPrefix is the prefix of the variables shared/app.FunctionURL reads.
const functionURLPrefix = "MEDI_FUNCTION_URL_"

// CompositeQuery is a Firestore query over more than one field (filters and orderings),
// which production serves only with a composite index.
type CompositeQuery struct {
	// Collection is the collection id when the code names it in the same function, else
	// empty (any collection group with these fields satisfies the check).
	Collection string `json:"collection"`
	// Equality are the fields of equality filters (==, in, array-contains), sorted.
	Equality []string `json:"equality"`
	// Others are the fields of range filters and orderings, sorted, without __name__.
	// An index covers the query if it has every field, or, as Firestore merges indexes
	// for equality filters, if for each equality field some index has that field and all
	// of Others.
	Others []string `json:"others"`
	// Where is the position of the query's first clause (path relative to the repository).
	Where string `json:"where"`
}

// QueueRetryFact is a queue's retry_config as terraform/tasks.tf writes it.
type QueueRetryFact struct {
	MaxAttempts      int    `json:"max_attempts"`
	MinBackoff       string `json:"min_backoff"`
	MaxBackoff       string `json:"max_backoff"`
	MaxDoublings     int    `json:"max_doublings"`
	MaxRetryDuration string `json:"max_retry_duration"`
}

func seconds(d time.Duration) string { return fmt.Sprintf("%ds", int64(d/time.Second)) }

// terraformTriggers names the catalog's triggers as terraform/modules/function does.
var terraformTriggers = map[stack.Trigger]string{
	stack.TriggerHTTP:      "http",
	stack.TriggerPubSub:    "pubsub",
	stack.TriggerStorage:   "storage",
	stack.TriggerTask:      "tasks",
	stack.TriggerScheduler: "scheduler",
}

// codeDirs hold the code deployed as functions.
var codeDirs = []string{"functions", "shared"}

// CollectFacts reads the facts from the repository at root.
func CollectFacts(root string) (Facts, error) {
	f := Facts{
		CatalogRoutes:   map[string][]string{},
		CatalogDefault:  stack.DefaultService,
		CatalogTriggers: map[string]string{},
		CatalogQueues:   map[string]string{},
		QueueRetry:      map[string]QueueRetryFact{},
		CatalogTopics:   map[string]string{},
		EnvNames:        []string{},
		Queries:         []CompositeQuery{},
		APIs:            []string{},
	}
	for _, fn := range stack.Functions {
		trigger, ok := terraformTriggers[fn.Trigger]
		if !ok {
			return Facts{}, fmt.Errorf("facts: function %s: trigger %q has no Terraform counterpart", fn.Name, fn.Trigger)
		}
		f.CatalogTriggers[fn.Name] = trigger
		switch fn.Trigger {
		case stack.TriggerHTTP:
			f.CatalogRoutes[fn.Name] = slices.Clone(fn.Prefixes)
		case stack.TriggerTask:
			f.CatalogQueues[fn.Queue] = fn.Name
		case stack.TriggerPubSub:
			f.CatalogTopics[fn.Name] = fn.Topic
		}
	}
	for q, p := range tasks.QueueRetry {
		f.QueueRetry[q] = QueueRetryFact{MaxAttempts: p.MaxAttempts, MinBackoff: seconds(p.MinBackoff),
			MaxBackoff: seconds(p.MaxBackoff), MaxDoublings: p.MaxDoublings, MaxRetryDuration: seconds(p.MaxRetryDuration)}
	}
	files, err := goSources(root)
	if err != nil {
		return Facts{}, err
	}
	names := map[string]bool{}
	prefixes := map[string]bool{}
	consts := map[string]map[string]string{} // package directory -> string constants
	for _, sf := range files {
		dir := filepath.Dir(sf.rel)
		if consts[dir] == nil {
			consts[dir] = map[string]string{}
		}
		stringConsts(sf.file, consts[dir])
	}
	apis := map[string]bool{}
	for _, sf := range files {
		if err := apisOf(sf, apis); err != nil {
			return Facts{}, err
		}
		if hasStringLiteral(sf.file, functionURLPrefix) {
			f.FunctionURLPrefix = functionURLPrefix
		}
		envTags(sf.file, names, prefixes)
		f.Queries = append(f.Queries, compositeQueries(sf.fset, sf.file, sf.rel, consts[filepath.Dir(sf.rel)])...)
	}
	// go-envconfig's prefix= option prepends to every name of the nested struct; which
	// struct gets which prefix is not tracked, so every combination is accepted.
	for p := range prefixes {
		for n := range names {
			if !strings.HasPrefix(n, p) {
				names[p+n] = true
			}
		}
	}
	for n := range names {
		f.EnvNames = append(f.EnvNames, n)
	}
	slices.Sort(f.EnvNames)
	f.APIs = sortedKeys(apis)
	return f, nil
}

// WriteFacts writes f as a Terraform variables file (JSON).
func WriteFacts(w io.Writer, f Facts) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(f)
}

type sourceFile struct {
	rel  string
	fset *token.FileSet
	file *ast.File
}

// goSources parses the non-test Go files of the deployed code (the root package and
// codeDirs), skipping testdata.
func goSources(root string) ([]sourceFile, error) {
	var out []sourceFile
	parse := func(path string) error {
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		fset := token.NewFileSet()
		file, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return fmt.Errorf("facts: %w", err)
		}
		out = append(out, sourceFile{rel: filepath.ToSlash(rel), fset: fset, file: file})
		return nil
	}
	top, err := filepath.Glob(filepath.Join(root, "*.go"))
	if err != nil {
		return nil, err
	}
	for _, p := range top {
		if !strings.HasSuffix(p, "_test.go") {
			if err := parse(p); err != nil {
				return nil, err
			}
		}
	}
	for _, dir := range codeDirs {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			return parse(path)
		})
		if err != nil {
			return nil, fmt.Errorf("facts: reading %s: %w", dir, err)
		}
	}
	return out, nil
}

// envTags adds the names of every `env:"NAME, ..."` struct tag in file to names, and the
// values of prefix= options to prefixes.
func envTags(file *ast.File, names, prefixes map[string]bool) {
	ast.Inspect(file, func(n ast.Node) bool {
		field, ok := n.(*ast.Field)
		if !ok || field.Tag == nil {
			return true
		}
		raw, err := strconv.Unquote(field.Tag.Value)
		if err != nil {
			return true
		}
		tag, ok := reflect.StructTag(raw).Lookup("env")
		if !ok {
			return true
		}
		parts := strings.Split(tag, ",")
		if name := strings.TrimSpace(parts[0]); name != "" {
			names[name] = true
		}
		for _, opt := range parts[1:] {
			if p, ok := strings.CutPrefix(strings.TrimSpace(opt), "prefix="); ok && p != "" {
				prefixes[p] = true
			}
		}
		return true
	})
}

func hasStringLiteral(file *ast.File, want string) bool {
	found := false
	ast.Inspect(file, func(n ast.Node) bool {
		if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
			if s, err := strconv.Unquote(lit.Value); err == nil && s == want {
				found = true
			}
		}
		return !found
	})
	return found
}

// Firestore query operators of Query.Where; any other second argument means the call is
// not a Firestore query.
var whereOps = map[string]bool{
	"==": true, "!=": true, "<": true, "<=": true, ">": true, ">=": true,
	"in": true, "not-in": true, "array-contains": true, "array-contains-any": true,
}

type clause struct {
	field    string
	equality bool // an equality filter (==, in, array-contains, array-contains-any)
	pos      token.Pos
}

var equalityOps = map[string]bool{"==": true, "in": true, "array-contains": true, "array-contains-any": true}

// compositeQueries finds the Firestore queries in file that need a composite index. A
// query is the set of Where / OrderBy clauses applied, within one function, to the same
// base expression (q.Where(...) and q = q.OrderBy(...) are one query on q). Fields must be
// string literals, constants of the package or firestore.DocumentID; queries built
// otherwise are not seen. The collection is the outermost Collection(id) call of the base
// expression, or of what the base variable is assigned in the function.
func compositeQueries(fset *token.FileSet, file *ast.File, rel string, consts map[string]string) []CompositeQuery {
	var out []CompositeQuery
	for _, decl := range file.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok || fn.Body == nil {
			continue
		}
		assigned := map[string][]ast.Expr{} // variable -> expressions assigned to it
		bases := map[string]ast.Expr{}
		groups := map[string][]clause{}
		var order []string
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.AssignStmt:
				for i, lhs := range n.Lhs {
					if id, ok := lhs.(*ast.Ident); ok && i < len(n.Rhs) && len(n.Lhs) == len(n.Rhs) {
						assigned[id.Name] = append(assigned[id.Name], n.Rhs[i])
					}
				}
			case *ast.ValueSpec:
				for i, id := range n.Names {
					if i < len(n.Values) {
						assigned[id.Name] = append(assigned[id.Name], n.Values[i])
					}
				}
			case *ast.CallExpr:
				sel, ok := n.Fun.(*ast.SelectorExpr)
				if !ok || (sel.Sel.Name != "Where" && sel.Sel.Name != "OrderBy") {
					return true
				}
				c, ok := queryClause(sel.Sel.Name, n, consts)
				if !ok {
					return true
				}
				base := baseOf(sel.X)
				key := exprString(fset, base)
				if _, seen := groups[key]; !seen {
					order = append(order, key)
					bases[key] = base
				}
				groups[key] = append(groups[key], c)
			}
			return true
		})
		for _, key := range order {
			q, ok := needsComposite(groups[key])
			if !ok {
				continue
			}
			q.Collection = collectionOf(bases[key], assigned, consts)
			q.Where = fmt.Sprintf("%s:%d", rel, fset.Position(firstClause(groups[key]).pos).Line)
			out = append(out, q)
		}
	}
	return out
}

// collectionOf is the id of the outermost Collection / CollectionGroup call in base or,
// when base is a variable, in the expressions assigned to it that are not themselves
// clauses on it; "" when none names one literally.
func collectionOf(base ast.Expr, assigned map[string][]ast.Expr, consts map[string]string) string {
	if c := outermostCollection(base, consts); c != "" {
		return c
	}
	id, ok := base.(*ast.Ident)
	if !ok {
		return ""
	}
	for _, rhs := range assigned[id.Name] {
		if b, ok := baseOf(rhs).(*ast.Ident); ok && b.Name == id.Name {
			continue // q = q.Where(...)
		}
		if c := outermostCollection(rhs, consts); c != "" {
			return c
		}
	}
	return ""
}

func outermostCollection(e ast.Expr, consts map[string]string) string {
	var found string
	ast.Inspect(e, func(n ast.Node) bool {
		if found != "" {
			return false
		}
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		if sel, ok := call.Fun.(*ast.SelectorExpr); ok && (sel.Sel.Name == "Collection" || sel.Sel.Name == "CollectionGroup") && len(call.Args) == 1 {
			if s, ok := stringValue(call.Args[0], consts); ok {
				found = s
				return false
			}
		}
		return true
	})
	return found
}

func firstClause(cs []clause) clause {
	first := cs[0]
	for _, c := range cs[1:] {
		if c.pos < first.pos {
			first = c
		}
	}
	return first
}

func queryClause(method string, call *ast.CallExpr, consts map[string]string) (clause, bool) {
	switch method {
	case "Where":
		if len(call.Args) != 3 {
			return clause{}, false
		}
		op, ok := stringValue(call.Args[1], consts)
		if !ok || !whereOps[op] {
			return clause{}, false
		}
		field, ok := fieldPath(call.Args[0], consts)
		if !ok {
			return clause{}, false
		}
		return clause{field: field, equality: equalityOps[op], pos: call.Pos()}, true
	case "OrderBy":
		if len(call.Args) != 2 {
			return clause{}, false
		}
		dir, ok := call.Args[1].(*ast.SelectorExpr)
		if !ok || (dir.Sel.Name != "Asc" && dir.Sel.Name != "Desc") {
			return clause{}, false
		}
		field, ok := fieldPath(call.Args[0], consts)
		if !ok {
			return clause{}, false
		}
		return clause{field: field, pos: call.Pos()}, true
	}
	return clause{}, false
}

// needsComposite reports whether clauses need a composite index: two or more fields
// (__name__ aside), unless they are all equality filters (Firestore merges single-field
// indexes for those).
func needsComposite(clauses []clause) (CompositeQuery, bool) {
	equality := map[string]bool{}
	others := map[string]bool{}
	for _, c := range clauses {
		switch {
		case c.field == "__name__":
		case c.equality:
			equality[c.field] = true
		default:
			others[c.field] = true
		}
	}
	for f := range others {
		delete(equality, f) // a field both filtered for equality and ordered is a range field
	}
	if len(equality)+len(others) < 2 || len(others) == 0 {
		return CompositeQuery{}, false
	}
	q := CompositeQuery{Equality: sortedKeys(equality), Others: sortedKeys(others)}
	return q, true
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func fieldPath(e ast.Expr, consts map[string]string) (string, bool) {
	if sel, ok := e.(*ast.SelectorExpr); ok && sel.Sel.Name == "DocumentID" {
		return "__name__", true
	}
	return stringValue(e, consts)
}

// stringValue is the value of a string literal or of a string constant of the package.
func stringValue(e ast.Expr, consts map[string]string) (string, bool) {
	switch v := e.(type) {
	case *ast.BasicLit:
		if v.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(v.Value)
		return s, err == nil
	case *ast.Ident:
		s, ok := consts[v.Name]
		return s, ok
	}
	return "", false
}

// stringConsts adds the string constants declared in file to consts.
func stringConsts(file *ast.File, consts map[string]string) {
	for _, decl := range file.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if i < len(vs.Values) {
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						if s, err := strconv.Unquote(lit.Value); err == nil {
							consts[name.Name] = s
						}
					}
				}
			}
		}
	}
}

// baseOf is the expression a chain of Where / OrderBy calls starts from: for
// q.Where(a).OrderBy(b) it is q for both calls.
func baseOf(e ast.Expr) ast.Expr {
	for {
		call, ok := e.(*ast.CallExpr)
		if !ok {
			return e
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok || (sel.Sel.Name != "Where" && sel.Sel.Name != "OrderBy") {
			return e
		}
		e = sel.X
	}
}

func exprString(fset *token.FileSet, e ast.Expr) string {
	var b strings.Builder
	if err := printer.Fprint(&b, fset, e); err != nil {
		return fmt.Sprintf("%p", e)
	}
	return b.String()
}

package main

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/scripts/stack"
)

func TestEnvTags(t *testing.T) {
	t.Parallel()
	src := `package p

// Config is documented with an example that must not count:
//
//	Example string ` + "`" + `env:"FROM_A_COMMENT"` + "`" + `
type Config struct {
	Base
	A string        ` + "`" + `env:"MEDI_A, required"` + "`" + `
	B int           ` + "`" + `env:"MEDI_B,default=5"` + "`" + `
	C string        ` + "`" + `json:"c" env:"MEDI_C"` + "`" + `
	D string        ` + "`" + `json:"d"` + "`" + `
	E Nested        ` + "`" + `env:", prefix=MEDI_E_"` + "`" + `
	F string
}

type Nested struct {
	X string ` + "`" + `env:"X"` + "`" + `
}
`
	file, err := parser.ParseFile(token.NewFileSet(), "p.go", src, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	names, prefixes := map[string]bool{}, map[string]bool{}
	envTags(file, names, prefixes)
	if diff := cmp.Diff(map[string]bool{"MEDI_A": true, "MEDI_B": true, "MEDI_C": true, "X": true}, names); diff != "" {
		t.Errorf("names mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]bool{"MEDI_E_": true}, prefixes); diff != "" {
		t.Errorf("prefixes mismatch (-want +got):\n%s", diff)
	}
}

func TestCompositeQueries(t *testing.T) {
	t.Parallel()
	src := `package p

const coll = "encounters"

func single(s *S) { s.fs.Collection("patients").OrderBy("seq", firestore.Desc) }

func equalityOnly(s *S) { s.fs.Collection("a").Where("x", "==", 1).Where("y", "==", 2) }

func nameOnly(s *S) {
	s.fs.Collection("a").Where("x", ">", 1).OrderBy("x", firestore.Asc).OrderBy(firestore.DocumentID, firestore.Asc)
}

func inline(s *S) {
	s.fs.Collection(coll).Where("patientId", "==", id).OrderBy("arrivedAt", firestore.Desc).OrderBy(firestore.DocumentID, firestore.Desc)
}

func reassigned(s *S, f F) {
	q := s.fs.Collection("clinics").Doc(c).Collection("audit").Query
	if f.Actor != "" {
		q = q.Where("actorUid", "==", f.Actor)
	}
	if f.Action != "" {
		q = q.Where("action", "in", f.Actions)
	}
	q = q.OrderBy("time", firestore.Desc)
	other := s.fs.Collection("b").Where("z", "==", 1)
	_ = other
}

func helperBase(s *S) {
	q := s.encounters(c).Query
	q = q.Where("status", "in", st).OrderBy("arrivedAt", firestore.Desc)
}

func twoOrders(s *S) { s.fs.CollectionGroup("notes").OrderBy("a", firestore.Asc).OrderBy("b", firestore.Desc) }

func notFirestore(db *DB) {
	db.Where("x = ?", 1).OrderBy("y")
	db.Where(expr, "like", 3).OrderBy("z", sort.Asc)
}
`
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, "shared/p/p.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	consts := map[string]string{}
	stringConsts(file, consts)
	got := compositeQueries(fset, file, "shared/p/p.go", consts)
	want := []CompositeQuery{
		{Collection: "encounters", Equality: []string{"patientId"}, Others: []string{"arrivedAt"}, Where: "shared/p/p.go:14"},
		{Collection: "audit", Equality: []string{"action", "actorUid"}, Others: []string{"time"}, Where: "shared/p/p.go:20"},
		{Collection: "", Equality: []string{"status"}, Others: []string{"arrivedAt"}, Where: "shared/p/p.go:32"},
		{Collection: "notes", Equality: []string{}, Others: []string{"a", "b"}, Where: "shared/p/p.go:35"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("compositeQueries mismatch (-want +got):\n%s", diff)
	}
}

// The facts of this repository: what terraform/tests run against.
func TestCollectFactsOfRepository(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("repository root not found from the package directory: %v", err)
	}
	f, err := CollectFacts(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"MEDI_ENV", "GOOGLE_CLOUD_PROJECT", "MEDI_VERSION", "LOG_LEVEL", "MEDI_AUTH_PROJECT", "MEDI_CORS_ORIGINS"} {
		if !slices.Contains(f.EnvNames, name) {
			t.Errorf("EnvNames lacks %s (shared/config.Base reads it): %v", name, f.EnvNames)
		}
	}
	for _, name := range []string{"UPLOADS_BUCKET", "SMTP_PASSWORD"} {
		if slices.Contains(f.EnvNames, name) {
			t.Errorf("EnvNames has %s, which only appears in a doc comment", name)
		}
	}
	if !slices.IsSorted(f.EnvNames) {
		t.Errorf("EnvNames not sorted: %v", f.EnvNames)
	}
	want := map[string][]string{}
	for _, fn := range stack.Functions {
		if fn.Trigger == stack.TriggerHTTP {
			want[fn.Name] = fn.Prefixes
		}
	}
	if diff := cmp.Diff(want, f.CatalogRoutes); diff != "" {
		t.Errorf("CatalogRoutes differ from scripts/stack/catalog.go (-want +got):\n%s", diff)
	}
	for _, fn := range stack.Functions {
		if f.CatalogTriggers[fn.Name] == "" {
			t.Errorf("CatalogTriggers lacks %s", fn.Name)
		}
		if fn.Trigger == stack.TriggerTask && f.CatalogQueues[fn.Queue] != fn.Name {
			t.Errorf("CatalogQueues[%q] = %q, want %s", fn.Queue, f.CatalogQueues[fn.Queue], fn.Name)
		}
		if fn.Trigger == stack.TriggerPubSub && f.CatalogTopics[fn.Name] != fn.Topic {
			t.Errorf("CatalogTopics[%q] = %q, want %s", fn.Name, f.CatalogTopics[fn.Name], fn.Topic)
		}
	}
	if f.CatalogDefault != stack.DefaultService {
		t.Errorf("CatalogDefault = %q, want %q", f.CatalogDefault, stack.DefaultService)
	}
	if f.FunctionURLPrefix != "MEDI_FUNCTION_URL_" {
		t.Errorf("FunctionURLPrefix = %q: shared/app.FunctionURL reads MEDI_FUNCTION_URL_<NAME>", f.FunctionURLPrefix)
	}
}

func TestAPIsOf(t *testing.T) {
	t.Parallel()
	parse := func(src string) sourceFile {
		file, err := parser.ParseFile(token.NewFileSet(), "p.go", src, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		return sourceFile{rel: "shared/p/p.go", file: file}
	}
	apis := map[string]bool{}
	err := apisOf(parse(`package p
import (
	"cloud.google.com/go/storage"
	speechpb "cloud.google.com/go/speech/apiv2/speechpb"
	"google.golang.org/api/option"
)
var _ = &storage.SignedURLOptions{}
var _ speechpb.Recognizer
var _ option.ClientOption
`), apis)
	want := []string{"iamcredentials.googleapis.com", "speech.googleapis.com", "storage.googleapis.com"}
	if diff := cmp.Diff(want, sortedKeys(apis)); err != nil || diff != "" {
		t.Errorf("apisOf: %v (-want +got):\n%s", err, diff)
	}
	if err := apisOf(parse(`package p
import "cloud.google.com/go/bigquery"
`), map[string]bool{}); err == nil {
		t.Error("an unmapped Google client is accepted")
	}
}

// The code signs upload URLs with IAM signBlob: the facts name the IAM Credentials API, so
// that terraform test requires it enabled.
func TestFactsNameEveryGoogleAPI(t *testing.T) {
	t.Parallel()
	f, err := CollectFacts(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	for _, api := range []string{"firestore.googleapis.com", "iamcredentials.googleapis.com", "storage.googleapis.com"} {
		if !slices.Contains(f.APIs, api) {
			t.Errorf("facts lack %s: %v", api, f.APIs)
		}
	}
}

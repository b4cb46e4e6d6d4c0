// Package apitest drives the Medi OS HTTP API as the apps do and checks every response
// against docs/openapi.yaml, so each endpoint is contract-tested by the tests that use it.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// SpecPath is the OpenAPI document, relative to the repository root.
const SpecPath = "docs/openapi.yaml"

// RepoRoot returns the repository root (found from this file's location).
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

var (
	specOnce sync.Mutex
	specDoc  *openapi3.T
)

// Spec loads and validates the OpenAPI document (once per test binary).
func Spec(t testing.TB) *openapi3.T {
	t.Helper()
	specOnce.Lock()
	defer specOnce.Unlock()
	if specDoc != nil {
		return specDoc
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(filepath.Join(RepoRoot(), SpecPath))
	if err != nil {
		t.Fatalf("loading %s: %v", SpecPath, err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("%s is not a valid OpenAPI document: %v", SpecPath, err)
	}
	specDoc = doc
	return doc
}

// Contract checks requests and responses against the OpenAPI document.
type Contract struct {
	router routers.Router
}

// NewContract returns a contract whose server is baseURL.
func NewContract(t testing.TB, baseURL string) *Contract {
	t.Helper()
	doc := *Spec(t) // shallow copy: only Servers differs
	doc.Servers = openapi3.Servers{{URL: baseURL}}
	r, err := legacy.NewRouter(&doc)
	if err != nil {
		t.Fatalf("openapi router: %v", err)
	}
	return &Contract{router: r}
}

// Check fails t when the operation or the response (status, headers, body) is not what
// the document says.
func (c *Contract) Check(t testing.TB, req *http.Request, status int, header http.Header, body []byte) {
	t.Helper()
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		t.Errorf("contract: %s %s is not in %s: %v", req.Method, req.URL.Path, SpecPath, err)
		return
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		},
		Status: status,
		Header: header,
		Options: &openapi3filter.Options{
			IncludeResponseStatus: true,
			MultiError:            true,
		},
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Errorf("contract: %s %s -> %d does not match %s: %v\nbody: %s", req.Method, req.URL.Path, status, SpecPath, err, truncate(body))
	}
	if paths := ZeroTimes(body); len(paths) > 0 {
		t.Errorf("contract: %s %s -> %d answers a zero time at %s: an unset time is left out, never 0001-01-01\nbody: %s",
			req.Method, req.URL.Path, status, strings.Join(paths, ", "), truncate(body))
	}
}

// ZeroTimes lists the JSON paths (data.timings.failedAt) of a body whose value is Go's
// zero time, the value an unset time.Time field encodes to without omitzero.
func ZeroTimes(body []byte) []string {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return nil
	}
	var out []string
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(v))
			for k := range v {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(strings.TrimPrefix(path+"."+k, "."), v[k])
			}
		case []any:
			for i, e := range v {
				walk(fmt.Sprintf("%s[%d]", path, i), e)
			}
		case string:
			if t, err := time.Parse(time.RFC3339Nano, v); err == nil && t.Year() <= 1 {
				out = append(out, path)
			}
		}
	}
	walk("", v)
	return out
}

func truncate(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + "..."
	}
	return string(b)
}

// Envelope is the response body every endpoint returns.
type Envelope struct {
	Success bool            `json:"success"`
	Data    json.RawMessage `json:"data"`
	Error   *struct {
		Code    string          `json:"code"`
		Message string          `json:"message"`
		Details json.RawMessage `json:"details"`
	} `json:"error"`
	RequestID string `json:"requestId"`
}

// Code returns the error code, or "" on success.
func (e Envelope) Code() string {
	if e.Error == nil {
		return ""
	}
	return e.Error.Code
}

// Response is one checked response.
type Response struct {
	Status   int
	Header   http.Header
	Body     []byte
	Envelope Envelope
}

// Decode unmarshals the envelope's data into v.
func (r *Response) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Envelope.Data, v); err != nil {
		t.Fatalf("decoding data: %v\nbody: %s", err, truncate(r.Body))
	}
}

// Client calls a running stack (or any base URL) and contract-checks every response.
type Client struct {
	BaseURL  string
	Contract *Contract
	HTTP     *http.Client
}

// NewClient returns a client for baseURL.
func NewClient(t testing.TB, baseURL string) *Client {
	return &Client{BaseURL: baseURL, Contract: NewContract(t, baseURL), HTTP: &http.Client{Timeout: 30 * time.Second}}
}

// StackClient returns a client for the local stack started by scripts/test
// (MEDI_BASE_URL); the test is skipped under -short.
func StackClient(t testing.TB) *Client {
	t.Helper()
	if testing.Short() {
		t.Skip("black-box test of the local stack: skipped with -short")
	}
	base := os.Getenv("MEDI_BASE_URL")
	if base == "" {
		t.Fatal("MEDI_BASE_URL is not set: run the tests with scripts/test, which starts the local stack")
	}
	return NewClient(t, base)
}

// Request describes one call.
type Request struct {
	Method  string
	Path    string
	Token   string
	Body    any    // marshalled as JSON unless RawBody is set
	RawBody []byte // sent as is
	Header  map[string]string
}

// Do sends req, checks the response against the contract and decodes the envelope.
func (c *Client) Do(t testing.TB, req Request) *Response {
	t.Helper()
	var body io.Reader
	var raw []byte
	switch {
	case req.RawBody != nil:
		raw = req.RawBody
	case req.Body != nil:
		b, err := json.Marshal(req.Body)
		if err != nil {
			t.Fatal(err)
		}
		raw = b
	}
	if raw != nil {
		body = bytes.NewReader(raw)
	}
	hr, err := http.NewRequest(req.Method, c.BaseURL+req.Path, body)
	if err != nil {
		t.Fatal(err)
	}
	if raw != nil && req.RawBody == nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	if req.Token != "" {
		hr.Header.Set("Authorization", "Bearer "+req.Token)
	}
	for k, v := range req.Header {
		hr.Header.Set(k, v)
	}
	resp, err := c.HTTP.Do(hr)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := &Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
	if err := json.Unmarshal(b, &out.Envelope); err != nil {
		t.Errorf("%s %s: response is not the JSON envelope: %v\nbody: %s", req.Method, req.Path, err, truncate(b))
	}
	// Re-create the request for the router (its body was consumed).
	check, _ := http.NewRequest(req.Method, c.BaseURL+req.Path, bytes.NewReader(raw))
	check.Header = hr.Header
	c.Contract.Check(t, check, resp.StatusCode, resp.Header, b)
	return out
}

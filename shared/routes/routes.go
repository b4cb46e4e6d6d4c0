// Package routes is the route table of the public API: which deployed function serves
// each path prefix, and which one receives the paths no prefix matches. It is the one
// source: routes.json is read by the local stack's gateway (scripts/stack), by the load
// balancer's URL map (terraform/locals.tf reads the same file), and by the tests that
// keep docs/architecture.md's route table and every function's registered routes in
// agreement with it.
//
// A prefix matches the path itself and anything below it: "/v1/staff" matches
// "/v1/staff" and "/v1/staff/abc", not "/v1/staffing".
package routes

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
)

//go:embed routes.json
var tableJSON []byte

// Route is one function's share of the table.
type Route struct {
	// Function is the deployed function's name (its entry point and Cloud Run service).
	Function string `json:"function"`
	// Prefixes are the path prefixes it serves.
	Prefixes []string `json:"prefixes"`
}

// Table is the route table.
type Table struct {
	// Default receives the paths no prefix matches (the URL map's default service).
	Default string  `json:"default"`
	Routes  []Route `json:"routes"`
}

// table is routes.json, parsed and checked once.
var table = mustParse(tableJSON)

// Get returns the route table.
func Get() Table { return table }

// Parse decodes and checks a route table: every function named once, every prefix
// under /v1 and owned by one function, the default one of the functions.
func Parse(b []byte) (Table, error) {
	var t Table
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		return Table{}, fmt.Errorf("routes: %w", err)
	}
	functions := map[string]bool{}
	owner := map[string]string{}
	for _, r := range t.Routes {
		if r.Function == "" || functions[r.Function] {
			return Table{}, fmt.Errorf("routes: function %q is empty or listed twice", r.Function)
		}
		functions[r.Function] = true
		if len(r.Prefixes) == 0 {
			return Table{}, fmt.Errorf("routes: function %s has no prefix", r.Function)
		}
		for _, p := range r.Prefixes {
			if !strings.HasPrefix(p, "/v1/") || strings.HasSuffix(p, "/") {
				return Table{}, fmt.Errorf("routes: prefix %q of %s must start with /v1/ and not end with /", p, r.Function)
			}
			if o, ok := owner[p]; ok {
				return Table{}, fmt.Errorf("routes: prefix %s is both %s's and %s's", p, o, r.Function)
			}
			owner[p] = r.Function
		}
	}
	if !functions[t.Default] {
		return Table{}, fmt.Errorf("routes: default function %q has no routes", t.Default)
	}
	return t, nil
}

func mustParse(b []byte) Table {
	t, err := Parse(b)
	if err != nil {
		panic(err)
	}
	return t
}

// Owner returns the function that serves path.
func (t Table) Owner(path string) string {
	for _, r := range t.Routes {
		for _, p := range r.Prefixes {
			if path == p || strings.HasPrefix(path, p+"/") {
				return r.Function
			}
		}
	}
	return t.Default
}

// Prefixes returns the prefixes function serves (nil for a function without public
// routes).
func (t Table) Prefixes(function string) []string {
	for _, r := range t.Routes {
		if r.Function == function {
			return append([]string(nil), r.Prefixes...)
		}
	}
	return nil
}

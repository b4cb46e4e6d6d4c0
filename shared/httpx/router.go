package httpx

import (
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/medi-os/medi/shared/docid"
)

// Route is one endpoint of a function: method and path pattern (net/http syntax), and
// whether it is a stream route (HandleStream).
type Route struct {
	Method  string
	Pattern string
	Stream  bool
}

// Router maps method + path pattern to handlers on top of http.ServeMux, answering
// unknown paths (404) and wrong methods (405, with Allow) in the standard envelope.
// Every wildcard of a pattern ({id}, {uid}, {n}...) names an id, checked once here
// (docid.Valid) before any handler runs: an id the suite cannot have issued (reserved
// __name__, too long, a character outside A-Z a-z 0-9 - _) is answered 404 like an id
// that does not exist, and never reaches a store.
// Its Routes list feeds the OpenAPI contract and authorization-matrix tests.
type Router struct {
	mux      *http.ServeMux
	byPath   map[string]map[string]http.Handler
	params   map[string][]string // pattern -> its wildcard names
	routes   []Route
	streams  map[string]bool // "METHOD pattern" of the stream routes
	notFound http.Handler
}

// NewRouter returns an empty router.
func NewRouter() *Router {
	rt := &Router{mux: http.NewServeMux(), byPath: map[string]map[string]http.Handler{}, params: map[string][]string{}, streams: map[string]bool{}}
	rt.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, r, NotFound("no such endpoint"))
	})
	return rt
}

// Handle registers h for method and pattern (e.g. "GET", "/v1/patients/{id}").
func (rt *Router) Handle(method, pattern string, h http.Handler) {
	methods, ok := rt.byPath[pattern]
	if !ok {
		methods = map[string]http.Handler{}
		rt.byPath[pattern] = methods
		rt.params[pattern] = wildcards(pattern)
		rt.mux.Handle(pattern, rt.dispatch(pattern))
	}
	if _, dup := methods[method]; dup {
		panic("httpx: duplicate route " + method + " " + pattern)
	}
	methods[method] = h
	rt.routes = append(rt.routes, Route{Method: method, Pattern: pattern})
}

// HandleStream registers h as a stream route (Server-Sent Events): the request deadline
// does not end it once it has started (see Deadline); h bounds its own duration. Only the
// route makes a request a stream, never what the client sends.
func (rt *Router) HandleStream(method, pattern string, h http.Handler) {
	rt.Handle(method, pattern, h)
	rt.streams[method+" "+pattern] = true
	rt.routes[len(rt.routes)-1].Stream = true
}

// IsStream reports whether r is routed to a stream route.
func (rt *Router) IsStream(r *http.Request) bool {
	_, pattern := rt.mux.Handler(r)
	method := r.Method
	if method == http.MethodHead {
		method = http.MethodGet
	}
	return rt.streams[method+" "+pattern]
}

// HandleFunc registers f for method and pattern.
func (rt *Router) HandleFunc(method, pattern string, f func(http.ResponseWriter, *http.Request)) {
	rt.Handle(method, pattern, http.HandlerFunc(f))
}

func (rt *Router) dispatch(pattern string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		recordRoute(r, pattern)
		methods := rt.byPath[pattern]
		h, ok := methods[r.Method]
		if !ok && r.Method == http.MethodHead {
			h, ok = methods[http.MethodGet]
		}
		if !ok {
			allow := make([]string, 0, len(methods))
			for m := range methods {
				allow = append(allow, m)
			}
			sort.Strings(allow)
			WriteError(w, r, NewError(http.StatusMethodNotAllowed, CodeMethodNotAllowed,
				"method %s not allowed; use %s", r.Method, strings.Join(allow, ", ")).
				WithHeader("Allow", strings.Join(allow, ", ")))
			return
		}
		for _, name := range rt.params[pattern] {
			if !docid.Valid(r.PathValue(name)) {
				WriteError(w, r, NotFound("not found: not an id this API issues"))
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

// wildcards lists the names of pattern's wildcards ("{id}", "{rest...}").
func wildcards(pattern string) []string {
	var names []string
	for {
		i := strings.IndexByte(pattern, '{')
		if i < 0 {
			return names
		}
		j := strings.IndexByte(pattern[i:], '}')
		if j < 0 {
			return names
		}
		name := strings.TrimSuffix(pattern[i+1:i+j], "...")
		if name != "$" {
			names = append(names, name)
		}
		pattern = pattern[i+j+1:]
	}
}

// ServeHTTP implements http.Handler.
func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) { rt.mux.ServeHTTP(w, r) }

// Routes lists the registered endpoints in registration order.
func (rt *Router) Routes() []Route { return slices.Clone(rt.routes) }

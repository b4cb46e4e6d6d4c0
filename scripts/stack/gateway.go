package stack

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"time"

	"github.com/medi-os/medi/scripts/devports"
)

// Gateway returns a handler that routes by path prefix like the production load
// balancer's URL map (see Route), proxying to each function's own server.
func Gateway(targets map[string]*url.URL) http.Handler {
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			name := Route(pr.In.URL.Path)
			pr.SetURL(targets[name])
			pr.SetXForwarded()
			appendForwardedFor(pr)
			pr.Out.Host = pr.In.Host
		},
		FlushInterval: -1, // stream Server-Sent Events through at once
		Transport:     gatewayTransport(),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprint(w, `{"success":false,"data":null,"error":{"code":"unavailable","message":"function not reachable"},"requestId":""}`)
		},
	}
}

// appendForwardedFor writes X-Forwarded-For as the Google external load balancer does:
// whatever the client sent, then "<client>, <load balancer>" (here the gateway's own
// address), so that functions find the client at the same position as in production
// (ratelimit.ClientIP: the second-to-last entry) and never trust the client's entries.
func appendForwardedFor(pr *httputil.ProxyRequest) {
	client, _, err := net.SplitHostPort(pr.In.RemoteAddr)
	if err != nil {
		client = pr.In.RemoteAddr
	}
	self := "127.0.0.1"
	if a, ok := pr.In.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if h, _, err := net.SplitHostPort(a.String()); err == nil {
			self = h
		}
	}
	entries := append([]string{}, pr.In.Header.Values("X-Forwarded-For")...)
	entries = append(entries, client, self)
	pr.Out.Header.Set("X-Forwarded-For", strings.Join(entries, ", "))
}

func (s *Stack) startGateway() error {
	targets := map[string]*url.URL{}
	for _, f := range Functions {
		u, _ := url.Parse(s.FunctionURL(f.Name))
		targets[f.Name] = u
	}
	web, err := s.webHandler()
	if err != nil {
		return err
	}
	api := Gateway(targets)
	// Like the load balancer: /v1/... to the functions, everything else to the web app.
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if IsAPIPath(r.URL.Path) {
			api.ServeHTTP(w, r)
			return
		}
		web.ServeHTTP(w, r)
	})
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", s.ports.Gateway))
	if err != nil {
		e := &PortInUseError{Port: s.ports.Gateway, Use: "gateway"}
		if s.cfg.Ports.Gateway != 0 { // a fixed port: its variable moves it
			e.Var = devports.VarOf(e.Use)
		}
		return e
	}
	s.gateway = &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go s.gateway.Serve(l)
	return nil
}

// gatewayTransport is http.DefaultTransport keeping as many idle connections to each
// function as a load balancer would: the default keeps 2 per host, so under concurrent
// requests most of them opened a new connection to the function.
func gatewayTransport() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 0 // no limit across functions
	t.MaxIdleConnsPerHost = 256
	return t
}

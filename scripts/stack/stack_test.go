package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"github.com/fsouza/fake-gcs-server/fakestorage"
	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/shared/testenv"

	"github.com/medi-os/medi/shared/ratelimit"
)

func TestRouteFollowsTheURLMap(t *testing.T) {
	t.Parallel()
	for path, want := range map[string]string{
		"/v1/me":                        "auth",
		"/v1/staff":                     "auth",
		"/v1/staff/abc":                 "auth",
		"/v1/audit/verify":              "auth",
		"/v1/patients":                  "patients",
		"/v1/patients/p1/encounters":    "patients",
		"/v1/encounters/e1/transitions": "queue",
		"/v1/queue/stream":              "queue",
		"/v1/triage/assess":             "triage",
		"/v1/notes/n1":                  "scribe",
		"/v1/scribe/sessions":           "scribe",
		"/v1/summaries/p1":              "summarize",
		"/v1/patientsx":                 DefaultService, // a prefix matches whole path segments only
		"/unknown":                      DefaultService,
	} {
		if got := Route(path); got != want {
			t.Errorf("Route(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestGatewayProxiesByPrefix(t *testing.T) {
	t.Parallel()
	targets := map[string]*url.URL{}
	for _, f := range Functions {
		name := f.Name
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "%s %s %s", name, r.URL.Path, r.Header.Get("Authorization"))
		}))
		t.Cleanup(srv.Close)
		targets[name], _ = url.Parse(srv.URL)
	}
	gw := httptest.NewServer(Gateway(targets))
	t.Cleanup(gw.Close)
	for path, want := range map[string]string{"/v1/patients/p1": "patients", "/v1/queue": "queue", "/v1/me": "auth"} {
		req, _ := http.NewRequest(http.MethodGet, gw.URL+path, nil)
		req.Header.Set("Authorization", "Bearer t")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if got := string(b); got != want+" "+path+" Bearer t" {
			t.Errorf("%s -> %q, want function %s with path and headers intact", path, got, want)
		}
	}
}

// TestGatewayForwardsLikeTheLoadBalancer: the gateway appends "<client>, <itself>" to
// the client's X-Forwarded-For, as the production load balancer does, so a function finds
// the client at the documented position and a forged entry changes nothing.
func TestGatewayForwardsLikeTheLoadBalancer(t *testing.T) {
	t.Parallel()
	var got []string
	fn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Header.Get("X-Forwarded-For"), ratelimit.ClientIP(r))
	}))
	t.Cleanup(fn.Close)
	u, _ := url.Parse(fn.URL)
	targets := map[string]*url.URL{}
	for _, f := range Functions {
		targets[f.Name] = u
	}
	gw := httptest.NewServer(Gateway(targets))
	t.Cleanup(gw.Close)
	req, _ := http.NewRequest(http.MethodPost, gw.URL+"/v1/auth/password-reset", nil)
	req.Header.Add("X-Forwarded-For", "198.51.100.1")
	req.Header.Add("X-Forwarded-For", "198.51.100.2, 198.51.100.3")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	want := []string{"198.51.100.1, 198.51.100.2, 198.51.100.3, 127.0.0.1, 127.0.0.1", "127.0.0.1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("X-Forwarded-For and client IP seen by the function (-want +got):\n%s", diff)
	}
}

func TestPortInUseIsNamed(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	s := &Stack{cfg: Config{Ports: Ports{Gateway: port}}}
	err = s.allocatePorts()
	var pe *PortInUseError
	if !errors.As(err, &pe) || pe.Port != port || pe.Use != "gateway" {
		t.Fatalf("err = %v, want a PortInUseError for %d (gateway)", err, port)
	}
	for _, want := range []string{strconv.Itoa(port), "set MEDI_PORT to a free port", "MEDI_PORT_BASE="} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q does not say %q", err, want)
		}
	}
}

func TestStopKillsTheWholeProcessGroup(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "grandchild.pid")
	// A launcher that leaves a child behind, like the emulator wrappers do with Java.
	p, err := startProcess("wrapper", dir, dir, os.Environ(), "bash", "-c",
		"sleep 300 & echo $! > "+pidFile+"; wait")
	if err != nil {
		t.Fatal(err)
	}
	var grandchild int
	for i := 0; i < 100 && grandchild == 0; i++ {
		b, _ := os.ReadFile(pidFile)
		grandchild, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		time.Sleep(20 * time.Millisecond)
	}
	if grandchild == 0 {
		t.Fatal("grandchild did not start")
	}
	p.Stop(2 * time.Second)
	deadline := time.Now().Add(3 * time.Second)
	for syscall.Kill(grandchild, 0) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("grandchild %d still alive after Stop", grandchild)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestFunctionRefusesBadConfig builds the function server as the buildpack would and
// checks that a misconfigured instance exits at start-up naming every bad variable.
func TestFunctionRefusesBadConfig(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds a binary")
	}
	bin := filepath.Join(t.TempDir(), "fnserve")
	build := exec.Command("go", "build", "-o", bin, "github.com/medi-os/medi/scripts/cmd/fnserve")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	base := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "FUNCTION_TARGET=auth", "PORT=0", "MEDI_LISTEN_HOST=127.0.0.1"}
	for _, tc := range []struct {
		name string
		env  []string
		want []string
	}{
		{"prod with emulator and no project", []string{"MEDI_ENV=prod", "FIREBASE_AUTH_EMULATOR_HOST=127.0.0.1:9099"},
			[]string{"GOOGLE_CLOUD_PROJECT", "FIREBASE_AUTH_EMULATOR_HOST", "unsigned"}},
		{"unknown tier", []string{"MEDI_ENV=production", "GOOGLE_CLOUD_PROJECT=p"}, []string{"MEDI_ENV"}},
		{"bad log level", []string{"GOOGLE_CLOUD_PROJECT=p", "LOG_LEVEL=loud"}, []string{"LOG_LEVEL"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin)
			cmd.Env = append(append([]string{}, base...), tc.env...)
			out, err := cmd.CombinedOutput()
			var exitErr *exec.ExitError
			if !errors.As(err, &exitErr) || exitErr.ExitCode() != 78 {
				t.Fatalf("exit: %v, want status 78\n%s", err, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output does not name %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestBridgeDeliversFinalizeAsCloudEvent runs the uploads path of the local stack: an
// object written to fake-gcs-server is notified on Pub/Sub (emulator) and delivered by
// the bridge as an Eventarc-style CloudEvent; a failing target gets it again.
func TestBridgeDeliversFinalizeAsCloudEvent(t *testing.T) {
	testenv.Require(t, "PUBSUB_EMULATOR_HOST")
	t.Parallel()
	ctx := context.Background()
	project := testenv.ProjectID(t)
	c, err := pubsub.NewClient(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	topic := "projects/" + project + "/topics/uploads"
	sub := "projects/" + project + "/subscriptions/bridge"
	if err := createTopic(ctx, c, topic); err != nil {
		t.Fatal(err)
	}
	if err := createSubscription(ctx, c, &pubsubpb.Subscription{Name: sub, Topic: topic, AckDeadlineSeconds: 10}); err != nil {
		t.Fatal(err)
	}

	type delivery struct {
		header http.Header
		body   string
	}
	var mu sync.Mutex
	var got []delivery
	attempts := 0
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		attempts++
		if attempts == 1 {
			w.WriteHeader(http.StatusInternalServerError) // first delivery fails: must come again
			return
		}
		got = append(got, delivery{r.Header.Clone(), string(b)})
	}))
	defer target.Close()
	b, err := StartBridge(ctx, project, "bridge", target.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Stop()

	gcs, err := fakestorage.NewServerWithOptions(fakestorage.Options{
		NoListener: true, Writer: io.Discard,
		EventOptions: fakestorage.EventManagerOptions{ProjectID: project, TopicName: "uploads", Bucket: "uploads-b",
			NotifyOn: fakestorage.EventNotificationOptions{Finalize: true}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer gcs.Stop()
	gcs.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: "uploads-b"})
	w := gcs.Client().Bucket("uploads-b").Object("uploads/c1/s1").NewWriter(ctx)
	w.ContentType = "text/plain"
	io.WriteString(w, "transcript")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no CloudEvent delivered")
		}
		time.Sleep(50 * time.Millisecond)
	}
	mu.Lock()
	d := got[0]
	mu.Unlock()
	for k, want := range map[string]string{
		"Ce-Type":        "google.cloud.storage.object.v1.finalized",
		"Ce-Source":      "//storage.googleapis.com/projects/_/buckets/uploads-b",
		"Ce-Subject":     "objects/uploads/c1/s1",
		"Ce-Specversion": "1.0",
		"Content-Type":   "application/json",
	} {
		if v := d.header.Get(k); v != want {
			t.Errorf("%s = %q, want %q", k, v, want)
		}
	}
	if d.header.Get("Ce-Id") == "" || !strings.Contains(d.body, `"name":"uploads/c1/s1"`) {
		t.Errorf("event id %q, body %s", d.header.Get("Ce-Id"), d.body)
	}
}

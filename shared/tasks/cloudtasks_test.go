package tasks

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	cloudtasks "cloud.google.com/go/cloudtasks/apiv2"
	"cloud.google.com/go/cloudtasks/apiv2/cloudtaskspb"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// fakeCloudTasks speaks the Cloud Tasks gRPC API: it records CreateTask requests and
// refuses a task name it has seen, as the service does.
type fakeCloudTasks struct {
	cloudtaskspb.UnimplementedCloudTasksServer

	mu       sync.Mutex
	requests []*cloudtaskspb.CreateTaskRequest
	routing  []string // x-goog-request-params of each call
	names    map[string]bool
	failWith error // returned by every call when set
}

func (f *fakeCloudTasks) CreateTask(ctx context.Context, req *cloudtaskspb.CreateTaskRequest) (*cloudtaskspb.Task, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, proto.Clone(req).(*cloudtaskspb.CreateTaskRequest))
	md, _ := metadata.FromIncomingContext(ctx)
	f.routing = append(f.routing, md.Get("x-goog-request-params")...)
	if f.failWith != nil {
		return nil, f.failWith
	}
	if name := req.GetTask().GetName(); name != "" {
		if f.names[name] {
			return nil, status.Error(codes.AlreadyExists, "Requested entity already exists")
		}
		f.names[name] = true
	}
	return req.GetTask(), nil
}

func (f *fakeCloudTasks) received() []*cloudtaskspb.CreateTaskRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*cloudtaskspb.CreateTaskRequest(nil), f.requests...)
}

const (
	testProject = "medi-test"
	testRegion  = "europe-west1"
	testInvoker = "tasks-invoker@medi-test.iam.gserviceaccount.com"
)

// startFake serves a fake Cloud Tasks API on loopback and returns an enqueuer that talks
// to it through the real client.
func startFake(t *testing.T, cfg CloudTasksConfig) (*fakeCloudTasks, *CloudTasks) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fake := &fakeCloudTasks{names: make(map[string]bool)}
	srv := grpc.NewServer()
	cloudtaskspb.RegisterCloudTasksServer(srv, fake)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)

	if cfg.ProjectID == "" {
		cfg.ProjectID = testProject
	}
	if cfg.Location == "" {
		cfg.Location = testRegion
	}
	if cfg.ServiceAccountEmail == "" {
		cfg.ServiceAccountEmail = testInvoker
	}
	client, err := cloudtasks.NewClient(t.Context(),
		option.WithEndpoint(lis.Addr().String()),
		option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := client.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	ct, err := NewCloudTasks(cfg, func(context.Context) (*cloudtasks.Client, error) { return client, nil })
	if err != nil {
		t.Fatal(err)
	}
	return fake, ct
}

const queueParent = "projects/medi-test/locations/europe-west1/queues/scribe"

func wantHTTPTask(url, aud string, body []byte) *cloudtaskspb.Task {
	return &cloudtaskspb.Task{
		MessageType: &cloudtaskspb.Task_HttpRequest{HttpRequest: &cloudtaskspb.HttpRequest{
			Url:        url,
			HttpMethod: cloudtaskspb.HttpMethod_POST,
			Headers:    map[string]string{"Content-Type": "application/json"},
			Body:       body,
			AuthorizationHeader: &cloudtaskspb.HttpRequest_OidcToken{OidcToken: &cloudtaskspb.OidcToken{
				ServiceAccountEmail: testInvoker,
				Audience:            aud,
			}},
		}},
	}
}

func TestCloudTasksCreateSendsHTTPTask(t *testing.T) {
	t.Parallel()
	body := []byte(`{"sessionId":"s-1"}`)
	const workerURL = "https://scribe-worker-abc-ew.a.run.app/tasks/scribe"
	when := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	name := TaskID("uploads", "clinic-1/a.wav", "1700000000")

	named := wantHTTPTask(workerURL, "https://scribe-worker-abc-ew.a.run.app", body)
	named.Name = queueParent + "/tasks/" + name

	scheduled := wantHTTPTask(workerURL, "https://scribe-worker-abc-ew.a.run.app", body)
	scheduled.ScheduleTime = timestamppb.New(when)

	fixed := wantHTTPTask(workerURL, "scribe-worker", body)
	fixed.DispatchDeadline = durationpb.New(15 * time.Minute)

	cases := []struct {
		name string
		cfg  CloudTasksConfig
		task Task
		want *cloudtaskspb.Task
	}{
		{
			name: "named task, origin audience",
			task: Task{Queue: QueueScribe, Name: name, URL: workerURL, Body: body},
			want: named,
		},
		{
			name: "unnamed task with schedule time",
			task: Task{Queue: QueueScribe, URL: workerURL, Body: body, ScheduleTime: when},
			want: scheduled,
		},
		{
			name: "fixed audience and dispatch deadline",
			cfg:  CloudTasksConfig{Audience: FixedAudience("scribe-worker"), DispatchDeadline: 15 * time.Minute},
			task: Task{Queue: QueueScribe, URL: workerURL, Body: body},
			want: fixed,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fake, ct := startFake(t, tc.cfg)
			created, err := ct.Create(t.Context(), tc.task)
			if err != nil {
				t.Fatalf("Create: %v", err)
			}
			if !created {
				t.Error("Create reported a duplicate for a new task")
			}
			want := []*cloudtaskspb.CreateTaskRequest{{Parent: queueParent, Task: tc.want}}
			if diff := cmp.Diff(want, fake.received(), protocmp.Transform()); diff != "" {
				t.Errorf("CreateTask requests (-want +got):\n%s", diff)
			}
			if got, want := fake.routing, []string{"parent=" + "projects%2Fmedi-test%2Flocations%2Feurope-west1%2Fqueues%2Fscribe"}; !cmp.Equal(got, want) {
				t.Errorf("routing header = %q, want %q", got, want)
			}
		})
	}
}

func TestCloudTasksDuplicateIsNotAnError(t *testing.T) {
	t.Parallel()
	fake, ct := startFake(t, CloudTasksConfig{})
	task := Task{Queue: QueueSummaries, Name: TaskID("note.approved", "evt-7"), URL: "https://summarize-worker.example/", Body: []byte(`{}`)}

	created, err := ct.Create(t.Context(), task)
	if err != nil || !created {
		t.Fatalf("first Create = %v, %v; want true, nil", created, err)
	}
	created, err = ct.Create(t.Context(), task)
	if err != nil || created {
		t.Fatalf("second Create = %v, %v; want false, nil", created, err)
	}
	if err := ct.Enqueue(t.Context(), task); err != nil {
		t.Fatalf("Enqueue of a duplicate: %v", err)
	}
	if got, want := len(fake.received()), 3; got != want {
		t.Errorf("CreateTask calls = %d, want %d (duplicates must reach the API)", got, want)
	}
}

func TestCloudTasksAPIErrorsSurface(t *testing.T) {
	t.Parallel()
	for _, code := range []codes.Code{codes.PermissionDenied, codes.NotFound, codes.InvalidArgument, codes.ResourceExhausted} {
		t.Run(code.String(), func(t *testing.T) {
			t.Parallel()
			fake, ct := startFake(t, CloudTasksConfig{})
			fake.mu.Lock()
			fake.failWith = status.Error(code, "nope")
			fake.mu.Unlock()

			task := Task{Queue: QueueMail, Name: "invite-1", URL: "https://mailer.example/", Body: []byte(`{"kind":"invite"}`)}
			err := ct.Enqueue(t.Context(), task)
			if err == nil {
				t.Fatal("Enqueue = nil, want an error")
			}
			if got := status.Code(err); got != code {
				t.Errorf("status.Code(err) = %v, want %v (err %v)", got, code, err)
			}
			if created, err := ct.Create(t.Context(), task); created || err == nil {
				t.Errorf("Create = %v, %v; want false and an error", created, err)
			}
		})
	}
}

func TestCloudTasksRejectsInvalidTasksWithoutCallingAPI(t *testing.T) {
	t.Parallel()
	good := Task{Queue: QueueScribe, Name: "n1", URL: "https://w.example/x", Body: []byte(`{}`)}
	cases := map[string]func(*Task){
		"empty queue":          func(t *Task) { t.Queue = "" },
		"queue with slash":     func(t *Task) { t.Queue = "a/b" },
		"name with slash":      func(t *Task) { t.Name = "a/b" },
		"name too long":        func(t *Task) { t.Name = strings.Repeat("a", 501) },
		"http url":             func(t *Task) { t.URL = "http://w.example/x" },
		"relative url":         func(t *Task) { t.URL = "/x" },
		"url with credentials": func(t *Task) { t.URL = "https://u:p@w.example/x" },
		"body not json":        func(t *Task) { t.Body = []byte(`{"a":`) },
		"empty body":           func(t *Task) { t.Body = nil },
		"two json values":      func(t *Task) { t.Body = []byte(`{} {}`) },
	}
	fake, ct := startFake(t, CloudTasksConfig{})
	if err := ct.Enqueue(t.Context(), good); err != nil {
		t.Fatalf("valid task: %v", err)
	}
	for name, mutate := range cases {
		task := good
		mutate(&task)
		if err := ct.Enqueue(t.Context(), task); !errors.Is(err, ErrInvalidTask) {
			t.Errorf("%s: Enqueue error = %v, want ErrInvalidTask", name, err)
		}
	}
	if n := len(fake.received()); n != 1 {
		t.Errorf("CreateTask calls = %d, want 1 (only the valid task)", n)
	}

	fake, ct = startFake(t, CloudTasksConfig{Audience: FixedAudience("")})
	if err := ct.Enqueue(t.Context(), good); !errors.Is(err, ErrInvalidTask) {
		t.Errorf("empty audience: Enqueue error = %v, want ErrInvalidTask", err)
	}
	if n := len(fake.received()); n != 0 {
		t.Errorf("empty audience: CreateTask calls = %d, want 0", n)
	}
}

func TestNewCloudTasksValidatesConfig(t *testing.T) {
	t.Parallel()
	valid := CloudTasksConfig{ProjectID: "p", Location: "l", ServiceAccountEmail: "sa@p.iam.gserviceaccount.com"}
	cases := map[string]func(*CloudTasksConfig){
		"no project":         func(c *CloudTasksConfig) { c.ProjectID = "" },
		"no location":        func(c *CloudTasksConfig) { c.Location = "" },
		"no invoker":         func(c *CloudTasksConfig) { c.ServiceAccountEmail = "" },
		"deadline too short": func(c *CloudTasksConfig) { c.DispatchDeadline = time.Second },
		"deadline too long":  func(c *CloudTasksConfig) { c.DispatchDeadline = time.Hour },
	}
	for name, mutate := range cases {
		cfg := valid
		mutate(&cfg)
		if _, err := NewCloudTasks(cfg, noClient); err == nil {
			t.Errorf("%s: NewCloudTasks succeeded, want an error", name)
		}
	}
	if _, err := NewCloudTasks(valid, noClient); err != nil {
		t.Errorf("valid config: %v", err)
	}
}

func TestOriginAudience(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://w-abc.a.run.app/tasks/scribe?x=1": "https://w-abc.a.run.app",
		"https://w-abc.a.run.app":                  "https://w-abc.a.run.app",
		"http://127.0.0.1:8080/x":                  "http://127.0.0.1:8080",
	} {
		if got := OriginAudience(in); got != want {
			t.Errorf("OriginAudience(%q) = %q, want %q", in, got, want)
		}
	}
}

// noClient is a client source for tests that never reach the API.
func noClient(context.Context) (*cloudtasks.Client, error) {
	return nil, errors.New("no Cloud Tasks API in this test")
}

package tasks

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTaskID(t *testing.T) {
	t.Parallel()
	base := TaskID("medi-uploads", "clinic-1/session-9/audio.wav", "1712345678901234")
	if !taskIDPattern.MatchString(base) || len(base) != 64 {
		t.Fatalf("TaskID = %q, want 64 characters of [A-Za-z0-9_-]", base)
	}
	if again := TaskID("medi-uploads", "clinic-1/session-9/audio.wav", "1712345678901234"); again != base {
		t.Errorf("TaskID not deterministic: %q then %q", base, again)
	}
	differ := map[string]string{
		"other generation":   TaskID("medi-uploads", "clinic-1/session-9/audio.wav", "1712345678901235"),
		"parts regrouped":    TaskID("medi-uploads", "clinic-1/session-9/audio.wav1712345678901234", ""),
		"parts reordered":    TaskID("clinic-1/session-9/audio.wav", "medi-uploads", "1712345678901234"),
		"parts concatenated": TaskID("medi-uploadsclinic-1/session-9/audio.wav1712345678901234"),
	}
	for name, id := range differ {
		if id == base {
			t.Errorf("%s: same id as the base parts", name)
		}
	}
	if a, b := TaskID("a", "bc"), TaskID("ab", "c"); a == b {
		t.Error(`TaskID("a","bc") == TaskID("ab","c")`)
	}
	if a, b := TaskID(), TaskID(""); a == b {
		t.Error(`TaskID() == TaskID("")`)
	}
	for _, id := range []string{TaskID(), TaskID(strings.Repeat("é/", 1000))} {
		if !taskIDPattern.MatchString(id) {
			t.Errorf("TaskID gave invalid id %q", id)
		}
	}
}

func TestTaskValidate(t *testing.T) {
	t.Parallel()
	good := Task{Queue: QueueScribe, Name: TaskID("x"), URL: "http://127.0.0.1:8080/tasks/scribe", Body: []byte(`{"a":1}`)}
	if err := good.validate(); err != nil {
		t.Fatalf("valid task: %v", err)
	}
	cases := map[string]func(*Task){
		"queue too long":   func(t *Task) { t.Queue = strings.Repeat("q", 101) },
		"queue with _":     func(t *Task) { t.Queue = "a_b" },
		"name with space":  func(t *Task) { t.Name = "a b" },
		"name too long":    func(t *Task) { t.Name = strings.Repeat("n", 501) },
		"ftp url":          func(t *Task) { t.URL = "ftp://h/x" },
		"url without host": func(t *Task) { t.URL = "http:///x" },
		"bad json":         func(t *Task) { t.Body = []byte(`nope`) },
	}
	for name, mutate := range cases {
		task := good
		mutate(&task)
		err := task.validate()
		if !errors.Is(err, ErrInvalidTask) {
			t.Errorf("%s: validate = %v, want ErrInvalidTask", name, err)
		}
	}
	secretBody := good
	secretBody.Body = []byte(`{"name":"Jane Roe"`)
	if err := secretBody.validate(); err == nil || strings.Contains(err.Error(), "Jane") {
		t.Errorf("validate of a bad body = %v; want an error without the body", err)
	}
	unnamed := good
	unnamed.Name = ""
	if err := unnamed.validate(); err != nil {
		t.Errorf("unnamed task: %v", err)
	}
}

func TestDeliveryFromRequest(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		headers map[string]string
		want    Delivery
	}{
		{"all headers", map[string]string{HeaderQueueName: "scribe", HeaderTaskName: "t1", HeaderRetryCount: "3"}, Delivery{Queue: "scribe", TaskName: "t1", RetryCount: 3}},
		{"first attempt", map[string]string{HeaderQueueName: "mail", HeaderTaskName: "t2", HeaderRetryCount: "0"}, Delivery{Queue: "mail", TaskName: "t2"}},
		{"malformed count", map[string]string{HeaderRetryCount: "x"}, Delivery{}},
		{"negative count", map[string]string{HeaderRetryCount: "-1"}, Delivery{}},
		{"no headers", nil, Delivery{}},
	}
	for _, tc := range cases {
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		for k, v := range tc.headers {
			r.Header.Set(k, v)
		}
		if diff := cmp.Diff(tc.want, DeliveryFromRequest(r)); diff != "" {
			t.Errorf("%s: DeliveryFromRequest (-want +got):\n%s", tc.name, diff)
		}
	}
}

func TestSafeURL(t *testing.T) {
	t.Parallel()
	if got, want := safeURL("https://u:p@w.example/tasks/x?patient=1#f"), "https://w.example/tasks/x"; got != want {
		t.Errorf("safeURL = %q, want %q", got, want)
	}
}

package uploads_test

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"strconv"
	"testing"
	"time"

	"cloud.google.com/go/storage"
	"github.com/fsouza/fake-gcs-server/fakestorage"
	"google.golang.org/api/option"

	"github.com/medi-os/medi/shared/scribe"
	"github.com/medi-os/medi/shared/uploads"
)

const bucket = "uploads-test"

// server is fake-gcs-server in process, with a versioned bucket (as the uploads bucket
// is), so that objects have generations.
func server(t *testing.T) (*storage.Client, uploads.GCS) {
	t.Helper()
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{NoListener: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: bucket, VersioningEnabled: true})
	// An explicit endpoint: the client must not follow a STORAGE_EMULATOR_HOST of the
	// environment (scripts/test sets the stack's); fake-gcs answers XML reads on it.
	c, err := storage.NewClient(context.Background(), option.WithHTTPClient(srv.HTTPClient()),
		option.WithEndpoint("https://storage.googleapis.com/storage/v1/"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, uploads.GCS{Client: c}
}

// put writes an object through the storage client and returns its generation.
func put(t *testing.T, c *storage.Client, name string, body []byte) int64 {
	t.Helper()
	w := c.Bucket(bucket).Object(name).NewWriter(context.Background())
	if _, err := w.Write(body); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.Attrs().Generation
}

// Head reads the first bytes only (the ingester checks magic bytes without downloading
// the upload), and a missing object is scribe.ErrObjectMissing, which the ingester and
// the worker treat as "nothing to do".
func TestHead(t *testing.T) {
	t.Parallel()
	c, g := server(t)
	ctx := context.Background()
	gen := put(t, c, "uploads/c1/s1", []byte("WEBVTT\n\n00:00.000 --> 00:01.000\nhello"))
	got, err := g.Head(ctx, bucket, "uploads/c1/s1", gen, 6)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "WEBVTT" {
		t.Errorf("Head = %q, want the first 6 bytes", got)
	}
	if _, err := g.Head(ctx, bucket, "uploads/c1/none", 0, 6); !errors.Is(err, scribe.ErrObjectMissing) {
		t.Errorf("Head of a missing object: %v, want ErrObjectMissing", err)
	}
}

// Read returns the generation it is asked for (an upload replaced after the event was
// sent is not the one the event checked), and refuses an object over the limit rather
// than truncating it.
func TestReadGenerationAndLimit(t *testing.T) {
	t.Parallel()
	c, g := server(t)
	ctx := context.Background()
	first := put(t, c, "uploads/c1/s2", []byte("first version"))
	second := put(t, c, "uploads/c1/s2", []byte("second, longer version"))
	if first == second {
		t.Fatalf("both writes have generation %d: the bucket is not versioned", first)
	}
	for gen, want := range map[int64]string{first: "first version", second: "second, longer version", 0: "second, longer version"} {
		got, err := g.Read(ctx, bucket, "uploads/c1/s2", gen, 100)
		if err != nil {
			t.Fatalf("generation %d: %v", gen, err)
		}
		if string(got) != want {
			t.Errorf("generation %d: %q, want %q", gen, got, want)
		}
	}
	exact, err := g.Read(ctx, bucket, "uploads/c1/s2", first, int64(len("first version")))
	if err != nil || !bytes.Equal(exact, []byte("first version")) {
		t.Errorf("an object exactly at the limit: %q, %v", exact, err)
	}
	if got, err := g.Read(ctx, bucket, "uploads/c1/s2", second, 10); err == nil {
		t.Errorf("an object over the limit was read (%q), want an error", got)
	}
	if _, err := g.Read(ctx, bucket, "uploads/c1/none", 0, 10); !errors.Is(err, scribe.ErrObjectMissing) {
		t.Errorf("Read of a missing object: %v, want ErrObjectMissing", err)
	}
}

// Delete removes the generation asked for, and deleting what is already gone succeeds
// (the retention job and redelivered tasks delete twice).
func TestDeleteIsIdempotent(t *testing.T) {
	t.Parallel()
	c, g := server(t)
	ctx := context.Background()
	gen := put(t, c, "uploads/c1/s3", []byte("transcript"))
	for i := range 2 {
		if err := g.Delete(ctx, bucket, "uploads/c1/s3", gen); err != nil {
			t.Fatalf("delete %d: %v", i+1, err)
		}
	}
	if _, err := g.Read(ctx, bucket, "uploads/c1/s3", gen, 100); !errors.Is(err, scribe.ErrObjectMissing) {
		t.Errorf("after delete: %v, want ErrObjectMissing", err)
	}
	if err := g.Delete(ctx, bucket, "uploads/c1/never", 0); err != nil {
		t.Errorf("deleting an object that never existed: %v", err)
	}
}

// The local signer signs with a key of its own for the emulator's scheme, and a signer's
// TTL bounds the URL's validity (X-Goog-Expires: seconds from the signing time).
func TestSignUploadSchemeAndTTL(t *testing.T) {
	t.Parallel()
	c, _ := server(t)
	now := time.Now()
	for _, tc := range []struct {
		host, scheme string
		ttl, valid   time.Duration // the signer's TTL; how long the URL is valid
	}{
		{"http://127.0.0.1:4443", "http://", 0, 15 * time.Minute},
		{"https://gcs.example.test", "https://", 2 * time.Minute, 2 * time.Minute},
	} {
		s, err := uploads.DevSigner(c, tc.host)
		if err != nil {
			t.Fatal(err)
		}
		s.TTL = tc.ttl
		up, err := s.SignUpload(context.Background(), bucket, "uploads/c1/s4", "audio/webm", 10, nil, now)
		if err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(up.URL)
		if err != nil {
			t.Fatal(err)
		}
		if u.Scheme+"://" != tc.scheme {
			t.Errorf("host %s: URL scheme %s, want %s", tc.host, u.Scheme, tc.scheme)
		}
		// Signed at the real clock a moment after now: at most the TTL, and not much less.
		secs, err := strconv.Atoi(u.Query().Get("X-Goog-Expires"))
		if err != nil || secs > int(tc.valid.Seconds()) || secs < int(tc.valid.Seconds())-60 {
			t.Errorf("host %s: X-Goog-Expires %q, want about %v", tc.host, u.Query().Get("X-Goog-Expires"), tc.valid)
		}
		want := now.Add(tc.valid).Truncate(time.Second)
		if !up.Expires.Equal(want) {
			t.Errorf("host %s: expires %v, want %v", tc.host, up.Expires, want)
		}
	}
}

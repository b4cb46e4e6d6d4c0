package commitmark_test

import (
	"context"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/medi-os/medi/shared/commitmark"
	"github.com/medi-os/medi/shared/testenv"
)

func client(t *testing.T) *firestore.Client {
	t.Helper()
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST")
	fs, err := firestore.NewClient(context.Background(), testenv.ProjectID(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fs.Close() })
	return fs
}

// committed reads m in a transaction of its own, as a retry does.
func committed(t *testing.T, fs *firestore.Client, m commitmark.Marker) (string, bool) {
	t.Helper()
	var id string
	var ok bool
	err := fs.RunTransaction(context.Background(), func(_ context.Context, tx *firestore.Transaction) error {
		var err error
		id, ok, err = m.CommittedTx(fs, tx)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id, ok
}

func record(t *testing.T, fs *firestore.Client, m commitmark.Marker, resourceID string, now time.Time) {
	t.Helper()
	err := fs.RunTransaction(context.Background(), func(_ context.Context, tx *firestore.Transaction) error {
		return m.RecordTx(fs, tx, resourceID, now)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A retry of a request whose first attempt committed finds the resource it wrote; a new
// request under the same key (a different fingerprint) does not.
func TestRetryFindsTheFirstAttemptsResource(t *testing.T) {
	t.Parallel()
	fs := client(t)
	now := time.Now().UTC()
	m := commitmark.Marker{Record: "rec-1", Request: "hash-a", Expires: now.Add(time.Hour)}
	if _, ok := committed(t, fs, m); ok {
		t.Fatal("a marker nobody recorded reads as committed")
	}
	record(t, fs, m, "patient-42", now)
	if id, ok := committed(t, fs, m); !ok || id != "patient-42" {
		t.Errorf("retry: (%q, %v), want (patient-42, true)", id, ok)
	}
	other := commitmark.Marker{Record: "rec-1", Request: "hash-b", Expires: m.Expires}
	if id, ok := committed(t, fs, other); ok {
		t.Errorf("another request under the same key reads the first one's resource %q", id)
	}

	// What is stored holds ids and hashes only, and expires with the key.
	snap, err := fs.Collection(commitmark.Collection).Doc("rec-1").Get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	data := snap.Data()
	if got := len(data); got != 4 {
		t.Errorf("stored fields %v, want request, resourceId, committedAt, expireAt", data)
	}
	if exp, _ := data["expireAt"].(time.Time); !exp.Equal(m.Expires.Truncate(time.Microsecond)) {
		t.Errorf("expireAt = %v, want the key's expiry %v", exp, m.Expires)
	}
}

// A marker past its expiry no longer counts (the key's record is gone too), and a Marker
// without an expiry is kept for DefaultTTL.
func TestExpiry(t *testing.T) {
	t.Parallel()
	fs := client(t)
	now := time.Now().UTC()
	old := commitmark.Marker{Record: "rec-old", Request: "h", Expires: now.Add(-time.Minute)}
	record(t, fs, old, "enc-1", now.Add(-time.Hour))
	if id, ok := committed(t, fs, old); ok {
		t.Errorf("an expired marker reads as committed (%q)", id)
	}

	noExpiry := commitmark.Marker{Record: "rec-ttl", Request: "h"}
	record(t, fs, noExpiry, "enc-2", now)
	snap, err := fs.Collection(commitmark.Collection).Doc("rec-ttl").Get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	exp, _ := snap.Data()["expireAt"].(time.Time)
	if want := now.Add(commitmark.DefaultTTL).Truncate(time.Microsecond); !exp.Equal(want) {
		t.Errorf("expireAt = %v, want now + DefaultTTL = %v", exp, want)
	}
	if id, ok := committed(t, fs, noExpiry); !ok || id != "enc-2" {
		t.Errorf("(%q, %v), want (enc-2, true)", id, ok)
	}
}

// A request without a key has the zero Marker: it reads nothing and writes nothing.
func TestZeroMarkerIsInert(t *testing.T) {
	t.Parallel()
	fs := client(t)
	var m commitmark.Marker
	if !m.IsZero() {
		t.Fatal("the zero Marker is not IsZero")
	}
	record(t, fs, m, "patient-1", time.Now())
	if _, ok := committed(t, fs, m); ok {
		t.Error("the zero Marker reads as committed")
	}
	docs, err := fs.Collection(commitmark.Collection).Documents(context.Background()).GetAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 0 {
		t.Errorf("the zero Marker wrote %d documents", len(docs))
	}
}

// The marker of a key's first attempt skips its first read, and only that one: a second
// call (the transaction run again) reads, and so does every call after the request wrote
// the marker itself. A marker exists below to show which calls read it (on a true first
// attempt none can exist).
func TestFirstAttemptSkipsOneRead(t *testing.T) {
	t.Parallel()
	fs := client(t)
	now := time.Now().UTC()
	stored := commitmark.Marker{Record: "rec-first", Request: "h", Expires: now.Add(time.Hour)}
	record(t, fs, stored, "enc-1", now)

	first := stored.FirstAttempt()
	if !first.First() || stored.First() {
		t.Fatalf("First() = %v on FirstAttempt's marker, %v on the original; want true, false", first.First(), stored.First())
	}
	copied := first // a copy shares the state: the store gets the marker by value
	if _, ok := committed(t, fs, copied); ok {
		t.Error("the first attempt's first read was made")
	}
	if first.First() {
		t.Error("First() still true after the skipped read")
	}
	if id, ok := committed(t, fs, first); !ok || id != "enc-1" {
		t.Errorf("second read: (%q, %v), want (enc-1, true): a transaction run again must read", id, ok)
	}

	// Outside a transaction the same.
	plain := stored.FirstAttempt()
	if _, ok, err := plain.Committed(context.Background(), fs); err != nil || ok {
		t.Errorf("Committed of a first attempt: (%v, %v), want not read", ok, err)
	}
	if id, ok, err := plain.Committed(context.Background(), fs); err != nil || !ok || id != "enc-1" {
		t.Errorf("second Committed: (%q, %v, %v), want (enc-1, true)", id, ok, err)
	}

	// A first attempt that wrote its marker reads it from then on.
	own := commitmark.Marker{Record: "rec-own", Request: "h", Expires: now.Add(time.Hour)}.FirstAttempt()
	record(t, fs, own, "enc-2", now)
	if own.First() {
		t.Error("First() still true after RecordTx")
	}
	if id, ok := committed(t, fs, own); !ok || id != "enc-2" {
		t.Errorf("after its own RecordTx: (%q, %v), want (enc-2, true)", id, ok)
	}
}

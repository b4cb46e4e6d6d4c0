package events

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/shared/testenv"
)

func TestDocID(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", maxDocEventIDLen+1)
	tests := []struct {
		name, consumer, eventID string
		want                    string
		wantErr                 bool
	}{
		{name: "uuid", consumer: "queue-projector", eventID: "3f1c1a9e-7a51-4c1e-9a0b-5a7d9c7e2b11", want: "queue-projector__3f1c1a9e-7a51-4c1e-9a0b-5a7d9c7e2b11"},
		{name: "numeric message id", consumer: "scribe-ingest", eventID: "11873384951234", want: "scribe-ingest__11873384951234"},
		{name: "slash escaped", consumer: "scribe-ingest", eventID: "a/b", want: "scribe-ingest__a%2Fb"},
		{name: "percent escaped", consumer: "scribe-ingest", eventID: "a%2Fb", want: "scribe-ingest__a%252Fb"},
		{name: "dots", consumer: "c", eventID: "..", want: "c__.."},
		{name: "long id hashed", consumer: "c", eventID: long, want: "c__sha256-"},
		{name: "empty consumer", consumer: "", eventID: "e", wantErr: true},
		{name: "consumer with separator", consumer: "a__b", eventID: "e", wantErr: true},
		{name: "consumer with slash", consumer: "a/b", eventID: "e", wantErr: true},
		{name: "upper-case consumer", consumer: "Queue", eventID: "e", wantErr: true},
		{name: "empty event id", consumer: "c", eventID: "", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := docID(tc.consumer, tc.eventID)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("docID = %q, want error", got)
				}
				if !IsPermanent(err) {
					t.Errorf("docID error %q is not permanent", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("docID: %v", err)
			}
			if strings.Contains(got, "/") || len(got) > 1500 {
				t.Errorf("docID = %q: not a valid Firestore document id", got)
			}
			if !strings.HasPrefix(got, tc.want) {
				t.Errorf("docID = %q, want prefix %q", got, tc.want)
			}
		})
	}
	a, _ := docID("c", long)
	b, _ := docID("c", long+"y")
	if a == b {
		t.Errorf("hashed ids collide: %q", a)
	}
}

// newFirestore returns a client of the Firestore emulator in a project of this test's own.
func newFirestore(t *testing.T) *firestore.Client {
	t.Helper()
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST")
	client, err := firestore.NewClient(context.Background(), testenv.ProjectID(t))
	if err != nil {
		t.Fatalf("firestore.NewClient: %v", err)
	}
	t.Cleanup(func() { _ = client.Close() })
	return client
}

func TestDeduper_SeenMarkDone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	client := newFirestore(t)
	d := NewDeduper(client, 48*time.Hour)
	fixed := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	d.now = func() time.Time { return fixed }

	const consumer, eventID = "queue-projector", "evt/1"
	if seen, err := d.Seen(ctx, consumer, eventID); err != nil || seen {
		t.Fatalf("Seen before MarkDone = %v, %v; want false, nil", seen, err)
	}
	if err := d.MarkDone(ctx, consumer, eventID); err != nil {
		t.Fatalf("MarkDone: %v", err)
	}
	if err := d.MarkDone(ctx, consumer, eventID); err != nil {
		t.Fatalf("second MarkDone: %v", err)
	}
	if seen, err := d.Seen(ctx, consumer, eventID); err != nil || !seen {
		t.Fatalf("Seen after MarkDone = %v, %v; want true, nil", seen, err)
	}
	// Marks are per consumer and per event.
	if seen, err := d.Seen(ctx, "summarize-worker", eventID); err != nil || seen {
		t.Errorf("Seen for another consumer = %v, %v; want false, nil", seen, err)
	}
	if seen, err := d.Seen(ctx, consumer, "evt/2"); err != nil || seen {
		t.Errorf("Seen for another event = %v, %v; want false, nil", seen, err)
	}

	snap, err := client.Collection("processedEvents").Doc("queue-projector__evt%2F1").Get(ctx)
	if err != nil {
		t.Fatalf("read mark: %v", err)
	}
	var got processedEvent
	if err := snap.DataTo(&got); err != nil {
		t.Fatal(err)
	}
	if got.ProcessedAt.IsZero() {
		t.Error("processedAt not set")
	}
	got.ProcessedAt = time.Time{}
	want := processedEvent{Consumer: consumer, EventID: eventID, ExpireAt: fixed.Add(48 * time.Hour)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stored mark mismatch (-want +got):\n%s", diff)
	}

	if _, err := d.Seen(ctx, "Bad/Consumer", eventID); !IsPermanent(err) {
		t.Errorf("Seen with an invalid consumer: err = %v, want permanent", err)
	}
}

func TestDeduper_Once(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := NewDeduper(newFirestore(t), 0)
	if got, want := d.ttl, DefaultDedupeTTL; got != want {
		t.Errorf("default ttl = %v, want %v", got, want)
	}
	const consumer = "summarize-worker"

	runs := 0
	fail := errors.New("vertex unavailable")
	// A failing run is not marked: the next delivery runs again.
	ran, err := d.Once(ctx, consumer, "e1", func(context.Context) error { runs++; return fail })
	if !ran || !errors.Is(err, fail) {
		t.Fatalf("Once with failing fn = %v, %v; want true, %v", ran, err, fail)
	}
	ran, err = d.Once(ctx, consumer, "e1", func(context.Context) error { runs++; return nil })
	if !ran || err != nil {
		t.Fatalf("Once after failure = %v, %v; want true, nil", ran, err)
	}
	ran, err = d.Once(ctx, consumer, "e1", func(context.Context) error { runs++; return nil })
	if ran || err != nil {
		t.Fatalf("Once after success = %v, %v; want false, nil", ran, err)
	}
	if runs != 2 {
		t.Errorf("fn ran %d times, want 2", runs)
	}

	ran, err = d.Once(ctx, "", "e1", func(context.Context) error { runs++; return nil })
	if ran || !IsPermanent(err) {
		t.Errorf("Once with empty consumer = %v, %v; want false, permanent error", ran, err)
	}
	if runs != 2 {
		t.Errorf("fn ran despite an invalid consumer")
	}
}

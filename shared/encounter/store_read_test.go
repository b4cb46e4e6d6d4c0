package encounter_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/shared/apierr"
	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/encounter"
)

func TestList(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var all []encounter.Encounter
	for range 5 {
		all = append(all, f.checkIn())
	}
	all[1] = f.walk(all[1], pathTo(encounter.StatusTriaged)...)
	all[3] = f.walk(all[3], pathTo(encounter.StatusTriaged)...)
	all[4] = f.walk(all[4], pathTo(encounter.StatusCancelled)...)
	// Most recent arrival first.
	byArrival := slices.Clone(all)
	slices.Reverse(byArrival)
	ids := func(es []encounter.Encounter) []string {
		var out []string
		for _, e := range es {
			out = append(out, e.ID)
		}
		return out
	}
	ctx, _ := reqCtx(f.actor(auth.RoleDoctor))
	collect := func(opts encounter.ListOptions) ([]encounter.Encounter, int) {
		t.Helper()
		var got []encounter.Encounter
		pages := 0
		for {
			page, err := f.store.List(ctx, f.clinic, opts)
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			pages++
			got = append(got, page.Items...)
			if page.NextPageToken == "" {
				return got, pages
			}
			opts.PageToken = page.NextPageToken
		}
	}
	got, pages := collect(encounter.ListOptions{PageSize: 2})
	if diff := cmp.Diff(byArrival, got); diff != "" {
		t.Errorf("all encounters (-want +got):\n%s", diff)
	}
	if pages != 3 {
		t.Errorf("5 encounters in pages of 2: %d pages, want 3", pages)
	}
	got, _ = collect(encounter.ListOptions{Statuses: []encounter.Status{encounter.StatusTriaged, encounter.StatusWaiting}, PageSize: 1})
	if diff := cmp.Diff([]string{all[3].ID, all[2].ID, all[1].ID, all[0].ID}, ids(got)); diff != "" {
		t.Errorf("open encounters (-want +got):\n%s", diff)
	}
	got, _ = collect(encounter.ListOptions{Statuses: []encounter.Status{encounter.StatusCancelled}})
	if diff := cmp.Diff([]string{all[4].ID}, ids(got)); diff != "" {
		t.Errorf("cancelled (-want +got):\n%s", diff)
	}
	if page, err := f.store.List(ctx, "other-"+f.clinic, encounter.ListOptions{}); err != nil || len(page.Items) != 0 {
		t.Errorf("another clinic's list = %v, %v; want empty", page.Items, err)
	}

	first, err := f.store.List(ctx, f.clinic, encounter.ListOptions{PageSize: 1, Statuses: []encounter.Status{encounter.StatusWaiting}})
	if err != nil || first.NextPageToken == "" {
		t.Fatalf("first page: %v %+v", err, first)
	}
	for _, tc := range []struct {
		name  string
		opts  encounter.ListOptions
		field string
	}{
		{"token of another filter", encounter.ListOptions{PageToken: first.NextPageToken, Statuses: []encounter.Status{encounter.StatusTriaged}}, "pageToken"},
		{"garbage token", encounter.ListOptions{PageToken: "not-a-token"}, "pageToken"},
		{"huge token", encounter.ListOptions{PageToken: strings.Repeat("A", 5000)}, "pageToken"},
		{"page too large", encounter.ListOptions{PageSize: encounter.MaxPageSize + 1}, "pageSize"},
		{"unknown status", encounter.ListOptions{Statuses: []encounter.Status{"lost"}}, "status"},
	} {
		_, err := f.store.List(ctx, f.clinic, tc.opts)
		he := wantError(t, err, http.StatusBadRequest, apierr.CodeInvalidArgument)
		if fields := he.Details.(map[string]any)["fields"].([]apierr.FieldError); len(fields) != 1 || fields[0].Field != tc.field {
			t.Errorf("%s: fields %+v, want %s", tc.name, fields, tc.field)
		}
	}
	// The same token is accepted with the statuses in another order.
	if _, err := f.store.List(ctx, f.clinic, encounter.ListOptions{PageSize: 1, PageToken: first.NextPageToken,
		Statuses: []encounter.Status{encounter.StatusWaiting, encounter.StatusWaiting}}); err != nil {
		t.Errorf("same filter, duplicated status: %v", err)
	}
}

func TestRecordRead(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a, b := f.checkIn(), f.checkIn()
	doctor := f.actor(auth.RoleDoctor)
	ctx, requestID := reqCtx(doctor)
	if err := f.store.RecordRead(ctx, f.clinic, encounter.AuditList, a, b); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range f.auditRecords(f.clinic) {
		if r.Action != encounter.AuditList {
			continue
		}
		if r.ActorUID != doctor.UID || r.ActorRole != "doctor" || r.RequestID != requestID || r.ResourceType != "encounter" {
			t.Errorf("record %+v", r)
		}
		got[r.ResourceID] = r.PatientID
	}
	if diff := cmp.Diff(map[string]string{a.ID: a.PatientID, b.ID: b.PatientID}, got); diff != "" {
		t.Errorf("read records (-want +got):\n%s", diff)
	}
}

package main

import (
	"context"
	"fmt"
	"sort"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/firestore/apiv1/firestorepb"

	"github.com/medi-os/medi/shared/encounter"
	"github.com/medi-os/medi/shared/patient"
	"github.com/medi-os/medi/shared/triagerecord"
)

// Check is one reconciled count: what the 2xx answers say against what Firestore holds.
type Check struct {
	What      string
	API       int
	Firestore int
}

// OK reports whether the counts agree.
func (c Check) OK() bool { return c.API == c.Firestore }

// Reconciliation is the comparison of the run's 2xx answers with Firestore.
type Reconciliation struct {
	Checks []Check
	// Details name the encounters or notes that differ (ids only, at most maxDetails).
	Details []string
}

// OK reports whether every check agrees.
func (r Reconciliation) OK() bool {
	for _, c := range r.Checks {
		if !c.OK() {
			return false
		}
	}
	return len(r.Details) == 0
}

const maxDetails = 20

// reconcile counts what the run clinic holds in Firestore and compares it with the
// ledger. from..to is the measured window: fixtures were written before it.
func reconcile(ctx context.Context, fs *firestore.Client, clinicID string, l *ledger, from, to time.Time) (Reconciliation, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var r Reconciliation
	detail := func(format string, a ...any) {
		if len(r.Details) < maxDetails {
			r.Details = append(r.Details, fmt.Sprintf(format, a...))
		}
	}
	clinic := fs.Collection("clinics").Doc(clinicID)

	patients, err := count(ctx, clinic.Collection(patient.Collection).Query)
	if err != nil {
		return r, err
	}
	encounters, err := count(ctx, clinic.Collection(encounter.CollectionEncounters).Query)
	if err != nil {
		return r, err
	}
	r.Checks = append(r.Checks,
		Check{"patients registered", l.ok[epRegister], patients - l.fixtures.patients},
		Check{"encounters checked in", l.ok[epCheckIn], encounters - l.fixtures.encounters})

	// Every encounter the run touched: its status, its eventCount and its events.
	ids := make([]string, 0, len(l.encounters))
	for id := range l.encounters {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	type found struct {
		status                         string
		eventCount, events, inRunMoves int
		inRunCheckIns                  int
		err                            error
	}
	got := make([]found, len(ids))
	err = parallel(ctx, len(ids), 16, func(ctx context.Context, i int) error {
		ref := clinic.Collection(encounter.CollectionEncounters).Doc(ids[i])
		snap, err := ref.Get(ctx)
		if err != nil {
			return fmt.Errorf("reading encounter %s: %w", ids[i], err)
		}
		var e encounter.Encounter
		if err := snap.DataTo(&e); err != nil {
			return err
		}
		evs, err := ref.Collection(encounter.CollectionEvents).Documents(ctx).GetAll()
		if err != nil {
			return err
		}
		f := found{status: string(e.Status), eventCount: e.EventCount, events: len(evs)}
		for _, d := range evs {
			var ev encounter.Event
			if err := d.DataTo(&ev); err != nil {
				return err
			}
			if ev.At.Before(from) {
				continue
			}
			if ev.Action == encounter.ActionCheckIn {
				f.inRunCheckIns++
			} else {
				f.inRunMoves++
			}
		}
		got[i] = f
		return nil
	})
	if err != nil {
		return r, err
	}
	inState, moves, checkIns := 0, 0, 0
	for i, id := range ids {
		want, f := l.encounters[id], got[i]
		moves += f.inRunMoves
		checkIns += f.inRunCheckIns
		if f.status == want.Status && f.eventCount == want.Events && f.events == want.Events {
			inState++
			continue
		}
		detail("encounter %s: Firestore status %s with %d events (eventCount %d); the answers said %s with %d",
			id, f.status, f.events, f.eventCount, want.Status, want.Events)
	}
	r.Checks = append(r.Checks,
		Check{"check-in events written in the run", l.ok[epCheckIn], checkIns},
		Check{"status changes (transitions + triage moves)", l.ok[epTransition] + l.moved, moves},
		Check{"encounters in the status the answers said", len(ids), inState})

	// Notes: one version per 2xx edit on top of the draft.
	versions := 0
	for id, want := range l.notes {
		n, err := count(ctx, clinic.Collection("notes").Doc(id).Collection("versions").Query)
		if err != nil {
			return r, err
		}
		versions += n
		if n != want {
			detail("note %s: %d versions in Firestore, %d expected", id, n, want)
		}
	}
	r.Checks = append(r.Checks, Check{"note versions written by edits", l.ok[epNoteEdit], versions - len(l.notes)})

	// Audit records written in the window, by action: one per change, in its transaction.
	docs, err := clinic.Collection("audit").Where("time", ">=", from).Where("time", "<=", to).Documents(ctx).GetAll()
	if err != nil {
		return r, fmt.Errorf("reading audit records: %w", err)
	}
	byAction := map[string]int{}
	for _, d := range docs {
		a, _ := d.Data()["action"].(string)
		byAction[a]++
	}
	for _, c := range []struct {
		action string
		want   int
	}{
		{patient.ActionCreate, l.ok[epRegister]},
		{encounter.AuditCheckIn, l.ok[epCheckIn]},
		{triagerecord.ActionRecord, l.ok[epTriage]},
		{encounter.AuditTransition, l.ok[epTransition] + l.moved},
		{"note.edit", l.ok[epNoteEdit]},
	} {
		r.Checks = append(r.Checks, Check{"audit records " + c.action, c.want, byAction[c.action]})
	}
	return r, nil
}

// count runs a count aggregation.
func count(ctx context.Context, q firestore.Query) (int, error) {
	res, err := q.NewAggregationQuery().WithCount("n").Get(ctx)
	if err != nil {
		return 0, fmt.Errorf("count: %w", err)
	}
	v, ok := res["n"].(*firestorepb.Value)
	if !ok {
		return 0, fmt.Errorf("count: unexpected result %T", res["n"])
	}
	return int(v.GetIntegerValue()), nil
}

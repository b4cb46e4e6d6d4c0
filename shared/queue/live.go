package queue

import (
	"context"
	"time"

	"cloud.google.com/go/firestore"
)

// LiveBoard is the board as it stands at now, for a client that follows both the stored
// board and the clinic's open encounters (a listener on Store.OpenEncounters, read into
// src): the entries and their order come from src when it is a newer read than the
// stored board's (the same Order as the projector's, at now), and the wait estimates,
// doctors on duty and estimator from the stored board. An entry the stored board does
// not list yet is Provisional and has no estimate; the other entries keep their stored
// estimate less the whole minutes since the stored board was built (as SetEstimates).
// Version stays the stored board's; SourceReadAt is src's read.
//
// When the stored board was built from a read at least as new as src, it is returned
// as stored. LiveBoard is pure; the stored board stays the only document written.
func LiveBoard(stored Board, src Source, now time.Time) Board {
	if src.ReadAt.IsZero() || !src.ReadAt.After(stored.SourceReadAt) {
		return stored
	}
	b, _ := orderBoard(stored.ClinicID, Snapshot{
		Now: now, DoctorsOnDuty: stored.DoctorsOnDuty, Queue: src.Queue, InConsultation: src.InConsultation,
	})
	b.Version, b.SourceReadAt = stored.Version, src.ReadAt
	est := Estimates{ByEncounter: make(map[string]WaitEstimate, len(stored.Entries)), At: stored.BuiltAt}
	known := make(map[string]bool, len(stored.Entries))
	for _, e := range stored.Entries {
		known[e.EncounterID] = true
		if e.WaitEstimate != nil {
			est.ByEncounter[e.EncounterID] = *e.WaitEstimate
		}
	}
	SetEstimates(&b, est)
	b.Estimator = stored.Estimator
	for i := range b.Entries {
		b.Entries[i].Provisional = !known[b.Entries[i].EncounterID]
	}
	return b
}

// OpenSet is a clinic's open encounters as a snapshot listener on Store.OpenEncounters
// reports them: Apply each snapshot's changes (each encounter is decoded once per
// change, not once per snapshot), then Source.
type OpenSet struct {
	readAt time.Time
	queue  map[string]Waiting
	cons   map[string]Consultation
}

// NewOpenSet returns an empty set (no read yet).
func NewOpenSet() *OpenSet {
	return &OpenSet{queue: map[string]Waiting{}, cons: map[string]Consultation{}}
}

// Apply applies one listener snapshot. A document that does not decode is logged by
// id and left out.
func (o *OpenSet) Apply(ctx context.Context, snap *firestore.QuerySnapshot) {
	for _, ch := range snap.Changes {
		id := ch.Doc.Ref.ID
		delete(o.queue, id)
		delete(o.cons, id)
		if ch.Kind == firestore.DocumentRemoved {
			continue
		}
		var src Source
		src.AddOpen(ctx, []*firestore.DocumentSnapshot{ch.Doc})
		for _, w := range src.Queue {
			o.queue[id] = w
		}
		for _, c := range src.InConsultation {
			o.cons[id] = c
		}
	}
	if snap.ReadTime.After(o.readAt) {
		o.readAt = snap.ReadTime.Truncate(time.Microsecond)
	}
}

// Source is the set as a Source (ReadAt: the latest snapshot's read time; zero before
// the first). Doctors on duty and the location are not part of it.
func (o *OpenSet) Source() Source {
	src := Source{ReadAt: o.readAt, Queue: make([]Waiting, 0, len(o.queue)), InConsultation: make([]Consultation, 0, len(o.cons))}
	for _, w := range o.queue {
		src.Queue = append(src.Queue, w)
	}
	for _, c := range o.cons {
		src.InConsultation = append(src.InConsultation, c)
	}
	return src
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"cloud.google.com/go/firestore"
	vegeta "github.com/tsenart/vegeta/v12/lib"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/medi-os/medi/shared/audit"
	"github.com/medi-os/medi/shared/encounter"
	"github.com/medi-os/medi/shared/patient"
	"github.com/medi-os/medi/shared/queue"
	"github.com/medi-os/medi/shared/triage"
	"github.com/medi-os/medi/shared/triagerecord"
)

// floor performs, for each write endpoint, the Firestore transaction its handler
// performs (same documents, same model types, reads before writes), straight against
// the emulator with the Go client: no gateway, HTTP, token check, JSON or Pub/Sub. Its
// latency is what the API cannot go below on this machine; API ÷ floor is the API's
// overhead. It writes to its own clinic (<run clinic>-floor), so the reconciliation of
// the API's writes is not disturbed.
type floor struct {
	fs         *firestore.Client
	clinicID   string
	boardOf    string // the run clinic, whose queue board the floor reads
	patients   pool[string]
	encounters pool[string]
	notes      pool[string]
	noteDoc    map[string]any // a real drafted note and its first version, copied
	versionDoc map[string]any
	assessment triagerecord.Result
	input      map[string]any
	seq        atomic.Int64
}

// errFloorBusy is a floor tick that found every document of its pool in use: like a
// starved API tick, it is not sent and not counted in the latencies.
var errFloorBusy = errors.New("floor: every document of the pool is busy")

// floorEncounters is the number of encounters the triage and transition shapes rotate
// over (one operation per encounter at a time, as in the API workload).
const floorEncounters = 256

func (f *floor) clinic() *firestore.DocumentRef { return f.fs.Collection("clinics").Doc(f.clinicID) }

func (f *floor) encounterRef(id string) *firestore.DocumentRef {
	return f.clinic().Collection(encounter.CollectionEncounters).Doc(id)
}

// newFloor prepares the floor clinic: encounters to change and, when the run has notes,
// copies of one drafted note to edit.
func newFloor(ctx context.Context, fs *firestore.Client, runClinic string, noteID string, notes int) (*floor, error) {
	f := &floor{fs: fs, clinicID: runClinic + "-floor", boardOf: runClinic}
	var in triage.Input
	if err := json.Unmarshal(jsonBody(triageBody()), &in); err != nil {
		return nil, err
	}
	res, err := triagerecord.Assess(in)
	if err != nil {
		return nil, fmt.Errorf("floor assessment: %w", err)
	}
	f.assessment = res
	_ = json.Unmarshal(jsonBody(triageBody()), &f.input)

	bw := fs.BulkWriter(ctx)
	now := time.Now().UTC()
	for i := range floorEncounters {
		id := fmt.Sprintf("floor-enc-%03d", i)
		e := encounter.Encounter{ClinicID: f.clinicID, PatientID: fmt.Sprintf("floor-pat-%03d", i), Status: encounter.StatusWaiting,
			ChiefComplaint: "load test", ArrivalMode: encounter.ArrivalWalkIn, ArrivedAt: now,
			StatusTimes: map[string]time.Time{string(encounter.StatusWaiting): now}, EventCount: 1, Version: 1,
			CreatedBy: "floor", UpdatedAt: now}
		if _, err := bw.Set(f.encounterRef(id), e); err != nil {
			return nil, err
		}
		f.encounters.put(id)
	}
	if noteID != "" && notes > 0 {
		src := fs.Collection("clinics").Doc(runClinic).Collection("notes").Doc(noteID)
		ns, err := src.Get(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading a drafted note for the floor: %w", err)
		}
		vs, err := src.Collection("versions").Doc("1").Get(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading a drafted note's first version for the floor: %w", err)
		}
		f.noteDoc, f.versionDoc = ns.Data(), vs.Data()
		for i := range notes {
			id := fmt.Sprintf("floor-note-%03d", i)
			if _, err := bw.Set(f.clinic().Collection("notes").Doc(id), f.noteDoc); err != nil {
				return nil, err
			}
			f.notes.put(id)
		}
	}
	bw.End()
	return f, nil
}

// op returns the floor operation of endpoint (nil when it has none).
func (f *floor) op(endpoint string) func(context.Context) error {
	switch endpoint {
	case epRegister:
		return f.register
	case epCheckIn:
		return f.checkIn
	case epTriage:
		return f.triage
	case epTransition:
		return f.transition
	case epQueue:
		return f.readBoard
	case epNoteEdit:
		if f.noteDoc == nil {
			return nil
		}
		return f.editNote
	}
	return nil
}

// register: MRN index read, then index entry + patient + audit record.
func (f *floor) register(ctx context.Context) error {
	ref := f.clinic().Collection(patient.Collection).NewDoc()
	now := time.Now().UTC()
	mrn := fmt.Sprintf("FLOOR-%08d", f.seq.Add(1))
	idx := f.clinic().Collection(patient.MRNIndexCollection).Doc(patient.NormalizeMRN(mrn))
	p := patient.Patient{ClinicID: f.clinicID, MRN: mrn, GivenName: "Load", FamilyName: "Floor", BirthDate: "1980-01-01",
		Sex: "unknown", Allergies: []patient.Allergy{}, Medications: []patient.Medication{}, Problems: []patient.Problem{},
		Version: 1, CreatedAt: now, CreatedBy: "floor", UpdatedAt: now, UpdatedBy: "floor",
		NameKey: "floor load", MRNKey: patient.NormalizeMRN(mrn)}
	err := f.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		switch _, err := tx.Get(idx); {
		case err == nil:
			return errors.New("floor: MRN already taken")
		case status.Code(err) != codes.NotFound:
			return err
		}
		if err := tx.Create(idx, map[string]any{"patientId": ref.ID, "mrn": mrn, "updatedAt": now}); err != nil {
			return err
		}
		if err := tx.Create(ref, p); err != nil {
			return err
		}
		return audit.New(ctx, f.clinicID, patient.ActionCreate, patient.ResourceType, ref.ID).ForPatient(ref.ID).InTransaction(f.fs, tx)
	})
	if err == nil {
		f.patients.put(ref.ID)
	}
	return err
}

// checkIn: patient + open pointer read, then encounter + first event + open pointer +
// outbox entry + audit record.
func (f *floor) checkIn(ctx context.Context) error {
	pid, ok := f.patients.take()
	if !ok {
		pid = fmt.Sprintf("floor-unregistered-%d", f.seq.Add(1))
	}
	ref := f.clinic().Collection(encounter.CollectionEncounters).NewDoc()
	openRef := f.clinic().Collection(encounter.CollectionOpen).Doc(pid)
	return f.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		if _, err := tx.GetAll([]*firestore.DocumentRef{f.clinic().Collection(patient.Collection).Doc(pid), openRef}); err != nil {
			return err
		}
		now := time.Now().UTC()
		e := encounter.Encounter{ClinicID: f.clinicID, PatientID: pid, Status: encounter.StatusWaiting, ChiefComplaint: "load test",
			ArrivalMode: encounter.ArrivalWalkIn, ArrivedAt: now, StatusTimes: map[string]time.Time{string(encounter.StatusWaiting): now},
			EventCount: 1, Version: 1, CreatedBy: "floor", UpdatedAt: now}
		ev := encounter.Event{Seq: 1, Action: encounter.ActionCheckIn, To: encounter.StatusWaiting, ActorUID: "floor", ActorRole: "receptionist", At: now}
		if err := tx.Create(ref, e); err != nil {
			return err
		}
		if err := tx.Create(ref.Collection(encounter.CollectionEvents).Doc(encounter.EventID(1)), ev); err != nil {
			return err
		}
		if err := tx.Set(openRef, map[string]any{"encounterId": ref.ID, "since": now}); err != nil {
			return err
		}
		if err := f.outboxTx(tx, ref.ID, 1, now); err != nil {
			return err
		}
		return audit.New(ctx, f.clinicID, encounter.AuditCheckIn, "encounter", ref.ID).ForPatient(pid).InTransaction(f.fs, tx)
	})
}

// change reads one of the floor's encounters and writes the update, the next event,
// any extra documents and the audit records, as a transition (and triage) does.
func (f *floor) change(ctx context.Context, extra func(tx *firestore.Transaction, enc *firestore.DocumentRef, e encounter.Encounter) error, actions ...string) error {
	id, ok := f.encounters.take()
	if !ok {
		return errFloorBusy
	}
	defer f.encounters.put(id)
	ref := f.encounterRef(id)
	return f.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		snap, err := tx.Get(ref)
		if err != nil {
			return err
		}
		var e encounter.Encounter
		if err := snap.DataTo(&e); err != nil {
			return err
		}
		now := time.Now().UTC()
		// waiting -> triaged -> in_consultation -> triaged (retriage) -> ...
		next, action := encounter.StatusTriaged, encounter.ActionTriage
		switch e.Status {
		case encounter.StatusTriaged:
			next, action = encounter.StatusInConsultation, encounter.ActionStart
		case encounter.StatusInConsultation:
			action = encounter.ActionRetriage
		}
		if err := tx.Update(ref, []firestore.Update{{Path: "status", Value: next}, {Path: "version", Value: e.Version + 1},
			{Path: "eventCount", Value: e.EventCount + 1}, {Path: "updatedAt", Value: now}}); err != nil {
			return err
		}
		ev := encounter.Event{Seq: e.EventCount + 1, Action: action, From: e.Status, To: next, ActorUID: "floor", ActorRole: "nurse", At: now}
		if err := tx.Create(ref.Collection(encounter.CollectionEvents).Doc(encounter.EventID(ev.Seq)), ev); err != nil {
			return err
		}
		// One outbox entry per event announced: the transition's, and triage's
		// encounter.triaged (one per audit action).
		if err := f.outboxTx(tx, id, len(actions), now); err != nil {
			return err
		}
		if extra != nil {
			if err := extra(tx, ref, e); err != nil {
				return err
			}
		}
		for _, a := range actions {
			if err := audit.New(ctx, f.clinicID, a, "encounter", id).ForPatient(e.PatientID).InTransaction(f.fs, tx); err != nil {
				return err
			}
		}
		return nil
	})
}

// triage: encounter read, then assessment + encounter update + event + two outbox
// entries + two audit records (the assessment and the transition).
func (f *floor) triage(ctx context.Context) error {
	return f.change(ctx, func(tx *firestore.Transaction, ref *firestore.DocumentRef, e encounter.Encounter) error {
		rec := triagerecord.Record{Seq: 1, ClinicID: f.clinicID, EncounterID: ref.ID, PatientID: e.PatientID, Input: f.input,
			Result: f.assessment, AssessedAt: time.Now().UTC(), AssessedBy: "floor", AssessedByRole: "nurse", Confirmations: []triagerecord.Confirmation{}}
		return tx.Create(ref.Collection(triagerecord.Collection).NewDoc(), rec)
	}, triagerecord.ActionRecord, encounter.AuditTransition)
}

// transition: encounter read, then encounter update + event + outbox entry + audit record.
func (f *floor) transition(ctx context.Context) error {
	return f.change(ctx, nil, encounter.AuditTransition)
}

// floorOutbox is where the floor writes its outbox entries: the same size of document as
// an encounterOutbox entry, in a collection encounter-outbox does not read (the floor's
// changes announce nothing).
const floorOutbox = "floorOutbox"

// outboxTx writes, in tx, n entries like those the API writes to the encounter outbox
// with each change (one per event it announces).
func (f *floor) outboxTx(tx *firestore.Transaction, encounterID string, n int, now time.Time) error {
	for i := range n {
		envelope := fmt.Appendf(nil, `{"eventId":"%036d","type":"encounter.transitioned","schemaVersion":1,"clinicId":%q,"occurredAt":%q,"data":{"encounterId":%q,"patientId":"floor-patient-00000000","seq":%d,"action":"triage","from":"waiting","to":"triaged","at":%q,"version":%d}}`,
			i, f.clinicID, now.Format(time.RFC3339Nano), encounterID, i+1, now.Format(time.RFC3339Nano), i+1)
		if err := tx.Create(f.clinic().Collection(floorOutbox).NewDoc(), map[string]any{
			"encounterId": encounterID, "seq": i + 1, "type": "encounter.transitioned", "envelope": envelope, "recordedAt": now,
		}); err != nil {
			return err
		}
	}
	return nil
}

// readBoard: the one document GET /v1/queue reads, decoded.
func (f *floor) readBoard(ctx context.Context) error {
	snap, err := f.fs.Collection("clinics").Doc(f.boardOf).Collection("boards").Doc("queue").Get(ctx)
	if status.Code(err) == codes.NotFound {
		return nil
	}
	if err != nil {
		return err
	}
	// Decoded into the model type, as the floor's writes decode what they read: serving
	// a board cannot avoid it.
	_, err = queue.DecodeBoard(snap)
	return err
}

// editNote: note read, then new version + note + audit record.
func (f *floor) editNote(ctx context.Context) error {
	id, ok := f.notes.take()
	if !ok {
		return errFloorBusy
	}
	defer f.notes.put(id)
	ref := f.clinic().Collection("notes").Doc(id)
	return f.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		snap, err := tx.Get(ref)
		if err != nil {
			return err
		}
		n := snap.Data()
		cur, _ := n["currentVersion"].(int64)
		v := map[string]any{}
		for k, x := range f.versionDoc {
			v[k] = x
		}
		v["number"], v["createdAt"] = cur+1, time.Now().UTC()
		if err := tx.Create(ref.Collection("versions").Doc(fmt.Sprint(cur+1)), v); err != nil {
			return err
		}
		n["currentVersion"], n["updatedAt"] = cur+1, time.Now().UTC()
		if err := tx.Set(ref, n); err != nil {
			return err
		}
		pid, _ := n["patientId"].(string)
		return audit.New(ctx, f.clinicID, "note.edit", "note", id).ForPatient(pid).InTransaction(f.fs, tx)
	})
}

// pacer returns vegeta's constant pacer for a rate per second that may be fractional.
func pacer(rate float64) vegeta.ConstantPacer {
	return vegeta.ConstantPacer{Freq: int(math.Round(rate * 100)), Per: 100 * time.Second}
}

// runFloor calls op at rate for du in an open model (as vegeta does: a call is started
// on schedule whether or not earlier ones have returned) and returns its metrics.
func runFloor(ctx context.Context, name string, rate float64, du time.Duration, op func(context.Context) error) *vegeta.Metrics {
	p := pacer(rate)
	results := make(chan *vegeta.Result, 256)
	var m vegeta.Metrics
	done := make(chan struct{})
	go func() {
		defer close(done)
		for r := range results {
			m.Add(r)
		}
	}()
	var wg sync.WaitGroup
	began := time.Now()
	for count := uint64(0); ctx.Err() == nil; count++ {
		elapsed := time.Since(began)
		if elapsed > du {
			break
		}
		wait, stop := p.Pace(elapsed, count)
		if stop {
			break
		}
		time.Sleep(wait)
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			err := op(cctx)
			cancel()
			if errors.Is(err, errFloorBusy) {
				return
			}
			r := &vegeta.Result{Attack: name, Timestamp: start, Latency: time.Since(start), Code: 200, Method: "FIRESTORE", URL: name}
			if err != nil {
				r.Code, r.Error = 0, err.Error()
			}
			results <- r
		}()
	}
	wg.Wait()
	close(results)
	<-done
	m.Close()
	return &m
}

package triagerecord

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/medi-os/medi/shared/audit"
	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/encounter"
	"github.com/medi-os/medi/shared/events"
	"github.com/medi-os/medi/shared/testenv"
	"github.com/medi-os/medi/shared/triage"
)

func ip(v int) *int          { return &v }
func fp(v float64) *float64  { return &v }
func bp(v bool) *bool        { return &v }
func lp(v triage.Level) *int { n := int(v); return &n }
func uniqueID(prefix string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])
}

// adultInput is a complete adult assessment that ends at point D with level 3 (pain 4,
// two resources, every vital sign recorded and outside the danger zone).
func adultInput() triage.Input {
	return triage.Input{
		AgeYears:          ip(40),
		Sex:               triage.SexFemale,
		ChiefComplaint:    "twisted ankle, swelling",
		MentalStatus:      triage.MentalAlert,
		PainScore:         ip(4),
		ExpectedResources: []triage.ResourceType{triage.ResourceLabs, triage.ResourceECGXRay},
		Vitals: triage.Vitals{
			HeartRate: ip(80), RespiratoryRate: ip(16), SystolicBP: ip(125), DiastolicBP: ip(80),
			SpO2: ip(98), TemperatureC: fp(36.8), OnSupplementalOxygen: bp(false),
		},
	}
}

// withPain returns adultInput with pain p (>= 7 fires point B: level 2).
func withPain(p int) triage.Input {
	in := adultInput()
	in.PainScore = ip(p)
	return in
}

// recorder is an events.Publisher that keeps what it was given.
type recorder struct {
	mu   sync.Mutex
	sent []published
}

type published struct {
	Topic       string
	Envelope    events.Envelope
	OrderingKey string
}

func (r *recorder) Publish(_ context.Context, topic string, e events.Envelope, key string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, published{topic, e, key})
	return "id", nil
}

func (r *recorder) ofType(typ string) []published {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []published
	for _, p := range r.sent {
		if p.Envelope.Type == typ {
			out = append(out, p)
		}
	}
	return out
}

// fixture is one test's Firestore project with a clinic and a nurse.
type fixture struct {
	// birthDate is the seeded patients' birth date (40 years old when empty).
	birthDate string
	fs        *firestore.Client
	pub       *recorder
	svc       *Service
	clinic    string
	nurse     auth.Principal
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST")
	fs, err := firestore.NewClient(context.Background(), testenv.ProjectID(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fs.Close() })
	pub := &recorder{}
	clinic := uniqueID("clinic")
	return &fixture{
		fs: fs, pub: pub, svc: NewService(fs, pub, "encounter-events"), clinic: clinic,
		nurse: auth.Principal{UID: uniqueID("nurse"), Role: auth.RoleNurse, ClinicID: clinic},
	}
}

// as returns a context carrying p as the caller.
func as(p auth.Principal) context.Context {
	return auth.WithPrincipal(context.Background(), p)
}

// seedEncounter writes an encounter of the fixture's clinic with status st, arrived
// `ago` before now, and returns its id. mutate may adjust it before it is written.
func (f *fixture) seedEncounter(t *testing.T, st encounter.Status, ago time.Duration, mutate func(*encounter.Encounter)) string {
	t.Helper()
	return f.seedEncounterIn(t, f.clinic, st, ago, mutate)
}

func (f *fixture) seedEncounterIn(t *testing.T, clinic string, st encounter.Status, ago time.Duration, mutate func(*encounter.Encounter)) string {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	arrived := now.Add(-ago)
	e := encounter.Encounter{
		ClinicID: clinic, PatientID: uniqueID("patient"), Status: st, ChiefComplaint: "seeded",
		ArrivalMode: encounter.ArrivalWalkIn, ArrivedAt: arrived,
		StatusTimes: map[string]time.Time{string(encounter.StatusWaiting): arrived},
		EventCount:  1, Version: 1, CreatedBy: "seed", UpdatedAt: arrived,
	}
	if st != encounter.StatusWaiting {
		e.StatusTimes[string(st)] = arrived.Add(time.Minute)
	}
	if mutate != nil {
		mutate(&e)
	}
	ref := f.fs.Collection("clinics").Doc(clinic).Collection("encounters").NewDoc()
	if _, err := ref.Create(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	// The patient, whose birth date gives the assessment its age (40 unless set).
	birth := f.birthDate
	if birth == "" {
		birth = birthDateForAge(40)
	}
	if _, err := f.fs.Collection("clinics").Doc(clinic).Collection("patients").Doc(e.PatientID).
		Set(context.Background(), map[string]any{"birthDate": birth}); err != nil {
		t.Fatal(err)
	}
	return ref.ID
}

// birthDateForAge is a birth date that makes a patient `years` old today (and for the next
// hundred days).
func birthDateForAge(years int) string {
	return time.Now().UTC().AddDate(-years, 0, -100).Format(time.DateOnly)
}

func (f *fixture) encounter(t *testing.T, id string) encounter.Encounter {
	t.Helper()
	snap, err := f.fs.Collection("clinics").Doc(f.clinic).Collection("encounters").Doc(id).Get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var e encounter.Encounter
	if err := snap.DataTo(&e); err != nil {
		t.Fatal(err)
	}
	e.ID = id
	return e
}

// auditRecords returns the clinic's audit records for encounter id, oldest first.
func (f *fixture) auditRecords(t *testing.T, id string) []audit.Record {
	t.Helper()
	docs, err := f.fs.Collection("clinics").Doc(f.clinic).Collection(audit.Collection).
		Where("resourceId", "==", id).Documents(context.Background()).GetAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []audit.Record
	for _, d := range docs {
		var r audit.Record
		if err := d.DataTo(&r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

func actions(rs []audit.Record) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Action)
	}
	return out
}

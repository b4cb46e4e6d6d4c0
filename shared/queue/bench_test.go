package queue

import (
	"fmt"
	"testing"
	"time"

	"github.com/medi-os/medi/shared/encounter"
	"github.com/medi-os/medi/shared/triage"
)

// burstSource is a clinic just after a burst: n untriaged patients who arrived over the
// last few minutes, a few triaged ones, two doctors busy.
func burstSource(n int) (Source, History) {
	src := Source{ReadAt: testNow, DoctorsOnDuty: 2, Location: time.UTC}
	for i := range n {
		w := Waiting{EncounterID: fmt.Sprintf("e%04d", i), PatientID: fmt.Sprintf("p%04d", i),
			Status: encounter.StatusWaiting, ArrivedAt: testNow.Add(-time.Duration(n-i) * 500 * time.Millisecond)}
		if i%10 == 0 {
			w.Level, w.Status = triage.Level(1+i%5), encounter.StatusTriaged
		}
		src.Queue = append(src.Queue, w)
	}
	src.InConsultation = []Consultation{{EncounterID: "k1", Level: triage.Level3, StartedAt: testNow.Add(-10 * time.Minute)},
		{EncounterID: "k2", Level: triage.Level4, StartedAt: testNow.Add(-3 * time.Minute)}}
	return src, PriorHistory()
}

func BenchmarkBuildBoard(b *testing.B) {
	for _, n := range []int{40, 400} {
		src, h := burstSource(n)
		b.Run(fmt.Sprintf("queue=%d", n), func(b *testing.B) {
			for b.Loop() {
				BuildBoard("c1", NewSnapshot(testNow, src, h), Estimator{})
			}
		})
	}
}

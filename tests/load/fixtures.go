package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/medi-os/medi/tests/fixtures"
)

// fixtureConcurrency bounds the set-up requests in flight (set-up is not measured).
const fixtureConcurrency = 4

// parallel runs f(i) for i in [0,n) on k workers and returns the first error.
func parallel(ctx context.Context, n, k int, f func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(k, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f(ctx, i); err != nil {
					cancel(err)
				}
			}
		}()
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return context.Cause(ctx)
}

// stage is how far a fixture encounter is taken before the run.
type stage int

const (
	stagePatient stage = iota // registered, not checked in
	stageWaiting
	stageTriaged
	stageInConsultation
)

// fixture takes one new patient through the API up to stage s and returns the patient
// and encounter ids.
func (w *workload) fixture(ctx context.Context, s stage) (patientID, encounterID string, err error) {
	var p struct {
		ID string `json:"id"`
	}
	if err := call(ctx, w.base, http.MethodPost, "/v1/patients", w.clinic.Tokens[roleReceptionist], w.registration("F"), &p, http.StatusCreated); err != nil {
		return "", "", err
	}
	w.ledger.patient(p.ID, true)
	if s == stagePatient {
		return p.ID, "", nil
	}
	var e struct {
		ID string `json:"id"`
	}
	if err := call(ctx, w.base, http.MethodPost, "/v1/encounters", w.clinic.Tokens[roleReceptionist], checkInBody(p.ID), &e, http.StatusCreated); err != nil {
		return "", "", err
	}
	w.ledger.checkedIn(e.ID, true)
	if s == stageWaiting {
		return p.ID, e.ID, nil
	}
	if err := call(ctx, w.base, http.MethodPost, "/v1/triage/"+e.ID, w.clinic.Tokens[roleNurse], recordBody(), nil, http.StatusCreated); err != nil {
		return "", "", err
	}
	w.ledger.transitioned(e.ID, stTriaged)
	if s == stageTriaged {
		return p.ID, e.ID, nil
	}
	if err := call(ctx, w.base, http.MethodPost, "/v1/encounters/"+e.ID+"/transitions", w.clinic.Tokens[roleDoctor],
		map[string]any{"to": stInConsultation}, nil, http.StatusOK); err != nil {
		return "", "", err
	}
	w.ledger.transitioned(e.ID, stInConsultation)
	return p.ID, e.ID, nil
}

// prefill puts buffer's worth of work (at each endpoint's rate) into every pool, so
// that an endpoint does not starve while the one feeding it is still answering.
func (w *workload) prefill(ctx context.Context, rates Rates, buffer time.Duration) error {
	n := func(endpoint string, share float64) int {
		return int(math.Ceil(rates[endpoint] * buffer.Seconds() * share))
	}
	plan := []struct {
		s    stage
		n    int
		pool *pool[string]
	}{
		{stagePatient, n(epCheckIn, 1), &w.patients},
		{stageWaiting, n(epTriage, 1), &w.waiting},
		{stageTriaged, n(epTransition, 1), &w.triaged},
		{stageInConsultation, n(epTransition, 0.5), &w.inConsult},
	}
	for _, p := range plan {
		err := parallel(ctx, p.n, fixtureConcurrency, func(ctx context.Context, _ int) error {
			pid, eid, err := w.fixture(ctx, p.s)
			if err != nil {
				return err
			}
			if p.s == stagePatient {
				p.pool.put(pid)
			} else {
				p.pool.put(eid)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("fixtures: %w", err)
		}
	}
	return nil
}

// draftTimeout bounds the wait for the scribe pipeline to draft a fixture note.
const draftTimeout = 3 * time.Minute

// noteFixtures takes n encounters into consultation, uploads a transcript for each
// through the scribe API and waits for the drafted notes (upload -> ingest -> worker).
func (w *workload) noteFixtures(ctx context.Context, n int) error {
	return parallel(ctx, n, fixtureConcurrency, func(ctx context.Context, _ int) error {
		_, eid, err := w.fixture(ctx, stageInConsultation)
		if err != nil {
			return err
		}
		var created struct {
			Session struct {
				ID string `json:"id"`
			} `json:"session"`
			Upload struct {
				URL     string            `json:"url"`
				Method  string            `json:"method"`
				Headers map[string]string `json:"headers"`
			} `json:"upload"`
		}
		if err := call(ctx, w.base, http.MethodPost, "/v1/scribe/sessions", w.clinic.Tokens[roleNurse],
			map[string]any{"encounterId": eid, "contentType": "text/vtt", "sizeBytes": len(fixtures.ConsultationVTT)}, &created, http.StatusCreated); err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, created.Upload.Method, created.Upload.URL, bytes.NewReader([]byte(fixtures.ConsultationVTT)))
		if err != nil {
			return err
		}
		for k, v := range created.Upload.Headers {
			req.Header.Set(k, v)
		}
		resp, err := httpClient.Do(req)
		if err != nil {
			return fmt.Errorf("uploading a transcript: %w", err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("uploading a transcript: status %d", resp.StatusCode)
		}
		noteID, err := w.waitDraft(ctx, created.Session.ID)
		if err != nil {
			return err
		}
		nt, err := w.getNote(ctx, noteID)
		if err != nil {
			return err
		}
		w.ledger.mu.Lock()
		w.ledger.notes[nt.ID] = nt.Version
		w.ledger.mu.Unlock()
		w.notes.put(nt)
		return nil
	})
}

func (w *workload) waitDraft(ctx context.Context, sessionID string) (string, error) {
	deadline := time.Now().Add(draftTimeout)
	for {
		var s struct {
			Status string `json:"status"`
			NoteID string `json:"noteId"`
		}
		if err := call(ctx, w.base, http.MethodGet, "/v1/scribe/sessions/"+sessionID, w.clinic.Tokens[roleDoctor], nil, &s, http.StatusOK); err != nil {
			return "", err
		}
		switch {
		case s.Status == "drafted" && s.NoteID != "":
			return s.NoteID, nil
		case s.Status == "failed":
			return "", errors.New("the scribe pipeline failed a fixture transcript (see the scribe-worker log)")
		case time.Now().After(deadline):
			return "", fmt.Errorf("a fixture note was not drafted within %s (session %s)", draftTimeout, s.Status)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func (w *workload) getNote(ctx context.Context, id string) (note, error) {
	var n struct {
		ID             string      `json:"id"`
		CurrentVersion int         `json:"currentVersion"`
		Content        noteContent `json:"content"`
	}
	if err := call(ctx, w.base, http.MethodGet, "/v1/notes/"+id, w.clinic.Tokens[roleDoctor], nil, &n, http.StatusOK); err != nil {
		return note{}, err
	}
	return note{ID: n.ID, Version: n.CurrentVersion, Content: n.Content}, nil
}

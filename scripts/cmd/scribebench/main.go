// Command scribebench measures the AI scribe on a running local stack: for each run it
// creates a session, PUTs a transcript to the signed URL and polls until the draft note
// is readable, then prints p50 and p95 of "upload done -> draft visible" and the share
// of draft sentences that cite transcript segments. Numbers go into the docs, never into
// assertions.
//
// It needs the stack's environment (MEDI_BASE_URL, FIREBASE_AUTH_EMULATOR_HOST,
// FIRESTORE_EMULATOR_HOST, MEDI_STACK_PROJECT). The simplest way to get one:
//
//	MEDI_SCRIBE_BENCH=1 scripts/test ./scripts/cmd/scribebench -run TestMeasure -v
//	MEDI_SCRIBE_BENCH=1 MEDI_SCRIBE_BENCH_MINUTES=15 scripts/test ./scripts/cmd/scribebench -run TestMeasure -v
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"time"

	"cloud.google.com/go/firestore"
	firebase "firebase.google.com/go/v4"
	fbauth "firebase.google.com/go/v4/auth"

	"github.com/medi-os/medi/tests/fixtures"
)

// Result summarises a measurement.
type Result struct {
	Runs              int
	P50, P95, Max     time.Duration
	Sentences, Linked int
}

func main() {
	runs := flag.Int("runs", 20, "number of uploads")
	minutes := flag.Int("minutes", 0, "upload a synthetic plain-text consultation of this many minutes (0: the short WebVTT fixture)")
	flag.Parse()
	res, err := Measure(context.Background(), *runs, *minutes)
	if err != nil {
		fmt.Fprintln(os.Stderr, "scribebench:", err)
		os.Exit(1)
	}
	fmt.Println(res)
}

// String formats a result for the docs.
func (r Result) String() string {
	share := 0.0
	if r.Sentences > 0 {
		share = 100 * float64(r.Linked) / float64(r.Sentences)
	}
	return fmt.Sprintf("runs %d: upload -> draft visible p50 %s, p95 %s, max %s; sentences with evidence %d/%d (%.1f %%)",
		r.Runs, r.P50.Round(time.Millisecond), r.P95.Round(time.Millisecond), r.Max.Round(time.Millisecond), r.Linked, r.Sentences, share)
}

type client struct {
	base, token string
	http        *http.Client
}

func (c client) call(method, path string, body any, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		return resp.StatusCode, err
	}
	if out != nil && resp.StatusCode/100 == 2 {
		return resp.StatusCode, json.Unmarshal(env.Data, out)
	}
	return resp.StatusCode, nil
}

// Measure performs runs uploads against the stack named by the environment: the short
// WebVTT fixture, or with minutes > 0 a synthetic plain-text consultation that long.
func Measure(ctx context.Context, runs, minutes int) (Result, error) {
	body, contentType := []byte(fixtures.ConsultationVTT), "text/vtt"
	if minutes > 0 {
		body, contentType = []byte(fixtures.Consultation(minutes)), "text/plain"
	}
	base, project := os.Getenv("MEDI_BASE_URL"), os.Getenv("MEDI_STACK_PROJECT")
	if base == "" || project == "" || os.Getenv("FIREBASE_AUTH_EMULATOR_HOST") == "" || os.Getenv("FIRESTORE_EMULATOR_HOST") == "" {
		return Result{}, errors.New("MEDI_BASE_URL, MEDI_STACK_PROJECT and the emulator hosts must be set (run inside scripts/test)")
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	suffix := hex.EncodeToString(b)
	clinic, enc := "clinic-bench-"+suffix, "enc-bench-"+suffix
	token, err := nurseToken(ctx, project, clinic, suffix)
	if err != nil {
		return Result{}, err
	}
	fs, err := firestore.NewClient(ctx, project)
	if err != nil {
		return Result{}, err
	}
	defer fs.Close()
	if _, err := fs.Collection("clinics").Doc(clinic).Collection("encounters").Doc(enc).Set(ctx,
		map[string]any{"patientId": "pat-bench-" + suffix, "status": "in_consultation"}); err != nil {
		return Result{}, err
	}
	c := client{base: base, token: token, http: &http.Client{Timeout: 30 * time.Second}}
	var lat []time.Duration
	var res Result
	for i := 0; i < runs; i++ {
		var created struct {
			Session struct{ ID string } `json:"session"`
			Upload  struct {
				URL     string            `json:"url"`
				Headers map[string]string `json:"headers"`
			} `json:"upload"`
		}
		if code, err := c.call(http.MethodPost, "/v1/scribe/sessions", map[string]any{"encounterId": enc, "contentType": contentType,
			"sizeBytes": len(body)}, &created); err != nil || code != http.StatusCreated {
			return res, fmt.Errorf("create session: %d %v", code, err)
		}
		req, _ := http.NewRequest(http.MethodPut, created.Upload.URL, bytes.NewReader(body))
		for k, v := range created.Upload.Headers {
			req.Header.Set(k, v)
		}
		resp, err := c.http.Do(req)
		if err != nil {
			return res, err
		}
		resp.Body.Close()
		start := time.Now()
		var noteID string
		for noteID == "" {
			var s struct {
				Status, NoteID string
			}
			if _, err := c.call(http.MethodGet, "/v1/scribe/sessions/"+created.Session.ID, nil, &s); err != nil {
				return res, err
			}
			if s.Status == "failed" {
				return res, fmt.Errorf("run %d: session failed", i)
			}
			if time.Since(start) > 60*time.Second {
				return res, fmt.Errorf("run %d: no draft after 60 s", i)
			}
			if s.NoteID == "" {
				time.Sleep(25 * time.Millisecond)
			}
			noteID = s.NoteID
		}
		var note struct {
			Content map[string][]struct{ Evidence []string } `json:"content"`
		}
		if code, err := c.call(http.MethodGet, "/v1/notes/"+noteID, nil, &note); err != nil || code != http.StatusOK {
			return res, fmt.Errorf("get note: %d %v", code, err)
		}
		lat = append(lat, time.Since(start))
		for _, ss := range note.Content {
			for _, s := range ss {
				res.Sentences++
				if len(s.Evidence) > 0 {
					res.Linked++
				}
			}
		}
	}
	slices.Sort(lat)
	res.Runs = len(lat)
	res.P50, res.P95, res.Max = pct(lat, 50), pct(lat, 95), lat[len(lat)-1]
	return res, nil
}

// pct is the nearest-rank percentile of sorted durations.
func pct(sorted []time.Duration, p int) time.Duration {
	i := (p*len(sorted)+99)/100 - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// nurseToken creates a nurse of clinic in the Auth emulator and signs in.
func nurseToken(ctx context.Context, project, clinic, suffix string) (string, error) {
	app, err := firebase.NewApp(ctx, &firebase.Config{ProjectID: project})
	if err != nil {
		return "", err
	}
	ac, err := app.Auth(ctx)
	if err != nil {
		return "", err
	}
	email, pw := "bench-"+suffix+"@medi.test", "pw-"+suffix
	u, err := ac.CreateUser(ctx, (&fbauth.UserToCreate{}).Email(email).Password(pw).EmailVerified(true))
	if err != nil {
		return "", err
	}
	if err := ac.SetCustomUserClaims(ctx, u.UID, map[string]any{"role": "nurse", "clinicId": clinic}); err != nil {
		return "", err
	}
	body, _ := json.Marshal(map[string]any{"email": email, "password": pw, "returnSecureToken": true})
	resp, err := http.Post("http://"+os.Getenv("FIREBASE_AUTH_EMULATOR_HOST")+
		"/identitytoolkit.googleapis.com/v1/accounts:signInWithPassword?key=demo-key", "application/json", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct{ IDToken string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.IDToken == "" {
		return "", fmt.Errorf("sign in: %d %v", resp.StatusCode, err)
	}
	return out.IDToken, nil
}

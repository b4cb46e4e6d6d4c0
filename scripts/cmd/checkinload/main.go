// Command checkinload measures check-in on the local stack: it registers -n synthetic
// patients (explicit MRNs, not timed), then -clients concurrent clients check each one in
// once through the gateway (closed loop) and it reports p50/p95/p99 and throughput; finally
// it times -reads board reads (GET /v1/queue). Loopback only; bounded in count; the
// figures go into docs, never into test assertions.
//
//	scripts/dev      # in another terminal
//	go run ./scripts/cmd/checkinload -n 400 -clients 20
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/medi-os/medi/scripts/devports"
)

func main() {
	defBase, defAuth, err := devports.Client(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "checkinload:", err)
		os.Exit(2)
	}
	base := flag.String("base", defBase, "gateway URL (loopback only; default $MEDI_BASE_URL, else the dev stack's, MEDI_PORT_BASE included)")
	authHost := flag.String("auth", defAuth, "Auth emulator host:port (default $FIREBASE_AUTH_EMULATOR_HOST, else the dev stack's)")
	email := flag.String("email", "receptionist@demo-clinic.medi.test", "staff account")
	password := flag.String("password", "demo-receptionist-pass", "its password")
	n := flag.Int("n", 400, "check-ins (at most 5000)")
	clients := flag.Int("clients", 20, "concurrent clients")
	reads := flag.Int("reads", 200, "board reads to time")
	flag.Parse()
	if err := run(*base, *authHost, *email, *password, min(*n, 5000), *clients, *reads); err != nil {
		fmt.Fprintln(os.Stderr, "checkinload:", err)
		os.Exit(1)
	}
}

func loopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	host := u.Hostname()
	if host == "" {
		host, _, _ = net.SplitHostPort(raw)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("%s is not a loopback address", raw)
	}
	return nil
}

var client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

func signIn(authHost, email, password string) (string, error) {
	body, _ := json.Marshal(map[string]any{"email": email, "password": password, "returnSecureToken": true})
	resp, err := client.Post("http://"+authHost+"/identitytoolkit.googleapis.com/v1/accounts:signInWithPassword?key=demo-key", "application/json", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		IDToken string `json:"idToken"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.IDToken == "" {
		return "", fmt.Errorf("sign-in failed (status %d)", resp.StatusCode)
	}
	return out.IDToken, nil
}

func call(method, url, token string, body any) (int, []byte, error) {
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// parallel runs f(i) for i in [0,n) on k workers and returns each call's latency.
func parallel(n, k int, f func(i int) error) ([]time.Duration, int, error) {
	var next atomic.Int64
	lat := make([]time.Duration, n)
	var failures atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	for w := 0; w < k; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				start := time.Now()
				err := f(i)
				lat[i] = time.Since(start)
				if err != nil {
					failures.Add(1)
					once.Do(func() { firstErr = err })
				}
			}
		}()
	}
	wg.Wait()
	return lat, int(failures.Load()), firstErr
}

func pct(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

func run(base, authHost, email, password string, n, clients, reads int) error {
	if err := errors.Join(loopback(base), loopback("http://"+authHost)); err != nil {
		return err
	}
	token, err := signIn(authHost, email, password)
	if err != nil {
		return err
	}
	runID := strconv.FormatInt(time.Now().Unix(), 36)
	ids := make([]string, n)
	_, fails, err := parallel(n, clients, func(i int) error {
		status, b, err := call(http.MethodPost, base+"/v1/patients", token, map[string]any{
			"givenName": "Load", "familyName": fmt.Sprintf("Patient%d", i), "birthDate": "1980-01-01",
			"sex": "unknown", "mrn": fmt.Sprintf("LOAD-%s-%05d", runID, i),
		})
		if err != nil {
			return err
		}
		if status != http.StatusCreated {
			return fmt.Errorf("register: status %d", status)
		}
		var env struct {
			Data struct {
				ID string `json:"id"`
			} `json:"data"`
		}
		if err := json.Unmarshal(b, &env); err != nil {
			return err
		}
		ids[i] = env.Data.ID
		return nil
	})
	if fails > 0 {
		return fmt.Errorf("registering patients: %d failures, first: %v", fails, err)
	}
	start := time.Now()
	lat, fails, err := parallel(n, clients, func(i int) error {
		status, _, err := call(http.MethodPost, base+"/v1/encounters", token, map[string]any{
			"patientId": ids[i], "chiefComplaint": "load test", "arrivalMode": "walk_in",
		})
		if err == nil && status != http.StatusCreated {
			err = fmt.Errorf("check-in: status %d", status)
		}
		return err
	})
	took := time.Since(start)
	fmt.Printf("check-in   n=%d clients=%d  p50 %6.1f ms  p95 %6.1f ms  p99 %6.1f ms  %.1f/s  failures %d\n",
		n, clients, ms(pct(lat, .5)), ms(pct(lat, .95)), ms(pct(lat, .99)), float64(n)/took.Seconds(), fails)
	if fails > 0 {
		fmt.Println("first failure:", err)
	}
	if reads > 0 {
		lat, fails, err = parallel(reads, 1, func(int) error {
			status, _, err := call(http.MethodGet, base+"/v1/queue", token, nil)
			if err == nil && status != http.StatusOK {
				err = fmt.Errorf("board: status %d", status)
			}
			return err
		})
		fmt.Printf("board read n=%d sequential       p50 %6.1f ms  p95 %6.1f ms  p99 %6.1f ms  failures %d\n",
			reads, ms(pct(lat, .5)), ms(pct(lat, .95)), ms(pct(lat, .99)), fails)
		if fails > 0 {
			fmt.Println("first failure:", err)
		}
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

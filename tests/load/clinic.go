package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"cloud.google.com/go/firestore"
	firebase "firebase.google.com/go/v4"
	fbauth "firebase.google.com/go/v4/auth"
	"github.com/google/uuid"
)

// Env says where the local stack is. Every address must be on loopback: this tool
// writes synthetic data and creates accounts, which it must never do anywhere else.
type Env struct {
	BaseURL       string // gateway
	AuthHost      string // Firebase Auth emulator host:port
	FirestoreHost string // Firestore emulator host:port
	Project       string // the stack's project id (Firestore and Auth)
}

// envFromOS reads the variables scripts/test and stack.Env set.
func envFromOS() Env {
	project := os.Getenv("MEDI_STACK_PROJECT")
	if project == "" {
		project = os.Getenv("GOOGLE_CLOUD_PROJECT")
	}
	return Env{
		BaseURL:       strings.TrimRight(os.Getenv("MEDI_BASE_URL"), "/"),
		AuthHost:      os.Getenv("FIREBASE_AUTH_EMULATOR_HOST"),
		FirestoreHost: os.Getenv("FIRESTORE_EMULATOR_HOST"),
		Project:       project,
	}
}

// Validate reports every missing or non-loopback setting.
func (e Env) Validate() error {
	var errs []error
	u, err := url.Parse(e.BaseURL)
	if e.BaseURL == "" || err != nil || !loopback(u.Hostname()) {
		errs = append(errs, fmt.Errorf("MEDI_BASE_URL %q: a loopback URL of the local stack's gateway is required", e.BaseURL))
	}
	for name, hp := range map[string]string{"FIREBASE_AUTH_EMULATOR_HOST": e.AuthHost, "FIRESTORE_EMULATOR_HOST": e.FirestoreHost} {
		h, _, err := net.SplitHostPort(hp)
		if err != nil || !loopback(h) {
			errs = append(errs, fmt.Errorf("%s %q: a loopback host:port of the emulator is required", name, hp))
		}
	}
	if e.Project == "" {
		errs = append(errs, errors.New("MEDI_STACK_PROJECT: the stack's project id is required"))
	}
	return errors.Join(errs...)
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Roles of the load clinic's staff, one account each.
const (
	roleReceptionist = "receptionist"
	roleNurse        = "nurse"
	roleDoctor       = "doctor"
	roleAdmin        = "admin"
)

// Clinic is the fresh clinic one run works in: its own staff accounts in the Auth
// emulator, so that every count the reconciliation makes belongs to this run alone.
type Clinic struct {
	ID     string
	Tokens map[string]string // role -> ID token
	UIDs   map[string]string // role -> uid
}

// newClinic creates clinic id with one staff account per role (custom claims and the
// users/{uid} profile, as the staff API would) and signs each one in.
func newClinic(ctx context.Context, env Env, fs *firestore.Client, id string) (*Clinic, error) {
	app, err := firebase.NewApp(ctx, &firebase.Config{ProjectID: env.Project})
	if err != nil {
		return nil, err
	}
	ac, err := app.Auth(ctx)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	if _, err := fs.Collection("clinics").Doc(id).Set(ctx, map[string]any{
		"name": "Load test clinic", "timezone": "Europe/London", "doctorsOnDuty": 2,
		"retentionDays": 30, "sessionIdleMinutes": 15, "updatedAt": now,
	}); err != nil {
		return nil, fmt.Errorf("creating the clinic: %w", err)
	}
	c := &Clinic{ID: id, Tokens: map[string]string{}, UIDs: map[string]string{}}
	for _, role := range []string{roleReceptionist, roleNurse, roleDoctor, roleAdmin} {
		email := fmt.Sprintf("%s.%s@load.medi.test", role, id)
		password := "load-" + role + "-" + id
		u, err := ac.CreateUser(ctx, (&fbauth.UserToCreate{}).Email(email).Password(password).
			DisplayName("Load "+role).EmailVerified(true))
		if err != nil {
			return nil, fmt.Errorf("creating the %s account: %w", role, err)
		}
		if err := ac.SetCustomUserClaims(ctx, u.UID, map[string]any{"role": role, "clinicId": id}); err != nil {
			return nil, fmt.Errorf("setting the %s account's claims: %w", role, err)
		}
		if _, err := fs.Collection("users").Doc(u.UID).Set(ctx, map[string]any{
			"email": email, "displayName": "Load " + role, "role": role,
			"clinicId": id, "disabled": false, "updatedAt": now,
		}); err != nil {
			return nil, err
		}
		tok, err := signIn(ctx, env.AuthHost, email, password)
		if err != nil {
			return nil, err
		}
		c.Tokens[role], c.UIDs[role] = tok, u.UID
	}
	return c, nil
}

// signIn gets an ID token from the Auth emulator's REST API, as an app does.
func signIn(ctx context.Context, host, email, password string) (string, error) {
	body, _ := json.Marshal(map[string]any{"email": email, "password": password, "returnSecureToken": true})
	u := "http://" + host + "/identitytoolkit.googleapis.com/v1/accounts:signInWithPassword?key=demo-key"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := httpClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("signing in: %w", err)
	}
	defer resp.Body.Close()
	var out struct {
		IDToken string `json:"idToken"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK || out.IDToken == "" {
		return "", fmt.Errorf("signing in a load account: status %d", resp.StatusCode)
	}
	return out.IDToken, nil
}

// httpClient is used for set-up calls (fixtures, sign-in); the measured traffic goes
// through vegeta's own client.
var httpClient = &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 32}}

// apiError is a set-up call that did not get the status it needed.
type apiError struct {
	Method, Path string
	Status       int
	Code         string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%s %s: status %d %s", e.Method, e.Path, e.Status, e.Code)
}

// setupAttempts bounds the tries of one set-up request that meets a 503 or a transport
// error (a loaded machine's emulator aborts transactions now and then). Mutations carry
// an Idempotency-Key, so a retry never creates a second patient or encounter.
const setupAttempts = 5

// call sends one set-up request and decodes the envelope's data into out when the
// status is want.
func call(ctx context.Context, base, method, path, token string, body, out any, want int) error {
	var raw []byte
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		raw = b
	}
	key := ""
	if method != http.MethodGet {
		key = uuid.NewString()
	}
	var err error
	for attempt := 1; ; attempt++ {
		err = callOnce(ctx, base, method, path, token, key, raw, out, want)
		var ae *apiError
		retry := err != nil && ctx.Err() == nil && (!errors.As(err, &ae) || ae.Status == http.StatusServiceUnavailable)
		if !retry || attempt == setupAttempts {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(attempt) * 500 * time.Millisecond):
		}
	}
}

func callOnce(ctx context.Context, base, method, path, token, key string, raw []byte, out any, want int) error {
	var r io.Reader
	if raw != nil {
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, r)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if raw != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var env struct {
		Data  json.RawMessage `json:"data"`
		Error *struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(b, &env)
	if resp.StatusCode != want {
		e := &apiError{Method: method, Path: pathTemplate(path), Status: resp.StatusCode}
		if env.Error != nil {
			e.Code = env.Error.Code
		}
		return e
	}
	if out != nil {
		return json.Unmarshal(env.Data, out)
	}
	return nil
}

// fixedSegments are the path segments below /v1/<collection> that are not ids.
var fixedSegments = map[string]bool{"transitions": true, "versions": true, "confirm": true, "sessions": true, "search": true}

// pathTemplate replaces ids in a path by {id}, so that errors name the endpoint only.
func pathTemplate(path string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if i > 2 && !fixedSegments[p] {
			parts[i] = "{id}"
		}
	}
	return strings.Join(parts, "/")
}

package app

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"sync"

	cloudtasks "cloud.google.com/go/cloudtasks/apiv2"
	"cloud.google.com/go/firestore"
	"cloud.google.com/go/pubsub/v2"
	secretmanager "cloud.google.com/go/secretmanager/apiv1"
	speech "cloud.google.com/go/speech/apiv2"
	"cloud.google.com/go/storage"
	firebase "firebase.google.com/go/v4"
	fbauth "firebase.google.com/go/v4/auth"
	"google.golang.org/api/option"
	"google.golang.org/genai"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/medi-os/medi/shared/audit"
	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/secrets"
)

// This file is the one place where the suite's Google Cloud clients are created. Function
// packages and shared/ packages receive clients (or stores built on them); they never
// create one.
//
// Every client is created once per process, lazily, on first use: never in init, because
// every deployed function runs every init at each cold start, and a function that never
// needs a client never pays for it. A failed creation is not remembered (see Lazy); the
// next use tries again.
//
// Emulators (dev tier only: config refuses *_EMULATOR_HOST in staging and prod) are wired
// by the clients themselves from the environment:
//
//	FIRESTORE_EMULATOR_HOST       Firestore
//	PUBSUB_EMULATOR_HOST          Pub/Sub
//	FIREBASE_AUTH_EMULATOR_HOST   Firebase Auth (the Admin SDK then accepts unsigned tokens)
//	STORAGE_EMULATOR_HOST         Cloud Storage (fake-gcs-server on the local stack)
//
// Speech-to-Text, Vertex AI, Cloud Tasks and Secret Manager have no emulator: the local
// stack does not use them (the deterministic drafter, the local task dispatcher, plain
// configuration values), and tests point the real clients at in-test fakes. For the two
// that functions create from the platform, the fakes are named like emulators (and, like
// them, refused outside the dev tier):
//
//	SPEECH_EMULATOR_HOST          Speech-to-Text v2 (gRPC, plaintext, no credentials)
//	VERTEX_EMULATOR_HOST          Vertex AI for the genai client (HTTP, no credentials)
//
// Firestore connections roll failed transactions back in the background
// (RollbackInBackground, firestore.go), so that a request's answer leaves by its deadline.
//
// Production options: Application Default Credentials (the function's service account)
// for every client; Speech-to-Text v2 uses the regional endpoint of its recognizer's
// location ("global" uses the global endpoint); the genai client uses the Vertex AI
// backend of the function's project in the configured location.

// Platform holds a process's Google Cloud clients for one project.
type Platform struct {
	ProjectID  string
	firestore  *Lazy[*firestore.Client]
	auth       *Lazy[*fbauth.Client]
	pubsub     *Lazy[*pubsub.Client]
	storage    *Lazy[*storage.Client]
	cloudTasks *Lazy[*cloudtasks.Client]
	speech     lazyByKey[*speech.Client] // by location
	genai      lazyByKey[*genai.Client]  // by location
}

// NewPlatform returns a Platform for projectID. Nothing is created yet.
func NewPlatform(projectID string) *Platform {
	p := &Platform{ProjectID: projectID}
	p.firestore = newClient("Firestore", func(ctx context.Context) (*firestore.Client, error) {
		return newFirestore(ctx, projectID)
	})
	p.UseAuthProject(projectID)
	p.pubsub = newClient("Pub/Sub", func(ctx context.Context) (*pubsub.Client, error) {
		return pubsub.NewClient(ctx, projectID)
	})
	p.storage = newClient("Cloud Storage", func(ctx context.Context) (*storage.Client, error) {
		return storage.NewClient(ctx)
	})
	p.cloudTasks = newClient("Cloud Tasks", func(ctx context.Context) (*cloudtasks.Client, error) {
		return cloudtasks.NewClient(ctx)
	})
	p.speech.create = func(ctx context.Context, location string) (*speech.Client, error) {
		if h := os.Getenv("SPEECH_EMULATOR_HOST"); h != "" {
			return speech.NewClient(ctx, option.WithEndpoint(h), option.WithoutAuthentication(),
				option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
		}
		var opts []option.ClientOption
		if location != "global" {
			opts = append(opts, option.WithEndpoint(location+"-speech.googleapis.com:443"))
		}
		return speech.NewClient(ctx, opts...)
	}
	p.speech.what = "Speech-to-Text"
	p.genai.create = func(ctx context.Context, location string) (*genai.Client, error) {
		if h := os.Getenv("VERTEX_EMULATOR_HOST"); h != "" {
			return genai.NewClient(ctx, &genai.ClientConfig{Backend: genai.BackendVertexAI, Project: projectID, Location: location,
				HTTPClient: &http.Client{}, HTTPOptions: genai.HTTPOptions{BaseURL: "http://" + h + "/"}})
		}
		return genai.NewClient(ctx, &genai.ClientConfig{Backend: genai.BackendVertexAI, Project: projectID, Location: location})
	}
	p.genai.what = "Vertex AI (genai)"
	return p
}

// UseAuthProject makes the Auth client verify tokens of authProject (before first use).
func (p *Platform) UseAuthProject(authProject string) {
	p.auth = newClient("Firebase Auth", func(ctx context.Context) (*fbauth.Client, error) {
		fa, err := firebase.NewApp(ctx, &firebase.Config{ProjectID: authProject})
		if err != nil {
			return nil, err
		}
		return fa.Auth(ctx)
	})
}

// Firestore returns the process's Firestore client.
func (p *Platform) Firestore(ctx context.Context) (*firestore.Client, error) {
	return p.firestore.Get(ctx)
}

// Auth returns the process's Firebase Auth client.
func (p *Platform) Auth(ctx context.Context) (*fbauth.Client, error) { return p.auth.Get(ctx) }

// PubSub returns the process's Pub/Sub client.
func (p *Platform) PubSub(ctx context.Context) (*pubsub.Client, error) { return p.pubsub.Get(ctx) }

// Storage returns the process's Cloud Storage client.
func (p *Platform) Storage(ctx context.Context) (*storage.Client, error) { return p.storage.Get(ctx) }

// CloudTasks returns the process's Cloud Tasks client (staging and prod enqueue with it).
func (p *Platform) CloudTasks(ctx context.Context) (*cloudtasks.Client, error) {
	return p.cloudTasks.Get(ctx)
}

// Speech returns the process's Speech-to-Text v2 client for recognizers in location
// ("global" or a region such as "europe-west4").
func (p *Platform) Speech(ctx context.Context, location string) (*speech.Client, error) {
	return p.speech.get(ctx, location)
}

// GenAI returns the process's genai client for Vertex AI models of the project in
// location (for example "europe-west1").
func (p *Platform) GenAI(ctx context.Context, location string) (*genai.Client, error) {
	return p.genai.get(ctx, location)
}

// secretManager resolves secret:// configuration values through Secret Manager. It is
// process-wide rather than per Platform: it is needed before a function's configuration
// (and so its project) is known, and a secret reference names its own project.
var secretManager = newClient("Secret Manager", func(ctx context.Context) (config.SecretResolver, error) {
	c, err := secretmanager.NewClient(ctx)
	if err != nil {
		return nil, err
	}
	return secrets.NewResolver(c, 0), nil
})

// loadConfig loads a function's configuration, resolving secret:// references through
// the process's Secret Manager client (created only when a reference is met, in staging
// and prod).
func loadConfig(ctx context.Context, cfg any) error {
	return config.Load(ctx, cfg, config.WithSecretManager(secretManager.Get))
}

// newClient returns a Lazy creating a client with create. The client outlives the
// request that first needs it, so the request's cancellation does not reach it.
func newClient[T any](what string, create func(context.Context) (T, error)) *Lazy[T] {
	return NewLazy(func(ctx context.Context) (T, error) {
		c, err := create(context.WithoutCancel(ctx))
		if err != nil {
			var zero T
			return zero, fmt.Errorf("creating %s client: %w", what, err)
		}
		return c, nil
	})
}

// lazyByKey is a Lazy per key: clients whose endpoint depends on a location.
type lazyByKey[T any] struct {
	what   string
	create func(ctx context.Context, key string) (T, error)
	mu     sync.Mutex
	byKey  map[string]*Lazy[T]
}

func (l *lazyByKey[T]) get(ctx context.Context, key string) (T, error) {
	l.mu.Lock()
	c, ok := l.byKey[key]
	if !ok {
		if l.byKey == nil {
			l.byKey = make(map[string]*Lazy[T])
		}
		c = newClient(l.what, func(ctx context.Context) (T, error) { return l.create(ctx, key) })
		l.byKey[key] = c
	}
	l.mu.Unlock()
	return c.Get(ctx)
}

// AuditChain is the audit chain over fs, anchored in anchorBucket when one is named
// (shared/audit, anchors); the Storage client is created only then.
func AuditChain(ctx context.Context, p *Platform, fs *firestore.Client, anchorBucket string) (*audit.Chain, error) {
	chain := audit.NewChain(fs)
	if anchorBucket == "" {
		return chain, nil
	}
	gcs, err := p.Storage(ctx)
	if err != nil {
		return nil, err
	}
	return chain.WithAnchors(audit.GCSAnchors{Bucket: gcs.Bucket(anchorBucket)}), nil
}

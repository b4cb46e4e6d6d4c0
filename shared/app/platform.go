package app

import (
	"context"
	"fmt"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/pubsub/v2"
	firebase "firebase.google.com/go/v4"
	fbauth "firebase.google.com/go/v4/auth"
)

// Platform holds a process's Google Cloud clients, each created once, lazily, on first
// use (never in init: every deployed function runs every init at each cold start).
// With FIRESTORE_EMULATOR_HOST, PUBSUB_EMULATOR_HOST and FIREBASE_AUTH_EMULATOR_HOST set
// (dev tier only; config refuses them elsewhere) the clients talk to the emulators.
type Platform struct {
	ProjectID string
	firestore *Lazy[*firestore.Client]
	auth      *Lazy[*fbauth.Client]
	pubsub    *Lazy[*pubsub.Client]
}

// NewPlatform returns a Platform for projectID. Nothing is created yet.
func NewPlatform(projectID string) *Platform {
	p := &Platform{ProjectID: projectID}
	p.firestore = NewLazy(func(ctx context.Context) (*firestore.Client, error) {
		c, err := firestore.NewClient(context.WithoutCancel(ctx), projectID)
		if err != nil {
			return nil, fmt.Errorf("creating Firestore client: %w", err)
		}
		return c, nil
	})
	p.UseAuthProject(projectID)
	p.pubsub = NewLazy(func(ctx context.Context) (*pubsub.Client, error) {
		c, err := pubsub.NewClient(context.WithoutCancel(ctx), projectID)
		if err != nil {
			return nil, fmt.Errorf("creating Pub/Sub client: %w", err)
		}
		return c, nil
	})
	return p
}

// UseAuthProject makes the Auth client verify tokens of authProject (before first use).
func (p *Platform) UseAuthProject(authProject string) {
	p.auth = NewLazy(func(ctx context.Context) (*fbauth.Client, error) {
		fa, err := firebase.NewApp(context.WithoutCancel(ctx), &firebase.Config{ProjectID: authProject})
		if err != nil {
			return nil, fmt.Errorf("creating Firebase app: %w", err)
		}
		c, err := fa.Auth(context.WithoutCancel(ctx))
		if err != nil {
			return nil, fmt.Errorf("creating Firebase Auth client: %w", err)
		}
		return c, nil
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

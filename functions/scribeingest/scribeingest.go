// Package scribeingest is the `scribe-ingest` function: Eventarc delivers the uploads
// bucket's google.cloud.storage.object.v1.finalized events; it checks the upload against
// its session (size, type, magic bytes), records the generation and enqueues one
// scribe-worker task per object generation.
package scribeingest

import (
	"context"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/medi-os/medi/shared/app"
	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/events"
	"github.com/medi-os/medi/shared/scribe"
	"github.com/medi-os/medi/shared/uploads"
)

// Config is the function's configuration, read from the environment.
type Config struct {
	config.Base
	app.TasksConfig
	// UploadsBucket is the only bucket whose objects are accepted.
	UploadsBucket string `env:"MEDI_UPLOADS_BUCKET, required"`
}

// Function is the deployable, registered in functions.go as "scribe-ingest".
var Function = app.NewCloudEvent("scribe-ingest", func() *Config { return new(Config) }, setup)

func setup(_ context.Context, cfg *Config, env *app.Env) (app.EventHandler, error) {
	in := app.NewLazy(func(ctx context.Context) (*scribe.Ingester, error) {
		fs, err := env.Platform.Firestore(ctx)
		if err != nil {
			return nil, err
		}
		gcs, err := env.Platform.Storage(ctx)
		if err != nil {
			return nil, err
		}
		q, err := env.Enqueuer(cfg.TasksConfig)
		if err != nil {
			return nil, err
		}
		url, err := app.FunctionURL("scribe-worker")
		if err != nil {
			return nil, err
		}
		return &scribe.Ingester{Sessions: scribe.NewStore(fs), Objects: uploads.GCS{Client: gcs}, Tasks: q,
			Bucket: cfg.UploadsBucket, WorkerURL: url + "/"}, nil
	})
	opts := events.HandleOptions{ProjectID: cfg.ProjectID, Logger: env.Logger}
	return func(ctx context.Context, ce event.Event) error {
		return events.Handle(ctx, ce, opts, func(ctx context.Context) error {
			obj, err := events.DecodeStorageObject(ce)
			if err != nil {
				return err
			}
			ing, err := in.Get(ctx)
			if err != nil {
				return err
			}
			return ing.Ingest(ctx, obj)
		})
	}, nil
}

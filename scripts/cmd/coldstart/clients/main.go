// Command clients is the second cold-start baseline (scripts/cmd/coldstart): the same bare
// functions-framework-go hello world as ./baseline, linked with the Google client libraries
// the suite's functions use (Firestore, Pub/Sub, Cloud Storage, Cloud Tasks, Secret Manager,
// Speech-to-Text, the Firebase Admin SDK's auth and ID token validation). It creates no
// client: what it measures is what linking those libraries costs a start (their package
// initialisation: generated protobuf and gRPC registrations), the floor that a function
// talking to Firestore cannot beat.
package main

import (
	"fmt"
	"net/http"
	"os"

	cloudtasks "cloud.google.com/go/cloudtasks/apiv2"
	"cloud.google.com/go/firestore"
	"cloud.google.com/go/pubsub/v2"
	secretmanager "cloud.google.com/go/secretmanager/apiv1"
	speech "cloud.google.com/go/speech/apiv2"
	"cloud.google.com/go/storage"
	firebase "firebase.google.com/go/v4"
	"firebase.google.com/go/v4/auth"
	"github.com/GoogleCloudPlatform/functions-framework-go/funcframework"
	"github.com/GoogleCloudPlatform/functions-framework-go/functions"
	"google.golang.org/api/idtoken"
)

// linked keeps every client's constructor in the binary (never called).
var linked = []any{
	firestore.NewClient, pubsub.NewClient, storage.NewClient, cloudtasks.NewClient,
	secretmanager.NewClient, speech.NewClient, firebase.NewApp, (*auth.Client).VerifyIDToken,
	idtoken.NewValidator,
}

func main() {
	functions.HTTP("hello", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "ok")
	})
	if len(linked) == 0 {
		panic("no client linked")
	}
	if err := funcframework.StartHostPort(os.Getenv("MEDI_LISTEN_HOST"), os.Getenv("PORT")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

package speech

import (
	"context"
	"errors"
	"testing"
	"time"

	speechapi "cloud.google.com/go/speech/apiv2"
	"cloud.google.com/go/speech/apiv2/speechpb"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/medi-os/medi/shared/scribe"
	"github.com/medi-os/medi/shared/speech/speechtest"
	"github.com/medi-os/medi/shared/transcript"
)

func newSpeech(t *testing.T, f *speechtest.Fake) *Recognizer {
	t.Helper()
	addr := speechtest.Start(t, f)
	c, err := speechapi.NewClient(context.Background(), option.WithEndpoint(addr), option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &Recognizer{Client: c, Recognizer: "projects/p/locations/eu/recognizers/_", Model: "medical_conversation", Language: "en-US"}
}

var result = speechtest.Result

func TestGoogleSpeechTranscribe(t *testing.T) {
	t.Parallel()
	f := &speechtest.Fake{Results: []*speechpb.SpeechRecognitionResult{
		result("How long have you had the cough?", "1", 0, 2*time.Second),
		result("I've had it for three days.", "2", 2500*time.Millisecond, 4*time.Second),
		result("  ", "1", 4*time.Second, 5*time.Second),
	}}
	g := newSpeech(t, f)
	tr, err := g.Transcribe(context.Background(), scribe.AudioObject{Bucket: "b", Object: "uploads/c/s", ContentType: "audio/wav", Generation: 7})
	if err != nil {
		t.Fatal(err)
	}
	want := []transcript.Segment{
		{ID: "s1", StartMs: 0, EndMs: 2000, Speaker: "Speaker 1", Role: transcript.RoleClinician, RoleInferred: true, Text: "How long have you had the cough?"},
		{ID: "s2", StartMs: 2500, EndMs: 4000, Speaker: "Speaker 2", Role: transcript.RolePatient, RoleInferred: true, Text: "I've had it for three days."},
	}
	if diff := cmp.Diff(want, tr.Segments); diff != "" || !tr.RolesInferred || tr.Source != "speech" {
		t.Errorf("transcript (-want +got):\n%s", diff)
	}
	req := f.Requests()[0]
	if req.GetRecognizer() != g.Recognizer || req.GetFiles()[0].GetUri() != "gs://b/uploads/c/s" || // Speech v2 takes gs://bucket/object, no #generation

		req.GetConfig().GetModel() != "medical_conversation" || req.GetConfig().GetFeatures().GetDiarizationConfig() == nil ||
		req.GetRecognitionOutputConfig().GetInlineResponseConfig() == nil {
		t.Errorf("request = %v", req)
	}
}

func TestGoogleSpeechFailures(t *testing.T) {
	t.Parallel()
	for name, f := range map[string]*speechtest.Fake{
		"no speech":  {Results: nil},
		"file error": {FileErr: 3},
	} {
		_, err := newSpeech(t, f).Transcribe(context.Background(), scribe.AudioObject{Bucket: "b", Object: "o"})
		var fail *scribe.Failure
		if !errors.As(err, &fail) || fail.Code != scribe.FailSpeech {
			t.Errorf("%s: err = %v, want a %s failure", name, err, scribe.FailSpeech)
		}
	}
}

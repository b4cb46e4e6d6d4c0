package scribe

import (
	"context"
	"errors"
	"github.com/medi-os/medi/shared/transcript"
	"net"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	speech "cloud.google.com/go/speech/apiv2"
	"cloud.google.com/go/speech/apiv2/speechpb"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/api/option"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
)

// fakeSpeech is an in-test Speech-to-Text v2 gRPC server answering BatchRecognize with a
// finished operation.
type fakeSpeech struct {
	speechpb.UnimplementedSpeechServer
	mu      sync.Mutex
	reqs    []*speechpb.BatchRecognizeRequest
	results []*speechpb.SpeechRecognitionResult
	fileErr int32
}

func (f *fakeSpeech) BatchRecognize(_ context.Context, req *speechpb.BatchRecognizeRequest) (*longrunningpb.Operation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs = append(f.reqs, req)
	fr := &speechpb.BatchRecognizeFileResult{Result: &speechpb.BatchRecognizeFileResult_InlineResult{
		InlineResult: &speechpb.InlineResult{Transcript: &speechpb.BatchRecognizeResults{Results: f.results}}}}
	if f.fileErr != 0 {
		fr = &speechpb.BatchRecognizeFileResult{Error: statusProto(f.fileErr)}
	}
	resp, err := anypb.New(&speechpb.BatchRecognizeResponse{Results: map[string]*speechpb.BatchRecognizeFileResult{
		req.GetFiles()[0].GetUri(): fr}})
	if err != nil {
		return nil, err
	}
	return &longrunningpb.Operation{Name: "operations/1", Done: true, Result: &longrunningpb.Operation_Response{Response: resp}}, nil
}

func newSpeech(t *testing.T, f *fakeSpeech) *GoogleSpeech {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	speechpb.RegisterSpeechServer(srv, f)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	c, err := speech.NewClient(context.Background(), option.WithEndpoint(lis.Addr().String()), option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &GoogleSpeech{Client: c, Recognizer: "projects/p/locations/eu/recognizers/_", Model: "medical_conversation", Language: "en-US"}
}

func result(text, speaker string, start, end time.Duration) *speechpb.SpeechRecognitionResult {
	return &speechpb.SpeechRecognitionResult{ResultEndOffset: durationpb.New(end), Alternatives: []*speechpb.SpeechRecognitionAlternative{{
		Transcript: text, Words: []*speechpb.WordInfo{{Word: "x", StartOffset: durationpb.New(start), SpeakerLabel: speaker}}}}}
}

func TestGoogleSpeechTranscribe(t *testing.T) {
	t.Parallel()
	f := &fakeSpeech{results: []*speechpb.SpeechRecognitionResult{
		result("How long have you had the cough?", "1", 0, 2*time.Second),
		result("I've had it for three days.", "2", 2500*time.Millisecond, 4*time.Second),
		result("  ", "1", 4*time.Second, 5*time.Second),
	}}
	g := newSpeech(t, f)
	tr, err := g.Transcribe(context.Background(), AudioObject{Bucket: "b", Object: "uploads/c/s", ContentType: "audio/wav", Generation: 7})
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
	req := f.reqs[0]
	if req.GetRecognizer() != g.Recognizer || req.GetFiles()[0].GetUri() != "gs://b/uploads/c/s#7" ||
		req.GetConfig().GetModel() != "medical_conversation" || req.GetConfig().GetFeatures().GetDiarizationConfig() == nil ||
		req.GetRecognitionOutputConfig().GetInlineResponseConfig() == nil {
		t.Errorf("request = %v", req)
	}
}

func TestGoogleSpeechFailures(t *testing.T) {
	t.Parallel()
	for name, f := range map[string]*fakeSpeech{
		"no speech":  {results: nil},
		"file error": {fileErr: 3},
	} {
		_, err := newSpeech(t, f).Transcribe(context.Background(), AudioObject{Bucket: "b", Object: "o"})
		var fail *Failure
		if !errors.As(err, &fail) || fail.Code != FailSpeech {
			t.Errorf("%s: err = %v, want a %s failure", name, err, FailSpeech)
		}
	}
}

func statusProto(code int32) *statuspb.Status {
	return &statuspb.Status{Code: code, Message: "bad audio"}
}

// Package speechtest is an in-test Speech-to-Text v2: a gRPC server implementing
// BatchRecognize as the service does (a long-running operation whose response holds the
// inline transcript of the file), for the real speech client to talk to.
package speechtest

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"cloud.google.com/go/speech/apiv2/speechpb"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Fake answers BatchRecognize with Results (or, with FileError set, a per-file error).
type Fake struct {
	speechpb.UnimplementedSpeechServer
	mu       sync.Mutex
	Results  []*speechpb.SpeechRecognitionResult
	FileErr  int32
	requests []*speechpb.BatchRecognizeRequest
}

// Start serves f on a free loopback port and returns its address (host:port).
func Start(t testing.TB, f *Fake) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	speechpb.RegisterSpeechServer(srv, f)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

// Requests returns the requests received.
func (f *Fake) Requests() []*speechpb.BatchRecognizeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*speechpb.BatchRecognizeRequest(nil), f.requests...)
}

// BatchRecognize implements speechpb.SpeechServer: a finished operation.
func (f *Fake) BatchRecognize(_ context.Context, req *speechpb.BatchRecognizeRequest) (*longrunningpb.Operation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, req)
	fr := &speechpb.BatchRecognizeFileResult{Result: &speechpb.BatchRecognizeFileResult_InlineResult{
		InlineResult: &speechpb.InlineResult{Transcript: &speechpb.BatchRecognizeResults{Results: f.Results}}}}
	if f.FileErr != 0 {
		fr = &speechpb.BatchRecognizeFileResult{Error: &statuspb.Status{Code: f.FileErr, Message: "recognition failed"}}
	}
	resp, err := anypb.New(&speechpb.BatchRecognizeResponse{Results: map[string]*speechpb.BatchRecognizeFileResult{
		req.GetFiles()[0].GetUri(): fr}})
	if err != nil {
		return nil, err
	}
	return &longrunningpb.Operation{Name: "operations/1", Done: true, Result: &longrunningpb.Operation_Response{Response: resp}}, nil
}

// Result is one recognised utterance of a diarized speaker between start and end.
func Result(text, speaker string, start, end time.Duration) *speechpb.SpeechRecognitionResult {
	return &speechpb.SpeechRecognitionResult{ResultEndOffset: durationpb.New(end), Alternatives: []*speechpb.SpeechRecognitionAlternative{{
		Transcript: text, Words: []*speechpb.WordInfo{{Word: "x", StartOffset: durationpb.New(start), SpeakerLabel: speaker}}}}}
}

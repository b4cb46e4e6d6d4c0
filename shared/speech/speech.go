// Package speech transcribes audio uploads with Google Cloud Speech-to-Text v2.
package speech

import (
	"context"
	"fmt"
	"github.com/medi-os/medi/shared/transcript"
	"strings"

	speechapi "cloud.google.com/go/speech/apiv2"
	"cloud.google.com/go/speech/apiv2/speechpb"

	"github.com/medi-os/medi/shared/scribe"
)

// Recognizer transcribes uploads with Speech-to-Text v2 BatchRecognize (long audio
// straight from gs://bucket/object, results returned inline) with speaker diarization.
// Speakers come back as labels ("1", "2"): each label's role is inferred from what that
// speaker says over the whole consultation (and marked inferred).
type Recognizer struct {
	Client *speechapi.Client
	// Recognizer is the full name, e.g. "projects/p/locations/eu/recognizers/_" (the
	// default recognizer with the config below).
	Recognizer string
	// Model is "medical_conversation" or "chirp_2" etc.; Language e.g. "en-US".
	Model, Language string
}

var _ scribe.Speech = (*Recognizer)(nil)

// Transcribe implements scribe.Speech. The source is gs://bucket/object, the form Speech
// v2 takes (no generation suffix: the uploads bucket keeps one generation per session
// object, and ingest checked that generation). Failures of the recognition itself are
// permanent (*scribe.Failure with FailSpeech); transport errors are returned for a retry.
func (g *Recognizer) Transcribe(ctx context.Context, a scribe.AudioObject) (transcript.Transcript, error) {
	uri := SourceURI(a)
	op, err := g.Client.BatchRecognize(ctx, &speechpb.BatchRecognizeRequest{
		Recognizer: g.Recognizer,
		Config: &speechpb.RecognitionConfig{
			DecodingConfig: &speechpb.RecognitionConfig_AutoDecodingConfig{AutoDecodingConfig: &speechpb.AutoDetectDecodingConfig{}},
			Model:          g.Model,
			LanguageCodes:  []string{g.Language},
			Features: &speechpb.RecognitionFeatures{
				EnableAutomaticPunctuation: true,
				EnableWordTimeOffsets:      true,
				DiarizationConfig:          &speechpb.SpeakerDiarizationConfig{MinSpeakerCount: 2, MaxSpeakerCount: 4},
			},
		},
		Files: []*speechpb.BatchRecognizeFileMetadata{{AudioSource: &speechpb.BatchRecognizeFileMetadata_Uri{Uri: uri}}},
		RecognitionOutputConfig: &speechpb.RecognitionOutputConfig{
			Output: &speechpb.RecognitionOutputConfig_InlineResponseConfig{InlineResponseConfig: &speechpb.InlineOutputConfig{}},
		},
	})
	if err != nil {
		return transcript.Transcript{}, fmt.Errorf("speech: batch recognize: %w", err)
	}
	resp, err := op.Wait(ctx)
	if err != nil {
		return transcript.Transcript{}, fmt.Errorf("speech: waiting for recognition: %w", err)
	}
	var fr *speechpb.BatchRecognizeFileResult
	for _, r := range resp.GetResults() {
		fr = r
	}
	if fr == nil {
		return transcript.Transcript{}, scribe.Fail(scribe.FailSpeech, "speech-to-text returned no result for the recording")
	}
	if e := fr.GetError(); e != nil && e.GetCode() != 0 {
		return transcript.Transcript{}, scribe.Fail(scribe.FailSpeech, "speech-to-text could not transcribe the recording (code %d)", e.GetCode())
	}
	var segs []transcript.Segment
	for _, r := range fr.GetInlineResult().GetTranscript().GetResults() {
		alts := r.GetAlternatives()
		if len(alts) == 0 || strings.TrimSpace(alts[0].GetTranscript()) == "" {
			continue
		}
		seg := transcript.Segment{Text: alts[0].GetTranscript(), EndMs: r.GetResultEndOffset().AsDuration().Milliseconds()}
		if ws := alts[0].GetWords(); len(ws) > 0 {
			seg.StartMs = ws[0].GetStartOffset().AsDuration().Milliseconds()
			if l := ws[0].GetSpeakerLabel(); l != "" {
				seg.Speaker = "Speaker " + l
			}
		}
		segs = append(segs, seg)
	}
	if len(segs) == 0 {
		return transcript.Transcript{}, scribe.Fail(scribe.FailSpeech, "no speech was recognised in the recording")
	}
	return transcript.Build("speech", segs)
}

// SourceURI is the Cloud Storage URI Speech v2 reads an upload from: gs://bucket/object.
func SourceURI(a scribe.AudioObject) string { return "gs://" + a.Bucket + "/" + a.Object }

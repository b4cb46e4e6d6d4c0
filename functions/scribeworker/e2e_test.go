package scribeworker_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/speech/apiv2/speechpb"
	"github.com/fsouza/fake-gcs-server/fakestorage"

	"github.com/medi-os/medi/functions/scribeworker"
	"github.com/medi-os/medi/shared/app"
	"github.com/medi-os/medi/shared/commitmark"
	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/llm"
	"github.com/medi-os/medi/shared/llm/llmtest"
	"github.com/medi-os/medi/shared/notedraft"
	"github.com/medi-os/medi/shared/notes"
	"github.com/medi-os/medi/shared/scribe"
	"github.com/medi-os/medi/shared/speech/speechtest"
	"github.com/medi-os/medi/shared/tasks"
	"github.com/medi-os/medi/shared/testenv"
	"github.com/medi-os/medi/shared/transcript"
)

// audioBucket is the fake uploads bucket of the end-to-end test.
const audioBucket = "uploads-e2e"

// consultation is what the fake Speech-to-Text hears: two diarized speakers.
var consultation = []*speechpb.SpeechRecognitionResult{
	speechtest.Result("Good morning Martha, what brings you in today?", "1", 0, 3*time.Second),
	speechtest.Result("I've had a cough and a fever for three days, and I'm allergic to penicillin.", "2", 3*time.Second, 8*time.Second),
	speechtest.Result("Your temperature is 38.4 and your blood pressure is 142 over 90.", "1", 8*time.Second, 12*time.Second),
	speechtest.Result("On examination there are crackles at the right base.", "1", 12*time.Second, 15*time.Second),
	speechtest.Result("I think this is community acquired pneumonia.", "1", 15*time.Second, 18*time.Second),
	speechtest.Result("I'll prescribe clarithromycin 500 mg twice daily.", "1", 18*time.Second, 21*time.Second),
}

// groundedAnswer is what the fake Vertex AI answers: sentences quoting the speech.
const groundedAnswer = `{"subjective":[{"text":"[PATIENT_GIVEN_NAME] reports a cough and fever for three days; allergic to penicillin.","heading":"History of present illness",
"evidence":[{"segmentId":"s2","quote":"I've had a cough and a fever for three days, and I'm allergic to penicillin"}]}],
"objective":[{"text":"Temperature 38.4 °C, blood pressure 142/90 mmHg.","heading":"Vital signs","evidence":[{"segmentId":"s3","quote":"Your temperature is 38.4 and your blood pressure is 142 over 90"}]},
{"text":"Crackles at the right base.","heading":"Physical examination","evidence":[{"segmentId":"s4","quote":"crackles at the right base"}]}],
"assessment":[{"text":"Community acquired pneumonia.","heading":"Pneumonia","evidence":[{"segmentId":"s5","quote":"community acquired pneumonia"}]}],
"plan":[{"text":"Clarithromycin 500 mg twice daily.","heading":"Pneumonia","evidence":[{"segmentId":"s6","quote":"clarithromycin 500 mg twice daily"}]}]}`

// ungroundedAnswer cites the cough for a heart attack and the prescription for a dose it
// does not say.
const ungroundedAnswer = `{"subjective":[{"text":"Acute myocardial infarction.","heading":"HPI","evidence":[{"segmentId":"s2","quote":"I've had a cough"}]}],
"objective":[],"assessment":[],"plan":[{"text":"Clarithromycin 1000 mg twice daily.","heading":"Plan","evidence":[{"segmentId":"s6","quote":"clarithromycin 500 mg twice daily"}]}]}`

type e2e struct {
	t       *testing.T
	fs      *firestore.Client
	gcs     *fakestorage.Server
	h       http.Handler
	project string
	clinic  string
}

// newE2E starts the fakes (Cloud Storage, Speech-to-Text v2 gRPC, Vertex AI HTTP) and the
// function configured for audio and the Gemini drafter, against the emulators.
func newE2E(t *testing.T, speech *speechtest.Fake, vertexHost string) *e2e {
	t.Helper()
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST", "PUBSUB_EMULATOR_HOST")
	gcs, err := fakestorage.NewServerWithOptions(fakestorage.Options{Host: "127.0.0.1", Port: 0, Scheme: "http"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gcs.Stop)
	gcs.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: audioBucket, VersioningEnabled: true})
	t.Setenv("STORAGE_EMULATOR_HOST", strings.TrimPrefix(gcs.URL(), "http://"))
	t.Setenv("SPEECH_EMULATOR_HOST", speechtest.Start(t, speech))
	t.Setenv("VERTEX_EMULATOR_HOST", vertexHost)
	project := testenv.ProjectID(t)
	h, err := scribeworker.Function.Handler(context.Background(), &scribeworker.Config{
		Base:             config.Base{ProjectID: project, Tier: config.Dev, Version: "test"},
		TasksConfig:      app.TasksConfig{DevSecret: "s3cret"},
		NoteEventsTopic:  notes.DefaultTopic,
		Drafter:          "gemini",
		GeminiModel:      "gemini-test",
		VertexLocation:   "europe-west1",
		GeminiInputPrice: 0.3, GeminiOutputPrice: 2.5,
		MonthlyBudgetUSD: 10,
		ModelTimeout:     5 * time.Second,
		ModelAttempts:    2,
		SpeechModel:      "chirp_2",
		SpeechLocation:   "europe-west4",
		SpeechLanguage:   "en-US",
	})
	if err != nil {
		t.Fatal(err)
	}
	fs, err := firestore.NewClient(context.Background(), project)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fs.Close() })
	ps, err := pubsub.NewClient(context.Background(), project)
	if err != nil {
		t.Fatal(err)
	}
	defer ps.Close()
	if _, err := ps.TopicAdminClient.CreateTopic(context.Background(), &pubsubpb.Topic{Name: "projects/" + project + "/topics/" + notes.DefaultTopic}); err != nil {
		t.Fatal(err)
	}
	return &e2e{t: t, fs: fs, gcs: gcs, h: h, project: project, clinic: "clinic-" + strings.ToLower(t.Name()[len(t.Name())-4:])}
}

// upload creates a patient, an encounter and an uploaded audio session and returns its job.
func (e *e2e) upload(id string) scribe.Job {
	e.t.Helper()
	ctx := context.Background()
	clinic := e.fs.Collection("clinics").Doc(e.clinic)
	if _, err := clinic.Collection("patients").Doc("pat-1").Set(ctx, map[string]any{"clinicId": e.clinic, "mrn": "A-12345",
		"givenName": "Martha", "familyName": "Collins", "birthDate": "1971-01-12", "sex": "female", "version": 1}); err != nil {
		e.t.Fatal(err)
	}
	if _, err := clinic.Collection("encounters").Doc("enc-"+id).Set(ctx, map[string]any{"patientId": "pat-1", "status": "in_consultation"}); err != nil {
		e.t.Fatal(err)
	}
	st := scribe.NewStore(e.fs)
	s, _, err := st.Create(ctx, scribe.Session{ID: id, ClinicID: e.clinic, EncounterID: "enc-" + id, CreatedBy: "u1",
		ContentType: "audio/wav", Format: "wav", Kind: scribe.KindAudio, SizeBytes: 44, Bucket: audioBucket}, commitmark.Marker{})
	if err != nil {
		e.t.Fatal(err)
	}
	e.gcs.CreateObject(fakestorage.Object{ObjectAttrs: fakestorage.ObjectAttrs{BucketName: audioBucket, Name: s.Object, ContentType: "audio/wav"},
		Content: append([]byte("RIFF\x24\x00\x00\x00WAVEfmt "), make([]byte, 32)...)})
	obj, err := e.gcs.GetObject(audioBucket, s.Object)
	if err != nil {
		e.t.Fatal(err)
	}
	gen := obj.Generation
	if _, err := st.Update(ctx, e.clinic, s.ID, func(x *scribe.Session) error {
		x.Status, x.Generation, x.ObjectSize = scribe.StatusUploaded, gen, 44
		return nil
	}); err != nil {
		e.t.Fatal(err)
	}
	return scribe.Job{ClinicID: e.clinic, SessionID: s.ID, Bucket: audioBucket, Object: s.Object, Generation: gen}
}

// run delivers the job as Cloud Tasks would and returns the session and its note.
func (e *e2e) run(job scribe.Job) (scribe.Session, notes.Note) {
	e.t.Helper()
	b, _ := json.Marshal(job)
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(tasks.SecretHeader, "s3cret")
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		e.t.Fatalf("worker answered %d: %s", rec.Code, rec.Body)
	}
	ctx := context.Background()
	s, err := scribe.NewStore(e.fs).Get(ctx, e.clinic, job.SessionID)
	if err != nil {
		e.t.Fatal(err)
	}
	if s.Status != scribe.StatusDrafted {
		e.t.Fatalf("session %s: %+v", s.Status, s.Failure)
	}
	n, err := notes.NewStore(e.fs, nil, "").Get(ctx, e.clinic, s.NoteID)
	if err != nil {
		e.t.Fatal(err)
	}
	return s, n
}

func (e *e2e) usage() []llm.Record {
	e.t.Helper()
	docs, err := e.fs.Collection("clinics").Doc(e.clinic).Collection(llm.CollectionUsage).Documents(context.Background()).GetAll()
	if err != nil {
		e.t.Fatal(err)
	}
	var out []llm.Record
	for _, d := range docs {
		var r llm.Record
		if err := d.DataTo(&r); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// checkSpans fails unless every sentence's spans lie inside cited transcript segments.
func checkSpans(t *testing.T, tr transcript.Transcript, c notes.Content) {
	t.Helper()
	for _, sec := range c.Sections() {
		for _, s := range *sec.Sentences {
			if len(s.Spans) == 0 {
				t.Errorf("%q has no span", s.Text)
			}
			for _, sp := range s.Spans {
				seg, ok := tr.Segment(sp.SegmentID)
				if !ok || !transcript.CheckSpan(seg, sp) {
					t.Errorf("span %+v of %q is not in the transcript", sp, s.Text)
				}
			}
		}
	}
}

// Not parallel: the fakes are found through process-wide *_EMULATOR_HOST variables.
func TestAudioToModelDraftThroughTheRealClients(t *testing.T) {
	speech := &speechtest.Fake{Results: consultation}
	vertex, host := llmtest.Start(t, llmtest.Reply{Text: groundedAnswer})
	e := newE2E(t, speech, host)
	s, n := e.run(e.upload("sess-audio-ok"))

	// Speech v2 read gs://bucket/object (no #generation) with the regional recognizer.
	reqs := speech.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d recognize calls", len(reqs))
	}
	if uri := reqs[0].GetFiles()[0].GetUri(); uri != "gs://"+audioBucket+"/uploads/"+e.clinic+"/sess-audio-ok" {
		t.Errorf("source URI %q", uri)
	}
	if r := reqs[0].GetRecognizer(); r != "projects/"+e.project+"/locations/europe-west4/recognizers/_" {
		t.Errorf("recognizer %q", r)
	}
	// The diarized speakers got their roles from what they said.
	tr, err := scribe.NewStore(e.fs).Transcript(context.Background(), e.clinic, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Segments[0].Role != transcript.RoleClinician || tr.Segments[1].Role != transcript.RolePatient || !tr.RolesInferred {
		t.Errorf("roles %s %s", tr.Segments[0].Role, tr.Segments[1].Role)
	}
	// The model wrote the draft, never saw the patient's name, and its placeholder was
	// restored; every span lies inside its segment.
	if n.Engine != "gemini:gemini-test" || n.FallbackReason != "" || s.FallbackReason != "" {
		t.Fatalf("engine %q fallback %q/%q", n.Engine, n.FallbackReason, s.FallbackReason)
	}
	if sent := vertex.Sent(); strings.Contains(sent, "Martha") || strings.Contains(sent, "Collins") {
		t.Error("the patient's name was sent to the model")
	}
	if got := n.Content.Subjective[0].Text; !strings.HasPrefix(got, "Martha reports") {
		t.Errorf("placeholder not restored: %q", got)
	}
	checkSpans(t, tr, n.Content)
	if u := e.usage(); len(u) != 1 || u[0].Outcome != "ok" || u[0].Purpose != "scribe" || u[0].Usage.CostUSD == 0 {
		t.Errorf("usage records %+v", u)
	}
}

func TestModelFailuresFallBackWithTheirReason(t *testing.T) {
	for _, tc := range []struct {
		name   string
		reply  llmtest.Reply
		reason string
	}{
		{"rate limited on every attempt", llmtest.Reply{Status: http.StatusTooManyRequests}, llm.ReasonRateLimited},
		{"ungrounded answer", llmtest.Reply{Text: ungroundedAnswer}, notedraft.ReasonUngrounded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vertex, host := llmtest.Start(t, tc.reply)
			e := newE2E(t, &speechtest.Fake{Results: consultation}, host)
			s, n := e.run(e.upload("sess-" + strings.ReplaceAll(tc.name, " ", "-")))
			if n.Engine != notedraft.Engine || n.FallbackReason != tc.reason || s.FallbackReason != tc.reason {
				t.Fatalf("engine %q fallback %q (session %q), want the deterministic draft with %q", n.Engine, n.FallbackReason, s.FallbackReason, tc.reason)
			}
			if len(n.Content.Assessment) == 0 {
				t.Error("the deterministic draft has no assessment")
			}
			u := e.usage()
			if len(u) != 1 || u[0].Outcome != tc.reason {
				t.Errorf("usage records %+v (calls %d)", u, vertex.Calls())
			}
		})
	}
}

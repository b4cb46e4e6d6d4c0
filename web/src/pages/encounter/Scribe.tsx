// The AI scribe: upload a transcript or an audio file, or record the consultation in the
// browser; the session's status follows live until the draft note is ready.
import { useEffect, useRef, useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { get, newIdempotencyKey, post } from "../../api/client";
import type { ScribeSession, SignedUpload } from "../../api/types";
import { putSigned, uploadContentType } from "../../lib/scribe";
import { humanize } from "../../lib/triage";
import { ErrorNotice, Notice } from "../../ui/feedback";

const STEPS: ScribeSession["status"][] = ["awaiting_upload", "uploaded", "transcribing", "drafting", "drafted"];

export function ScribeUpload({ encounterId, onDrafted }: { encounterId: string; onDrafted(noteId: string): void }) {
  const [sessionId, setSessionId] = useState<string | null>(null);
  const [pickError, setPickError] = useState<string>();
  const qc = useQueryClient();
  const upload = useMutation({
    mutationFn: async (file: Blob & { name?: string }) => {
      const ct = uploadContentType(file.name ?? "recording.webm", file.type, file.size);
      if ("error" in ct) throw new Error(ct.error);
      const r = await post<{ session: ScribeSession; upload: SignedUpload }>(
        "/v1/scribe/sessions",
        { encounterId, contentType: ct.type, sizeBytes: file.size },
        { idempotencyKey: newIdempotencyKey() },
      );
      setSessionId(r.session.id);
      await putSigned(r.upload, file);
      return r.session;
    },
  });
  const status = useQuery({
    queryKey: ["scribe-session", sessionId],
    enabled: !!sessionId && upload.isSuccess,
    queryFn: () => get<ScribeSession>(`/v1/scribe/sessions/${encodeURIComponent(sessionId!)}`, { background: true }),
    refetchInterval: (q) => (q.state.data && (q.state.data.status === "drafted" || q.state.data.status === "failed") ? false : 1500),
  });
  const s = status.data;
  const drafted = s?.status === "drafted" && s.noteId;
  useEffect(() => {
    if (drafted) {
      void qc.invalidateQueries({ queryKey: ["notes", encounterId] });
      onDrafted(s!.noteId!);
    }
  }, [drafted, encounterId, onDrafted, qc, s]);

  const pick = (f: File | undefined) => {
    setPickError(undefined);
    if (!f) return;
    const ct = uploadContentType(f.name, f.type, f.size);
    if ("error" in ct) {
      setPickError(ct.error);
      return;
    }
    upload.mutate(f);
  };
  const busy = upload.isPending || (!!s && s.status !== "drafted" && s.status !== "failed");
  return (
    <section className="card space-y-3" aria-labelledby="scribe-title">
      <h3 id="scribe-title" className="text-lg font-semibold">
        AI scribe
      </h3>
      <p className="text-sm">Upload the consultation's transcript or audio, or record it here. The draft note cites the transcript.</p>
      <div className="flex flex-wrap items-end gap-3">
        <div>
          <label htmlFor="scribe-file" className="label">
            Transcript or audio file
          </label>
          <input
            id="scribe-file"
            type="file"
            accept=".txt,.vtt,.json,audio/*"
            disabled={busy}
            onChange={(e) => pick(e.target.files?.[0])}
            className="block text-sm file:mr-3 file:rounded file:border file:border-slate-400 file:bg-white file:px-3 file:py-2 dark:file:bg-slate-800 dark:file:text-slate-100"
          />
        </div>
        <Recorder disabled={busy} onDone={(b) => upload.mutate(Object.assign(b, { name: "recording.webm" }))} />
      </div>
      {pickError && <p className="field-error">{pickError}</p>}
      {upload.error && <ErrorNotice error={upload.error} />}
      {(upload.isPending || s) && (
        <div aria-live="polite" data-testid="scribe-status">
          <ol className="flex flex-wrap gap-2 text-sm">
            {STEPS.map((st) => {
              const reached = s ? STEPS.indexOf(s.status) >= STEPS.indexOf(st) : st === "awaiting_upload";
              return (
                <li key={st} className={`rounded-full px-3 py-1 ${reached ? "bg-blue-700 text-white dark:bg-sky-300 dark:text-slate-950" : "border border-slate-400"}`}>
                  {humanize(st === "awaiting_upload" ? "uploading" : st)}
                </li>
              );
            })}
          </ol>
          {s?.status === "failed" && s.failure && (
            <ErrorNotice title={`The scribe could not draft a note (${s.failure.code})`} error={new Error(s.failure.message)} />
          )}
          {s?.status === "drafted" && <Notice tone="success">The draft note is ready below.</Notice>}
        </div>
      )}
    </section>
  );
}

/** Records audio with the browser's microphone (MediaRecorder, WebM/Opus). */
function Recorder({ disabled, onDone }: { disabled: boolean; onDone(b: Blob): void }) {
  const [rec, setRec] = useState<MediaRecorder | null>(null);
  const [error, setError] = useState<string>();
  const [seconds, setSeconds] = useState(0);
  const chunks = useRef<Blob[]>([]);
  useEffect(() => {
    if (!rec) return;
    const t = setInterval(() => setSeconds((s) => s + 1), 1000);
    return () => clearInterval(t);
  }, [rec]);
  if (typeof MediaRecorder === "undefined" || !navigator.mediaDevices) return null;
  const start = async () => {
    setError(undefined);
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      const r = new MediaRecorder(stream, MediaRecorder.isTypeSupported("audio/webm") ? { mimeType: "audio/webm" } : undefined);
      chunks.current = [];
      r.ondataavailable = (e) => chunks.current.push(e.data);
      r.onstop = () => {
        stream.getTracks().forEach((t) => t.stop());
        onDone(new Blob(chunks.current, { type: "audio/webm" }));
      };
      r.start(1000);
      setSeconds(0);
      setRec(r);
    } catch {
      setError("The microphone is not available: allow it in the browser, or upload a file.");
    }
  };
  const stop = () => {
    rec?.stop();
    setRec(null);
  };
  return (
    <div>
      {rec ? (
        <button type="button" className="btn btn-danger" onClick={stop}>
          Stop and upload ({seconds} s)
        </button>
      ) : (
        <button type="button" className="btn btn-secondary" disabled={disabled} onClick={() => void start()}>
          Record the consultation
        </button>
      )}
      {error && <p className="field-error">{error}</p>}
    </div>
  );
}

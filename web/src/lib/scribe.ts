// The scribe upload: which content type a file is sent as, and the signed PUT.
import type { SignedUpload } from "../api/types";
import { ApiError } from "../api/client";

const BY_EXTENSION: Record<string, string> = {
  txt: "text/plain",
  vtt: "text/vtt",
  json: "application/json",
  wav: "audio/wav",
  mp3: "audio/mpeg",
  m4a: "audio/mp4",
  webm: "audio/webm",
  ogg: "audio/ogg",
  flac: "audio/flac",
};

const ACCEPTED = new Set([
  "audio/wav", "audio/x-wav", "audio/wave", "audio/mpeg", "audio/mp3", "audio/mp4", "audio/x-m4a", "audio/m4a", "audio/webm",
  "audio/ogg", "audio/flac", "audio/x-flac", "text/plain", "text/vtt", "application/json",
]);

export const TRANSCRIPT_MAX_BYTES = 2 * 1024 * 1024;
export const AUDIO_MAX_BYTES = 200 * 1024 * 1024;

/** The content type to declare for a file, or an error message when it cannot be sent. */
export function uploadContentType(name: string, browserType: string, size: number): { type: string } | { error: string } {
  const base = browserType.split(";")[0].trim().toLowerCase();
  const ext = name.toLowerCase().split(".").pop() ?? "";
  const type = ACCEPTED.has(base) ? base : BY_EXTENSION[ext];
  if (!type) return { error: "Choose a transcript (.txt, .vtt, .json) or an audio recording (wav, mp3, m4a, webm, ogg, flac)." };
  if (size <= 0) return { error: "The file is empty." };
  const limit = type.startsWith("audio/") ? AUDIO_MAX_BYTES : TRANSCRIPT_MAX_BYTES;
  if (size > limit) return { error: `The file is larger than ${limit / 1024 / 1024} MB.` };
  return { type };
}

/** Sends the file to Cloud Storage with exactly the signed URL's headers. */
export async function putSigned(upload: SignedUpload, body: Blob, fetchImpl: typeof fetch = fetch): Promise<void> {
  let res: Response;
  try {
    res = await fetchImpl(upload.url, { method: upload.method, headers: upload.headers, body, credentials: "omit" });
  } catch {
    throw new ApiError({ status: 0, code: "network", message: "The upload did not reach the storage service. Try again." });
  }
  if (!res.ok) {
    throw new ApiError({ status: res.status, code: "upload_failed", message: `The storage service refused the upload (HTTP ${res.status}). Start a new upload.` });
  }
}

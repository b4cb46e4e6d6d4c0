// Server-Sent Events over fetch (so that the request is an ordinary same-origin request
// with the session cookie, and its failures carry the API's error envelope), with
// reconnection and backoff.

import { ApiError, decode, needsSignIn } from "./client";

export interface SSEEvent {
  event: string;
  data: string;
  id?: string;
}

/** Incremental parser of a text/event-stream (the WHATWG rules, minus BOM handling). */
export class SSEParser {
  private buf = "";
  private data: string[] = [];
  private event = "";
  private id: string | undefined;
  /** The last `retry:` value the server sent, in milliseconds. */
  retryMs: number | undefined;

  /** Feeds a chunk of text; returns the events it completed. */
  push(chunk: string): SSEEvent[] {
    this.buf += chunk;
    const out: SSEEvent[] = [];
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buf);
      if (!m) break;
      // A lone \r at the end of the buffer may be the first half of \r\n.
      if (m[0] === "\r" && m.index === this.buf.length - 1) break;
      const line = this.buf.slice(0, m.index);
      this.buf = this.buf.slice(m.index + m[0].length);
      this.line(line, out);
    }
    return out;
  }

  private line(line: string, out: SSEEvent[]) {
    if (line === "") {
      if (this.data.length > 0) {
        out.push({ event: this.event || "message", data: this.data.join("\n"), id: this.id });
      }
      this.data = [];
      this.event = "";
      return;
    }
    if (line.startsWith(":")) return; // comment (heartbeat)
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "data":
        this.data.push(value);
        break;
      case "event":
        this.event = value;
        break;
      case "id":
        if (!value.includes("\0")) this.id = value;
        break;
      case "retry":
        if (/^\d+$/.test(value)) this.retryMs = Number(value);
        break;
    }
  }
}

export type StreamState =
  | { kind: "connecting"; attempt: number }
  | { kind: "live" }
  | { kind: "retrying"; attempt: number; inMs: number; error: ApiError }
  | { kind: "stopped"; error: ApiError };

export interface StreamOptions {
  onEvent(e: SSEEvent): void;
  onState(s: StreamState): void;
  /** Backoff before attempt n (1-based) after a failure; defaults to 1 s doubling to 30 s. */
  backoffMs?: (attempt: number, serverRetryMs?: number) => number;
  fetchImpl?: typeof fetch;
}

export function defaultBackoff(attempt: number, serverRetryMs?: number): number {
  const base = serverRetryMs ?? 1000;
  return Math.min(30_000, base * 2 ** Math.max(0, attempt - 1));
}

/**
 * Opens the stream at path and keeps it open: a dropped connection or a 5xx is retried
 * with backoff; a refusal (401, 403) stops it with the API's error. Returns a function
 * that closes it.
 */
export function openStream(path: string, opts: StreamOptions): () => void {
  const ctrl = new AbortController();
  const f = opts.fetchImpl ?? fetch.bind(globalThis);
  const backoff = opts.backoffMs ?? defaultBackoff;
  let attempt = 0;
  let serverRetry: number | undefined;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      ctrl.signal.addEventListener("abort", () => {
        clearTimeout(t);
        resolve();
      });
    });

  const run = async () => {
    while (!ctrl.signal.aborted) {
      attempt++;
      opts.onState({ kind: "connecting", attempt });
      let failure: ApiError;
      try {
        const res = await f(path, {
          headers: { Accept: "text/event-stream" },
          credentials: "same-origin",
          cache: "no-store",
          signal: ctrl.signal,
        });
        if (!res.ok || !res.body) {
          await decode(res); // throws the API's error
          throw new ApiError({ status: res.status, code: "invalid_response", message: "The live board did not start." });
        }
        const parser = new SSEParser();
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let live = false;
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          for (const ev of parser.push(value)) {
            if (!live) {
              live = true;
              attempt = 0;
              opts.onState({ kind: "live" });
            }
            opts.onEvent(ev);
          }
          serverRetry = parser.retryMs ?? serverRetry;
        }
        failure = new ApiError({ status: 0, code: "network", message: "The live board connection closed; reconnecting." });
      } catch (e) {
        if (ctrl.signal.aborted) return;
        failure =
          e instanceof ApiError
            ? e
            : new ApiError({ status: 0, code: "network", message: "No connection to the live board; reconnecting." });
      }
      if (failure.status === 401 || failure.status === 403) {
        opts.onState({ kind: "stopped", error: failure });
        return;
      }
      const wait = Math.max(backoff(Math.max(1, attempt), serverRetry), (failure.retryAfterSeconds ?? 0) * 1000);
      opts.onState({ kind: "retrying", attempt, inMs: wait, error: failure });
      await sleep(wait);
    }
  };
  void run();
  return () => ctrl.abort();
}

export { needsSignIn };

import { describe, expect, it, vi } from "vitest";
import { SSEParser, openStream, defaultBackoff, type StreamState } from "./sse";

describe("SSEParser", () => {
  it("parses the board stream's frames, across chunk boundaries", () => {
    const p = new SSEParser();
    const frames = 'retry: 3000\n\nid: 12\nevent: board\ndata: {"version":12}\n\n: heartbeat\n\nid: 13\nevent: bo';
    const got = p.push(frames);
    expect(got).toEqual([{ event: "board", data: '{"version":12}', id: "12" }]);
    expect(p.retryMs).toBe(3000);
    expect(p.push('ard\ndata: {"version":13}\r\n\r\n')).toEqual([{ event: "board", data: '{"version":13}', id: "13" }]);
  });

  it("joins multi-line data and defaults the event name", () => {
    const p = new SSEParser();
    expect(p.push("data: a\ndata: b\n\n")).toEqual([{ event: "message", data: "a\nb", id: undefined }]);
  });

  it("waits for the second half of a CRLF split between chunks", () => {
    const p = new SSEParser();
    expect(p.push("data: x\r")).toEqual([]);
    expect(p.push("\n\r\n")).toEqual([{ event: "message", data: "x", id: undefined }]);
  });
});

describe("defaultBackoff", () => {
  it("doubles from the server's retry hint up to 30 s", () => {
    expect(defaultBackoff(1, 3000)).toBe(3000);
    expect(defaultBackoff(2, 3000)).toBe(6000);
    expect(defaultBackoff(10, 3000)).toBe(30000);
  });
});

function streamResponse(chunks: string[], status = 200): Response {
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      for (const ch of chunks) c.enqueue(new TextEncoder().encode(ch));
      c.close();
    },
  });
  return new Response(body, { status, headers: { "Content-Type": "text/event-stream" } });
}

describe("openStream", () => {
  it("reconnects after the stream ends and stops on 401 with the API's message", async () => {
    const states: StreamState[] = [];
    const events: string[] = [];
    const fetchImpl = vi
      .fn<typeof fetch>()
      .mockResolvedValueOnce(streamResponse(["event: board\ndata: 1\n\n"]))
      .mockResolvedValueOnce(
        new Response(
          JSON.stringify({
            success: false,
            data: null,
            error: { code: "unauthenticated", message: "session ended after inactivity: sign in again", details: { reason: "session_idle" } },
            requestId: "r1",
          }),
          { status: 401 },
        ),
      );
    await new Promise<void>((resolve) => {
      openStream("/v1/queue/stream", {
        fetchImpl,
        backoffMs: () => 1,
        onEvent: (e) => events.push(e.data),
        onState: (s) => {
          states.push(s);
          if (s.kind === "stopped") resolve();
        },
      });
    });
    expect(events).toEqual(["1"]);
    expect(states.map((s) => s.kind)).toEqual(["connecting", "live", "retrying", "connecting", "stopped"]);
    const last = states.at(-1);
    expect(last?.kind === "stopped" && last.error.reason).toBe("session_idle");
    expect(last?.kind === "stopped" && last.error.message).toBe("session ended after inactivity: sign in again");
  });

  it("retries a 503 and honours Retry-After", async () => {
    const states: StreamState[] = [];
    const fetchImpl = vi
      .fn<typeof fetch>()
      .mockResolvedValueOnce(new Response("{}", { status: 503, headers: { "Retry-After": "2" } }))
      .mockImplementation(() => new Promise(() => {}));
    const close = openStream("/v1/queue/stream", { fetchImpl, backoffMs: () => 5, onEvent: () => {}, onState: (s) => states.push(s) });
    await vi.waitFor(() => expect(states.some((s) => s.kind === "retrying")).toBe(true));
    const r = states.find((s) => s.kind === "retrying");
    expect(r?.kind === "retrying" && r.inMs).toBe(2000);
    close();
  });
});

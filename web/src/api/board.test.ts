import { afterEach, describe, expect, it, vi } from "vitest";
import { earlyBoardStreamWaiting, preopenBoardStream, takeEarlyBoardStream } from "./board";

// A stream that sends chunks and stays open, as the server's does.
function openResponse(chunks: string[]): Response {
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      for (const ch of chunks) c.enqueue(new TextEncoder().encode(ch));
    },
  });
  return new Response(body, { status: 200, headers: { "Content-Type": "text/event-stream" } });
}

afterEach(() => {
  takeEarlyBoardStream()?.close();
  vi.unstubAllGlobals();
});

describe("the board stream opened at start-up", () => {
  it("is handed, with the board it received, to the first board screen only", async () => {
    const fetchMock = vi.fn<typeof fetch>().mockResolvedValue(openResponse(['retry: 3000\n\nid: 3\nevent: board\ndata: {"clinicId":"c1","version":3,"entries":[]}\n\n']));
    vi.stubGlobal("fetch", fetchMock);
    preopenBoardStream();
    preopenBoardStream(); // one stream, however often asked
    const bs = takeEarlyBoardStream();
    expect(bs).not.toBeNull();
    await vi.waitFor(() => expect(bs!.board?.version).toBe(3));
    expect(bs!.state.kind).toBe("live");
    expect(fetchMock).toHaveBeenCalledTimes(1);
    expect(fetchMock.mock.calls[0][0]).toBe("/v1/queue/stream");
    expect(takeEarlyBoardStream()).toBeNull();
    bs!.close();
  });

  it("is closed when refused, so a signed-out visitor's screen opens its own", async () => {
    const refused = new Response(
      JSON.stringify({ success: false, data: null, error: { code: "unauthenticated", message: "not signed in", details: { reason: "token_missing" } } }),
      { status: 401, headers: { "Content-Type": "application/json" } },
    );
    vi.stubGlobal("fetch", vi.fn<typeof fetch>().mockResolvedValue(refused));
    preopenBoardStream();
    expect(earlyBoardStreamWaiting()).toBe(true);
    await vi.waitFor(() => expect(earlyBoardStreamWaiting()).toBe(false));
    expect(takeEarlyBoardStream()).toBeNull();
  });
});

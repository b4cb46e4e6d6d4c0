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

describe("the board stream's frames", () => {
  it("replace the board at an equal version (a live frame, then the stored board) and skip an older one", async () => {
    const frame = (version: number, entries: string) =>
      `id: ${version}\nevent: board\ndata: {"clinicId":"c1","version":${version},"entries":[${entries}]}\n\n`;
    const a = '{"encounterId":"a","position":1}';
    const b = '{"encounterId":"b","position":2,"provisional":true,"waitEstimate":null}';
    const bConfirmed = '{"encounterId":"b","position":2,"waitEstimate":{"p50Minutes":5,"p90Minutes":9}}';
    vi.stubGlobal(
      "fetch",
      vi.fn<typeof fetch>().mockResolvedValue(
        openResponse(["retry: 3000\n\n", frame(4, a), frame(4, `${a},${b}`), frame(3, a), frame(5, `${a},${bConfirmed}`)]),
      ),
    );
    preopenBoardStream();
    const bs = takeEarlyBoardStream()!;
    await vi.waitFor(() => expect(bs.board?.version).toBe(5));
    expect(bs.board!.entries.map((e) => e.encounterId)).toEqual(["a", "b"]);
    expect(bs.board!.entries[1].provisional).toBeUndefined();
    bs.close();
  });

  it("keeps a provisional entry of an equal version", async () => {
    const data = '{"clinicId":"c1","version":4,"entries":[{"encounterId":"n","position":1,"provisional":true,"waitEstimate":null}]}';
    vi.stubGlobal(
      "fetch",
      vi.fn<typeof fetch>().mockResolvedValue(
        openResponse(['id: 4\nevent: board\ndata: {"clinicId":"c1","version":4,"entries":[]}\n\n', `id: 4\nevent: board\ndata: ${data}\n\n`]),
      ),
    );
    preopenBoardStream();
    const bs = takeEarlyBoardStream()!;
    await vi.waitFor(() => expect(bs.board?.entries.length).toBe(1));
    expect(bs.board!.entries[0].provisional).toBe(true);
    bs.close();
  });
});

import { describe, expect, it, vi } from "vitest";
import { putSigned, uploadContentType } from "./scribe";

describe("uploadContentType", () => {
  it("takes the browser's type when accepted, else the extension", () => {
    expect(uploadContentType("visit.vtt", "", 10)).toEqual({ type: "text/vtt" });
    expect(uploadContentType("rec.webm", "audio/webm;codecs=opus", 10)).toEqual({ type: "audio/webm" });
    expect(uploadContentType("notes.txt", "text/plain", 10)).toEqual({ type: "text/plain" });
  });
  it("refuses what the scribe cannot read, empty files and oversize ones", () => {
    expect(uploadContentType("photo.png", "image/png", 10)).toHaveProperty("error");
    expect(uploadContentType("a.txt", "text/plain", 0)).toEqual({ error: "The file is empty." });
    expect(uploadContentType("a.txt", "text/plain", 3 * 1024 * 1024)).toEqual({ error: "The file is larger than 2 MB." });
  });
});

describe("putSigned", () => {
  it("sends exactly the signed headers (the session's upload token included) and reports a refusal", async () => {
    const f = vi.fn<typeof fetch>().mockResolvedValue(new Response("", { status: 403 }));
    const up = { url: "https://storage.example/b/o?sig", method: "PUT" as const, headers: { "Content-Type": "text/vtt", "x-goog-content-length-range": "0,5", "x-goog-meta-medi-upload-token": "tok" }, expiresAt: "" };
    await expect(putSigned(up, new Blob(["hello"]), f)).rejects.toThrow("HTTP 403");
    expect(f).toHaveBeenCalledWith(up.url, expect.objectContaining({ method: "PUT", headers: up.headers, credentials: "omit" }));
  });
});

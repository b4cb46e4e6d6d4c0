import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError, needsSignIn, request, setSessionHooks } from "./client";

function envelope(status: number, body: object, headers: Record<string, string> = {}) {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });
}
const ok = (data: unknown) => envelope(200, { success: true, data, error: null, requestId: "r-ok" }, { ETag: '"4"' });
const fail = (status: number, code: string, message: string, details?: object) =>
  envelope(status, { success: false, data: null, error: { code, message, details }, requestId: "r-err" }, { "Retry-After": "3" });

afterEach(() => setSessionHooks(null));

describe("request", () => {
  it("unwraps the envelope and sends the headers of a retry-safe change", async () => {
    const f = vi.spyOn(globalThis, "fetch").mockResolvedValue(ok({ id: "p1" }));
    const r = await request<{ id: string }>("POST", "/v1/patients", { body: { a: 1 }, idempotencyKey: "k1", ifMatch: 3 });
    expect(r).toMatchObject({ data: { id: "p1" }, etag: '"4"', requestId: "r-ok", status: 200 });
    const [, init] = f.mock.calls[0];
    expect(init?.headers).toMatchObject({ "Idempotency-Key": "k1", "If-Match": '"3"', "Content-Type": "application/json" });
    expect(init?.credentials).toBe("same-origin");
  });

  it("returns a FHIR resource as itself: application/fhir+json has no envelope", async () => {
    const bundle = { resourceType: "Bundle", type: "collection", entry: [] };
    const f = vi.spyOn(globalThis, "fetch").mockResolvedValue(
      new Response(JSON.stringify(bundle), { status: 200, headers: { "Content-Type": "application/fhir+json", "X-Request-Id": "r-fhir" } }),
    );
    const r = await request("GET", "/v1/notes/n1/fhir", { accept: "application/fhir+json" });
    expect(r).toMatchObject({ data: bundle, requestId: "r-fhir", status: 200 });
    expect(f.mock.calls[0][1]?.headers).toMatchObject({ Accept: "application/fhir+json" });
  });

  it("turns an error envelope into an ApiError with the API's message and fields", async () => {
    vi.spyOn(globalThis, "fetch").mockResolvedValue(
      fail(400, "invalid_argument", "2 invalid field(s)", { fields: [{ field: "birthDate", message: "must not be in the future" }] }),
    );
    const e = (await request("POST", "/v1/patients", { body: {} }).catch((x) => x)) as ApiError;
    expect(e).toBeInstanceOf(ApiError);
    expect(e.message).toBe("2 invalid field(s)");
    expect(e.fields).toEqual({ birthDate: "must not be in the future" });
    expect(e.requestId).toBe("r-err");
    expect(e.retryAfterSeconds).toBe(3);
  });

  it("reports a network failure as retryable, never raw", async () => {
    vi.spyOn(globalThis, "fetch").mockRejectedValue(new TypeError("Failed to fetch"));
    const e = (await request("GET", "/v1/me").catch((x) => x)) as ApiError;
    expect(e.code).toBe("network");
    expect(e.transient).toBe(true);
  });

  it("waits for the sign-in after an ended session, then sends the request again", async () => {
    const f = vi
      .spyOn(globalThis, "fetch")
      .mockResolvedValueOnce(fail(401, "unauthenticated", "session ended after inactivity: sign in again", { reason: "session_idle" }))
      .mockResolvedValueOnce(ok({ id: "p2" }));
    const signInAgain = vi.fn().mockResolvedValue(undefined);
    setSessionHooks({ signInAgain, reauthenticate: vi.fn() });
    const r = await request<{ id: string }>("POST", "/v1/patients", { body: { a: 1 }, idempotencyKey: "same" });
    expect(r.data.id).toBe("p2");
    expect(signInAgain).toHaveBeenCalledOnce();
    expect(needsSignIn(signInAgain.mock.calls[0][0])).toBe(true);
    // The retry is the same action: same body, same Idempotency-Key.
    expect(f.mock.calls[1][1]?.headers).toMatchObject({ "Idempotency-Key": "same" });
  });

  it("asks for the password when the API wants a recent sign-in and retries with the fresh token", async () => {
    const f = vi
      .spyOn(globalThis, "fetch")
      .mockResolvedValueOnce(fail(401, "unauthenticated", "recent sign-in required", { reason: "reauthentication_required" }))
      .mockResolvedValueOnce(ok({ status: "approved" }));
    const reauthenticate = vi.fn().mockResolvedValue("fresh-token");
    setSessionHooks({ signInAgain: vi.fn(), reauthenticate });
    await request("POST", "/v1/notes/n1/approve", { body: {} });
    expect(reauthenticate).toHaveBeenCalledOnce();
    expect(f.mock.calls[1][1]?.headers).toMatchObject({ Authorization: "Bearer fresh-token" });
  });

  it("does not prompt for background requests or twice for one request", async () => {
    vi.spyOn(globalThis, "fetch").mockImplementation(async () => fail(401, "unauthenticated", "session expired", { reason: "session_expired" }));
    const signInAgain = vi.fn().mockResolvedValue(undefined);
    setSessionHooks({ signInAgain, reauthenticate: vi.fn() });
    await expect(request("GET", "/v1/queue", { background: true })).rejects.toBeInstanceOf(ApiError);
    expect(signInAgain).not.toHaveBeenCalled();
    await expect(request("GET", "/v1/queue")).rejects.toBeInstanceOf(ApiError);
    expect(signInAgain).toHaveBeenCalledOnce();
  });
});

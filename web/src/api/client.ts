// The API client: same-origin fetch with the session cookie, the response envelope
// {success, data, error, requestId} unwrapped, errors as ApiError with the API's own
// message and code. Requests refused because the session ended wait for the user to sign
// in again and are then retried once; requests refused for want of a recent sign-in
// (signing a note, staff changes) ask for the password and are retried with the fresh
// ID token as a bearer token.

export interface FieldError {
  field: string;
  message: string;
}

/** An error answered by the API (or the network failing to reach it). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, unknown>;
  readonly requestId: string;
  readonly retryAfterSeconds?: number;

  constructor(init: {
    status: number;
    code: string;
    message: string;
    details?: unknown;
    requestId?: string;
    retryAfterSeconds?: number;
  }) {
    super(init.message);
    this.name = "ApiError";
    this.status = init.status;
    this.code = init.code;
    this.details =
      init.details && typeof init.details === "object" && !Array.isArray(init.details)
        ? (init.details as Record<string, unknown>)
        : {};
    this.requestId = init.requestId ?? "";
    this.retryAfterSeconds = init.retryAfterSeconds;
  }

  /** details.reason, when the API gave one (e.g. session_idle, duplicate_mrn). */
  get reason(): string | undefined {
    const r = this.details.reason;
    return typeof r === "string" ? r : undefined;
  }

  /** details.fields as a map field -> message (the first message of each field). */
  get fields(): Record<string, string> {
    const out: Record<string, string> = {};
    const f = this.details.fields;
    if (Array.isArray(f)) {
      for (const e of f as FieldError[]) {
        if (e && typeof e.field === "string" && !(e.field in out)) out[e.field] = String(e.message ?? "");
      }
    }
    return out;
  }

  /** The network failed, or a gateway could not reach the function: worth retrying. */
  get transient(): boolean {
    return this.code === "network" || this.status === 502 || this.status === 503 || this.status === 504;
  }
}

/** 401 reasons after which the user must sign in again (the session or token ended). */
const SIGN_IN_REASONS = new Set([
  "session_idle",
  "session_expired",
  "session_revoked",
  "session_invalid",
  "token_missing",
  "token_invalid",
  "token_expired",
  "token_revoked",
]);

export function needsSignIn(e: unknown): e is ApiError {
  return e instanceof ApiError && e.status === 401 && (e.reason === undefined || SIGN_IN_REASONS.has(e.reason));
}

export function needsReauth(e: unknown): e is ApiError {
  return e instanceof ApiError && e.status === 401 && e.reason === "reauthentication_required";
}

/** What the session layer does when the API refuses a request for want of a sign-in. */
export interface SessionHooks {
  /** Resolves once the same user has signed in again; rejects when they did not. */
  signInAgain(cause: ApiError): Promise<void>;
  /** Asks for the password again and resolves with a fresh ID token. */
  reauthenticate(cause: ApiError): Promise<string>;
}

let hooks: SessionHooks | null = null;

export function setSessionHooks(h: SessionHooks | null): void {
  hooks = h;
}

export interface RequestOptions {
  body?: unknown;
  /** A fresh random key per user action; reuse it only to retry that action. */
  idempotencyKey?: string;
  /** The version the change is based on (sent as If-Match: "<n>"). */
  ifMatch?: number | string;
  query?: Record<string, string | number | boolean | string[] | undefined>;
  signal?: AbortSignal;
  /** A request the app makes by itself (polling): it never prompts for a sign-in. */
  background?: boolean;
  /** Bearer token for this request (a fresh ID token after re-authentication). */
  bearer?: string;
  /**
   * The media type asked for (Accept). A success in a standard format of its own
   * (application/fhir+json) comes without the envelope: its body is the data.
   */
  accept?: string;
  /** Used by the hooks' retries: do not prompt again. */
  noPrompt?: boolean;
}

export interface ApiResponse<T> {
  data: T;
  status: number;
  etag?: string;
  requestId: string;
  headers: Headers;
}

export function buildURL(path: string, query?: RequestOptions["query"]): string {
  if (!query) return path;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === "") continue;
    if (Array.isArray(v)) v.forEach((x) => q.append(k, x));
    else q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

/** Decodes a response into its data or an ApiError. */
export async function decode<T>(res: Response): Promise<ApiResponse<T>> {
  let env: { success?: boolean; data?: T; error?: { code?: string; message?: string; details?: unknown }; requestId?: string } | null = null;
  const text = await res.text();
  if (text) {
    try {
      env = JSON.parse(text);
    } catch {
      env = null;
    }
  }
  const retryAfter = Number(res.headers.get("Retry-After"));
  const mediaType = (res.headers.get("Content-Type") ?? "").split(";")[0].trim().toLowerCase();
  if (res.ok && env && mediaType === "application/fhir+json") {
    // A FHIR resource is answered as itself, without the envelope; errors keep it.
    return { data: env as T, status: res.status, requestId: res.headers.get("X-Request-Id") ?? "", headers: res.headers };
  }
  if (!res.ok || !env || env.success === false) {
    throw new ApiError({
      status: res.status,
      code: env?.error?.code ?? (res.status >= 500 ? "unavailable" : "invalid_response"),
      message:
        env?.error?.message ??
        (res.status >= 500 ? "The service is unavailable; try again in a moment." : `Unexpected answer (HTTP ${res.status}).`),
      details: env?.error?.details,
      requestId: env?.requestId,
      retryAfterSeconds: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
    });
  }
  const etag = res.headers.get("ETag") ?? undefined;
  return { data: env.data as T, status: res.status, etag, requestId: env.requestId ?? "", headers: res.headers };
}

/** Sends one request to the API and returns its data; see the module comment. */
export async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { Accept: opts.accept ?? "application/json" };
  if (opts.body !== undefined) headers["Content-Type"] = "application/json";
  if (opts.idempotencyKey) headers["Idempotency-Key"] = opts.idempotencyKey;
  if (opts.ifMatch !== undefined) headers["If-Match"] = `"${opts.ifMatch}"`;
  if (opts.bearer) headers["Authorization"] = `Bearer ${opts.bearer}`;
  let res: Response;
  try {
    res = await fetch(buildURL(path, opts.query), {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      credentials: "same-origin",
      cache: "no-store",
      signal: opts.signal,
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === "AbortError") throw e;
    throw new ApiError({ status: 0, code: "network", message: "No connection to Medi OS. Check the network; the app retries." });
  }
  try {
    return await decode<T>(res);
  } catch (e) {
    if (!hooks || opts.noPrompt || opts.background) throw e;
    if (needsSignIn(e)) {
      await hooks.signInAgain(e);
      return request<T>(method, path, { ...opts, noPrompt: true });
    }
    if (needsReauth(e)) {
      const token = await hooks.reauthenticate(e);
      return request<T>(method, path, { ...opts, bearer: token, noPrompt: true });
    }
    throw e;
  }
}

export async function get<T>(path: string, opts?: RequestOptions): Promise<T> {
  return (await request<T>("GET", path, opts)).data;
}

export async function post<T>(path: string, body: unknown, opts?: RequestOptions): Promise<T> {
  return (await request<T>("POST", path, { ...opts, body })).data;
}

/** A new Idempotency-Key for one user action. */
export function newIdempotencyKey(): string {
  return crypto.randomUUID();
}

/**
 * Reports that the session ended, seen by a request that does not wait for the sign-in
 * (the live board's stream): the screen locks as for any other such refusal.
 */
export function reportSessionEnded(cause: ApiError): void {
  hooks?.signInAgain(cause).catch(() => {});
}

// The signed-in session: sign-in with Firebase Authentication exchanged for the API's web
// session cookie (POST /v1/sessions), who is signed in (GET /v1/me), sign-out, automatic
// logoff after the clinic's idle timeout, and the prompts the API asks for:
//
// - The session ended (401 session_idle, expired, revoked) or the user was idle for the
//   clinic's idle timeout: the screen locks behind a sign-in panel. Nothing under it is
//   shown or reachable, but it stays in memory, so a form in progress survives; the
//   request that was refused is retried once the same person has signed in again. When
//   someone else signs in instead, everything of the previous user is dropped.
// - A signing action needs a recent sign-in (401 reauthentication_required): the app asks
//   for the password and retries that one request with the fresh ID token.
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type FormEvent, type ReactNode } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { ApiError, get, request, setSessionHooks } from "../api/client";
import type { Me, SessionInfo } from "../api/types";
import { loadConfig } from "../config";
import { navigate } from "../lib/router";
import { Dialog } from "../ui/dialog";
import { TextField } from "../ui/controls";
import { errorMessage } from "../ui/feedback";

export type LockReason = "idle" | "ended";

export type SessionState =
  | { status: "loading" }
  | { status: "unavailable"; error: unknown }
  | { status: "signedOut"; notice?: string }
  | { status: "signedIn"; me: Me; locked: LockReason | null; notice?: string };

interface SessionContextValue {
  state: SessionState;
  signIn(email: string, password: string): Promise<void>;
  signOut(): Promise<void>;
  /** Drops the locked user's work and shows the plain sign-in screen. */
  switchUser(): void;
  retryLoad(): void;
}

const SessionContext = createContext<SessionContextValue | null>(null);

export function useSession(): SessionContextValue {
  const v = useContext(SessionContext);
  if (!v) throw new Error("useSession outside SessionProvider");
  return v;
}

/** The signed-in staff member (only under a signed-in session). */
export function useMe(): Me {
  const { state } = useSession();
  if (state.status !== "signedIn") throw new Error("useMe while signed out");
  return state.me;
}

/** Whether the screen is locked: background requests (polling, streams) stop meanwhile. */
export function useLocked(): boolean {
  const { state } = useSession();
  return state.status !== "signedIn" || state.locked !== null;
}

const IDLE_KEY = "medi.idleTimeoutSeconds";
const DEFAULT_IDLE_SECONDS = 15 * 60;

function idleSeconds(): number {
  const v = Number(sessionStorage.getItem(IDLE_KEY));
  return Number.isFinite(v) && v > 0 ? v : DEFAULT_IDLE_SECONDS;
}

/** Signs in with Firebase and opens the web session; returns who signed in. */
async function openSession(email: string, password: string): Promise<Me> {
  const cfg = await loadConfig();
  const { signInForToken } = await import("./firebase");
  const idToken = await signInForToken(cfg, email, password);
  const info = (await request<SessionInfo>("POST", "/v1/sessions", { body: { idToken }, noPrompt: true })).data;
  sessionStorage.setItem(IDLE_KEY, String(info.idleTimeoutSeconds));
  return get<Me>("/v1/me", { noPrompt: true });
}

// The session check of the page load, started by main.tsx when the app's code runs,
// before React's first render, so that it overlaps the screen's code loading.
let earlyMe: Promise<Me> | null = null;

/** Starts the session check (GET /v1/me) now; the session provider takes its answer. */
export function startSessionCheck(): void {
  earlyMe ??= get<Me>("/v1/me", { noPrompt: true });
  earlyMe.catch(() => {}); // handled where it is taken
}

interface Pending {
  resolve(): void;
  reject(e: unknown): void;
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const qc = useQueryClient();
  const [state, setState] = useState<SessionState>({ status: "loading" });
  const stateRef = useRef(state);
  stateRef.current = state;
  const waiting = useRef<Pending[]>([]);
  const [reauth, setReauth] = useState<{ cause: ApiError; resolve(t: string): void; reject(e: unknown): void } | null>(null);

  const load = useCallback(() => {
    setState({ status: "loading" });
    const early = earlyMe;
    earlyMe = null;
    (early ?? get<Me>("/v1/me", { noPrompt: true }))
      .then((me) => setState({ status: "signedIn", me, locked: null }))
      .catch((e) => {
        if (e instanceof ApiError && (e.status === 401 || e.status === 403)) setState({ status: "signedOut" });
        else setState({ status: "unavailable", error: e });
      });
  }, []);
  useEffect(load, [load]);

  const lock = useCallback((reason: LockReason, notice?: string) => {
    const s = stateRef.current;
    if (s.status === "signedIn" && s.locked === null) setState({ ...s, locked: reason, notice });
  }, []);

  const dropAll = useCallback(
    (notice?: string) => {
      waiting.current.forEach((p) => p.reject(new ApiError({ status: 401, code: "unauthenticated", message: "Signed out." })));
      waiting.current = [];
      qc.clear();
      sessionStorage.removeItem(IDLE_KEY);
      setState({ status: "signedOut", notice });
      navigate("/", { replace: true });
    },
    [qc],
  );

  const signIn = useCallback(
    async (email: string, password: string) => {
      const me = await openSession(email, password);
      const prev = stateRef.current;
      if (prev.status === "signedIn" && prev.me.uid === me.uid) {
        // The same person is back: unlock, and retry what the lock held up.
        setState({ status: "signedIn", me, locked: null });
        const w = waiting.current;
        waiting.current = [];
        w.forEach((p) => p.resolve());
        return;
      }
      if (prev.status === "signedIn") {
        waiting.current.forEach((p) => p.reject(new ApiError({ status: 401, code: "unauthenticated", message: "Another user signed in." })));
        waiting.current = [];
        qc.clear();
        navigate("/", { replace: true });
      }
      setState({ status: "signedIn", me, locked: null });
    },
    [qc],
  );

  const signOut = useCallback(async () => {
    try {
      await request("DELETE", "/v1/sessions", { noPrompt: true });
    } catch {
      // Signing out locally still happens; the session also ends by itself.
    }
    dropAll("You have signed out.");
  }, [dropAll]);

  // The API client's hooks: a request refused for an ended session waits for the sign-in.
  useEffect(() => {
    setSessionHooks({
      signInAgain(cause) {
        if (stateRef.current.status !== "signedIn") return Promise.reject(cause);
        lock("ended", cause.message);
        return new Promise<void>((resolve, reject) => waiting.current.push({ resolve, reject }));
      },
      reauthenticate(cause) {
        return new Promise<string>((resolve, reject) => setReauth({ cause, resolve, reject }));
      },
    });
    return () => setSessionHooks(null);
  }, [lock]);

  // Automatic logoff: no keyboard, pointer or touch input for the idle timeout locks the
  // screen (the API refuses the session after the same time without requests).
  const lastInput = useRef(Date.now());
  const [idleWarning, setIdleWarning] = useState<number | null>(null);
  const active = state.status === "signedIn" && state.locked === null;
  useEffect(() => {
    if (!active) return;
    lastInput.current = Date.now();
    const onInput = () => {
      lastInput.current = Date.now();
    };
    const events = ["pointerdown", "keydown", "wheel", "touchstart"] as const;
    events.forEach((e) => window.addEventListener(e, onInput, { passive: true, capture: true }));
    const t = setInterval(() => {
      const left = idleSeconds() * 1000 - (Date.now() - lastInput.current);
      if (left <= 0) {
        setIdleWarning(null);
        lock("idle", "You were away for a while, so the screen was locked to protect patient data.");
      } else setIdleWarning(left <= 60_000 ? Math.ceil(left / 1000) : null);
    }, 1000);
    return () => {
      clearInterval(t);
      events.forEach((e) => window.removeEventListener(e, onInput, { capture: true }));
      setIdleWarning(null);
    };
  }, [active, lock]);

  const value = useMemo<SessionContextValue>(
    () => ({ state, signIn, signOut, switchUser: () => dropAll(), retryLoad: load }),
    [state, signIn, signOut, dropAll, load],
  );

  const locked = state.status === "signedIn" && state.locked !== null;
  return (
    <SessionContext.Provider value={value}>
      {idleWarning !== null && (
        <div role="alert" className="fixed inset-x-0 top-0 z-40 bg-amber-300 p-2 text-center text-sm font-semibold text-slate-950">
          No activity: the screen locks in {idleWarning} s. Move the mouse or press a key to stay signed in.
        </div>
      )}
      <div inert={locked} aria-hidden={locked || undefined} className={locked ? "invisible" : undefined}>
        {children}
      </div>
      {locked && state.status === "signedIn" && <LockScreen me={state.me} reason={state.locked!} notice={state.notice} />}
      <ReauthDialog
        request={reauth}
        email={state.status === "signedIn" ? state.me.email : ""}
        onDone={() => setReauth(null)}
      />
    </SessionContext.Provider>
  );
}

function LockScreen({ me, reason, notice }: { me: Me; reason: LockReason; notice?: string }) {
  const { signIn, switchUser } = useSession();
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await signIn(me.email, password);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="fixed inset-0 z-50 flex items-center justify-center overflow-auto bg-slate-100 p-4 dark:bg-slate-950">
      <main className="card w-full max-w-md" aria-labelledby="lock-title">
        <h1 id="lock-title" className="mb-2 text-xl font-bold">
          {reason === "idle" ? "Screen locked" : "Sign in again"}
        </h1>
        <p className="mb-3 text-sm">{notice ?? "Your session ended."} Your work on this screen is kept until you sign in.</p>
        <form onSubmit={submit} className="space-y-3">
          <p className="text-sm">
            Signed in as <strong>{me.email}</strong>
          </p>
          <TextField
            label="Password"
            type="password"
            autoComplete="current-password"
            required
            autoFocus
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            error={error}
          />
          <div className="flex flex-wrap gap-2">
            <button type="submit" className="btn btn-primary" disabled={busy}>
              {busy ? "Signing in…" : "Sign in and continue"}
            </button>
            <button type="button" className="btn btn-secondary" onClick={switchUser}>
              Sign in as someone else
            </button>
          </div>
        </form>
      </main>
    </div>
  );
}

function ReauthDialog({
  request: req,
  email,
  onDone,
}: {
  request: { cause: ApiError; resolve(t: string): void; reject(e: unknown): void } | null;
  email: string;
  onDone(): void;
}) {
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    setPassword("");
    setError(undefined);
  }, [req]);
  const cancel = () => {
    req?.reject(req.cause);
    onDone();
  };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!req) return;
    setBusy(true);
    setError(undefined);
    try {
      const cfg = await loadConfig();
      const { signInForToken } = await import("./firebase");
      const token = await signInForToken(cfg, email, password);
      req.resolve(token);
      onDone();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog open={req !== null} title="Confirm it is you" onClose={cancel}>
      <form onSubmit={submit} className="space-y-3">
        <p className="text-sm">This action is a signature: enter your password again ({email}).</p>
        <TextField
          label="Password"
          type="password"
          autoComplete="current-password"
          required
          autoFocus
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          error={error}
        />
        <div className="flex gap-2">
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {busy ? "Checking…" : "Confirm"}
          </button>
          <button type="button" className="btn btn-secondary" onClick={cancel}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}

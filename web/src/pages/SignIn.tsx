// The sign-in screen: e-mail and password, "forgot password", and on the local stack the
// seeded demo accounts, one click each.
import { useEffect, useState, type FormEvent } from "react";
import { useSession } from "../auth/session";
import { post } from "../api/client";
import { loadConfig, type DemoAccount } from "../config";
import { TextField } from "../ui/controls";
import { errorMessage, Notice } from "../ui/feedback";

export function SignIn({ notice }: { notice?: string }) {
  const { signIn } = useSession();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [info, setInfo] = useState<string | undefined>(notice);
  const [demo, setDemo] = useState<DemoAccount[]>([]);

  useEffect(() => {
    document.title = "Sign in · Medi OS";
    loadConfig()
      .then((c) => setDemo(c.demoAccounts ?? []))
      .catch(() => setDemo([]));
  }, []);

  const go = async (em: string, pw: string) => {
    setBusy(true);
    setError(undefined);
    setInfo(undefined);
    try {
      await signIn(em, pw);
    } catch (e) {
      setError(errorMessage(e));
      setBusy(false);
    }
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void go(email.trim(), password);
  };

  const forgot = async () => {
    setError(undefined);
    if (!email.trim()) {
      setError("Enter your e-mail address first, then choose “Forgot password”.");
      return;
    }
    try {
      await post("/v1/auth/password-reset", { email: email.trim() }, { noPrompt: true });
      setInfo("If this address has an account, a password reset link is on its way. Check your spam folder too.");
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  return (
    <main className="flex min-h-screen items-start justify-center p-4 sm:items-center">
      <div className="card w-full max-w-md">
        <h1 className="mb-1 text-2xl font-bold">Medi OS</h1>
        <p className="muted mb-4 text-sm">Sign in with your clinic account.</p>
        {info && <Notice>{info}</Notice>}
        <form onSubmit={submit} className="mt-3 space-y-3" aria-label="Sign in">
          <TextField label="E-mail address" type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
          <TextField
            label="Password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            error={error}
          />
          <div className="flex flex-wrap items-center gap-3">
            <button type="submit" className="btn btn-primary" disabled={busy}>
              {busy ? "Signing in…" : "Sign in"}
            </button>
            <button type="button" className="btn btn-secondary" onClick={() => void forgot()}>
              Forgot password
            </button>
          </div>
        </form>
        {demo.length > 0 && (
          <section aria-labelledby="demo-title" className="mt-6 border-t border-slate-200 pt-4 dark:border-slate-700">
            <h2 id="demo-title" className="font-semibold">
              Demo clinic (local stack only)
            </h2>
            <p className="muted mb-2 text-sm">Pick an account to sign in as that role.</p>
            <ul className="grid grid-cols-2 gap-2">
              {demo.map((a) => (
                <li key={a.email}>
                  <button type="button" className="btn btn-secondary w-full" disabled={busy} onClick={() => void go(a.email, a.password)}>
                    {a.label ?? a.role[0].toUpperCase() + a.role.slice(1)}
                  </button>
                </li>
              ))}
            </ul>
          </section>
        )}
      </div>
    </main>
  );
}

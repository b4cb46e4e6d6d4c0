import { Component, Suspense, useEffect, useState, type ReactNode } from "react";
import { SessionProvider, useSession } from "./auth/session";
import type { Me, Role } from "./api/types";
import { Link, matchPath, navigate, usePath } from "./lib/router";
import { setTheme, storedTheme, type Theme } from "./lib/theme";
import { ErrorNotice, Loading } from "./ui/feedback";
import { SignIn } from "./pages/SignIn";
import { preopenBoardStream } from "./api/board";
import { screen } from "./lib/screen";

// Screens are loaded when first opened, so the first screen needs only the shell. The
// screen of the address being opened starts loading at once, alongside the session check.
const Board = screen(() => import("./pages/Board"));
const Reception = screen(() => import("./pages/Reception"));
const Triage = screen(() => import("./pages/Triage"));
const Encounter = screen(() => import("./pages/Encounter"));
const Staff = screen(() => import("./pages/admin/Staff"));
const Access = screen(() => import("./pages/admin/Access"));
const Audit = screen(() => import("./pages/admin/Audit"));
const Usage = screen(() => import("./pages/admin/Usage"));
const BreakGlass = screen(() => import("./pages/BreakGlass"));

const PRELOAD: [string, () => Promise<unknown>][] = [
  ["/board", Board.preload],
  ["/reception", Reception.preload],
  ["/triage/", Triage.preload],
  ["/encounters/", Encounter.preload],
  ["/admin/staff", Staff.preload],
];
if (typeof location !== "undefined") {
  const hit = PRELOAD.find(([p]) => location.pathname.startsWith(p));
  void hit?.[1]().catch(() => {});
  // The board's data too: its stream connects alongside the session check, and the board
  // screen takes it over (a signed-out visitor's stream is refused and closed).
  if (location.pathname === "/board") preopenBoardStream();
}

interface RouteDef {
  path: string;
  roles: Role[];
  render(params: Record<string, string>): ReactNode;
}

export const ROUTES: RouteDef[] = [
  { path: "/board", roles: ["receptionist", "nurse", "doctor", "admin"], render: () => <Board /> },
  { path: "/reception", roles: ["receptionist", "nurse", "admin", "doctor"], render: () => <Reception /> },
  { path: "/triage/:encounterId", roles: ["nurse", "doctor"], render: (p) => <Triage encounterId={p.encounterId} /> },
  { path: "/encounters/:id", roles: ["nurse", "doctor"], render: (p) => <Encounter encounterId={p.id} /> },
  { path: "/access", roles: ["nurse", "doctor"], render: () => <BreakGlass /> },
  { path: "/admin/staff", roles: ["admin"], render: () => <Staff /> },
  { path: "/admin/access/break-glass", roles: ["admin"], render: () => <Access /> },
  { path: "/admin/audit", roles: ["admin"], render: () => <Audit /> },
  { path: "/admin/usage", roles: ["admin"], render: () => <Usage /> },
];

const NAV: { to: string; label: string; roles: Role[] }[] = [
  { to: "/reception", label: "Reception", roles: ["receptionist", "nurse", "admin"] },
  { to: "/board", label: "Live board", roles: ["receptionist", "nurse", "doctor", "admin"] },
  { to: "/access", label: "Emergency access", roles: ["nurse", "doctor"] },
  { to: "/admin/staff", label: "Staff", roles: ["admin"] },
  { to: "/admin/access/break-glass", label: "Access review", roles: ["admin"] },
  { to: "/admin/audit", label: "Audit trail", roles: ["admin"] },
  { to: "/admin/usage", label: "AI spend", roles: ["admin"] },
];

export function homeFor(role: Role): string {
  switch (role) {
    case "receptionist":
      return "/reception";
    case "admin":
      return "/admin/staff";
    default:
      return "/board";
  }
}

export function App() {
  return (
    <SessionProvider>
      <Shell />
    </SessionProvider>
  );
}

function Shell() {
  const { state, retryLoad } = useSession();
  if (state.status === "loading") {
    return (
      <div className="p-6">
        <Loading label="Opening Medi OS" />
      </div>
    );
  }
  if (state.status === "unavailable") {
    return (
      <main className="mx-auto max-w-md p-6">
        <h1 className="mb-3 text-xl font-bold">Medi OS</h1>
        <ErrorNotice error={state.error} onRetry={retryLoad} />
      </main>
    );
  }
  if (state.status === "signedOut") return <SignIn notice={state.notice} />;
  return <SignedIn me={state.me} />;
}

function SignedIn({ me }: { me: Me }) {
  const path = usePath();
  useEffect(() => {
    if (path === "/" || path === "") navigate(homeFor(me.role), { replace: true });
  }, [path, me.role]);
  let content: ReactNode = null;
  for (const r of ROUTES) {
    const params = matchPath(r.path, path);
    if (!params) continue;
    content = r.roles.includes(me.role) ? (
      r.render(params)
    ) : (
      <p role="alert">Your role ({me.role}) cannot open this screen.</p>
    );
    break;
  }
  if (content === null && path !== "/") {
    content = (
      <div>
        <h1 className="text-xl font-bold">Not found</h1>
        <p>
          There is no such screen. <Link to={homeFor(me.role)}>Go to your start screen</Link>.
        </p>
      </div>
    );
  }
  return (
    <div className="min-h-screen">
      <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus:rounded focus:bg-white focus:p-2 focus:text-slate-900">
        Skip to content
      </a>
      <Header me={me} path={path} />
      <ConnectionBanner />
      <main id="main" className="mx-auto max-w-7xl px-3 py-4 sm:px-6">
        <ScreenBoundary key={path}>
          <Suspense fallback={<Loading />}>{content}</Suspense>
        </ScreenBoundary>
      </main>
    </div>
  );
}

function Header({ me, path }: { me: Me; path: string }) {
  const { signOut } = useSession();
  const [open, setOpen] = useState(false);
  const items = NAV.filter((n) => n.roles.includes(me.role));
  return (
    <header className="border-b border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
      <div className="mx-auto flex max-w-7xl flex-wrap items-center gap-x-4 gap-y-2 px-3 py-2 sm:px-6">
        <Link to={homeFor(me.role)} className="text-lg font-bold no-underline">
          Medi OS
        </Link>
        <button
          type="button"
          className="btn btn-secondary ml-auto md:hidden"
          aria-expanded={open}
          aria-controls="main-nav"
          onClick={() => setOpen((o) => !o)}
        >
          Menu
        </button>
        <nav id="main-nav" aria-label="Main" className={`${open ? "flex" : "hidden"} w-full flex-col gap-1 md:flex md:w-auto md:flex-row`}>
          {items.map((n) => {
            const current = path === n.to || path.startsWith(n.to + "/");
            return (
              <Link
                key={n.to}
                to={n.to}
                aria-current={current ? "page" : undefined}
                onClick={() => setOpen(false)}
                className={`rounded px-3 py-2 text-sm font-medium ${current ? "bg-blue-100 text-blue-900 dark:bg-sky-900 dark:text-sky-50" : "hover:bg-slate-100 dark:hover:bg-slate-800"}`}
              >
                {n.label}
              </Link>
            );
          })}
        </nav>
        <div className={`${open ? "flex" : "hidden"} w-full flex-wrap items-center gap-3 md:ml-auto md:flex md:w-auto`}>
          <p className="text-sm" data-testid="whoami">
            <span className="font-semibold">{me.email}</span> <span className="muted">· {me.role} · {me.clinicId}</span>
          </p>
          <ThemeSelect />
          <button type="button" className="btn btn-secondary" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </div>
    </header>
  );
}

function ThemeSelect() {
  const [theme, set] = useState<Theme>(storedTheme());
  return (
    <label className="flex items-center gap-1 text-sm">
      <span>Theme</span>
      <select
        className="rounded border border-slate-400 bg-white px-1 py-1 dark:border-slate-500 dark:bg-slate-800"
        value={theme}
        onChange={(e) => {
          const t = e.target.value as Theme;
          set(t);
          setTheme(t);
        }}
      >
        <option value="system">System</option>
        <option value="light">Light</option>
        <option value="dark">Dark</option>
      </select>
    </label>
  );
}

function ConnectionBanner() {
  const [online, setOnline] = useState(navigator.onLine);
  useEffect(() => {
    const on = () => setOnline(true);
    const off = () => setOnline(false);
    window.addEventListener("online", on);
    window.addEventListener("offline", off);
    return () => {
      window.removeEventListener("online", on);
      window.removeEventListener("offline", off);
    };
  }, []);
  if (online) return null;
  return (
    <div role="alert" className="bg-amber-300 px-4 py-2 text-center text-sm font-semibold text-slate-950">
      Offline: nothing can be saved until the connection is back. The app retries by itself.
    </div>
  );
}

/** A screen that fails to render says so, instead of leaving the page blank. */
class ScreenBoundary extends Component<{ children: ReactNode }, { error: unknown }> {
  state = { error: null as unknown };
  static getDerivedStateFromError(error: unknown) {
    return { error };
  }
  render() {
    if (this.state.error) {
      // A screen's code that cannot be fetched any more: a new version was deployed.
      const stale = /dynamically imported module|Importing a module script failed/i.test(String((this.state.error as Error)?.message ?? ""));
      return (
        <div role="alert" className="card">
          <h1 className="text-xl font-bold">{stale ? "A new version of Medi OS is available" : "This screen failed"}</h1>
          <p>
            {stale
              ? "Reload the page to use it; everything you saved is kept."
              : "Reload the page to try again. If it keeps failing, tell support what you were doing."}
          </p>
          <button type="button" className="btn btn-secondary mt-2" onClick={() => location.reload()}>
            Reload
          </button>
        </div>
      );
    }
    return this.props.children;
  }
}

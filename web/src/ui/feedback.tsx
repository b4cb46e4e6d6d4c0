// Loading, error and status displays. Errors show the API's own message (never raw JSON)
// with the request id support can trace.
import { useEffect, useRef, type ReactNode } from "react";
import { ApiError } from "../api/client";

export function errorMessage(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error) return e.message;
  return "Something went wrong.";
}

export function ErrorNotice({ error, onRetry, title }: { error: unknown; onRetry?: () => void; title?: string }) {
  if (!error) return null;
  const api = error instanceof ApiError ? error : null;
  return (
    <div role="alert" className="rounded-md border border-red-300 bg-red-50 p-3 text-sm text-red-900 dark:border-red-800 dark:bg-red-950 dark:text-red-100">
      <p className="font-semibold">{title ?? (api?.transient ? "Temporarily unavailable" : "Not done")}</p>
      <p>{errorMessage(error)}</p>
      {api?.retryAfterSeconds ? <p>Try again in {api.retryAfterSeconds} s.</p> : null}
      {api?.requestId ? <p className="mt-1 text-xs opacity-80">Request id {api.requestId}</p> : null}
      {onRetry && (
        <button type="button" className="btn btn-secondary mt-2" onClick={onRetry}>
          Retry
        </button>
      )}
    </div>
  );
}

export function Loading({ label = "Loading" }: { label?: string }) {
  return (
    <p role="status" className="muted flex items-center gap-2 py-2">
      <span aria-hidden="true" className="inline-block h-4 w-4 animate-spin rounded-full border-2 border-current border-t-transparent" />
      {label}…
    </p>
  );
}

export function Notice({ tone = "info", children }: { tone?: "info" | "success" | "warning"; children: ReactNode }) {
  const cls = {
    info: "border-sky-300 bg-sky-50 text-sky-950 dark:border-sky-800 dark:bg-sky-950 dark:text-sky-50",
    success: "border-emerald-300 bg-emerald-50 text-emerald-950 dark:border-emerald-800 dark:bg-emerald-950 dark:text-emerald-50",
    warning: "border-amber-400 bg-amber-50 text-amber-950 dark:border-amber-700 dark:bg-amber-950 dark:text-amber-50",
  }[tone];
  return (
    <div role="status" className={`rounded-md border p-3 text-sm ${cls}`}>
      {children}
    </div>
  );
}

/** The page's heading; it takes the focus when the page opens, for screen-reader users. */
export function PageTitle({ children, actions }: { children: string; actions?: ReactNode }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${children} · Medi OS`;
    ref.current?.focus({ preventScroll: true });
  }, [children]);
  return (
    <div className="mb-4 flex flex-wrap items-center justify-between gap-2">
      <h1 ref={ref} tabIndex={-1} className="text-2xl font-bold outline-none">
        {children}
      </h1>
      {actions}
    </div>
  );
}

const LEVEL_STYLE: Record<number, string> = {
  1: "bg-red-800 text-white",
  2: "bg-orange-700 text-white",
  3: "bg-yellow-300 text-slate-950",
  4: "bg-emerald-700 text-white",
  5: "bg-sky-700 text-white",
};

export function LevelBadge({ level, provisional }: { level: number | null | undefined; provisional?: boolean }) {
  if (level == null) {
    return <span className="inline-block rounded border border-slate-500 px-2 py-0.5 text-xs font-semibold">Not triaged</span>;
  }
  return (
    <span className={`inline-block rounded px-2 py-0.5 text-xs font-bold ${LEVEL_STYLE[level] ?? "bg-slate-700 text-white"}`}>
      ESI {level}
      {provisional ? " (provisional)" : ""}
    </span>
  );
}

/** The API's per-field messages of an error (details.fields), or none. */
export function apiFieldErrors(e: unknown): Record<string, string> {
  return e instanceof ApiError ? e.fields : {};
}

/**
 * The error of a refused form: the API's message, and every field error the form cannot
 * show next to an input of its own (shown(field) says which it shows), so that none is lost.
 */
export function UnshownFieldErrors({ error, shown }: { error: unknown; shown(field: string): boolean }) {
  const fields = apiFieldErrors(error);
  const rest = Object.entries(fields).filter(([k]) => !shown(k));
  if (Object.keys(fields).length > 0 && rest.length === 0) return null;
  return (
    <div>
      <ErrorNotice error={error} />
      {rest.length > 0 && (
        <ul className="mt-1 list-disc pl-5 text-sm text-red-800 dark:text-red-200">
          {rest.map(([k, m]) => (
            <li key={k}>
              {k}: {m}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

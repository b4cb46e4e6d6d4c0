// The app's runtime configuration, /config.json, served next to index.html: the same
// build runs on the local stack and in every Google Cloud environment, and only this
// file differs (written by the local gateway, uploaded by the deploy tool).

export interface DemoAccount {
  role: string;
  email: string;
  password: string;
  /** Shown instead of the role (an account of another clinic). */
  label?: string;
}

export interface AppConfig {
  /** "dev" on the local stack, else the deployment's environment (staging, prod). */
  environment: string;
  firebase: { apiKey: string; authDomain?: string; projectId: string; tenantId?: string };
  /** The Firebase Auth emulator's URL (local stack only). */
  authEmulatorUrl?: string;
  /** The local stack's seeded accounts, offered on the sign-in screen (local stack only). */
  demoAccounts?: DemoAccount[];
}

export function parseConfig(raw: unknown): AppConfig {
  const c = raw as Partial<AppConfig> | null;
  if (!c || typeof c !== "object" || !c.firebase || typeof c.firebase.apiKey !== "string" || typeof c.firebase.projectId !== "string") {
    throw new Error("config.json is missing firebase.apiKey or firebase.projectId");
  }
  return {
    environment: typeof c.environment === "string" ? c.environment : "prod",
    firebase: c.firebase,
    authEmulatorUrl: typeof c.authEmulatorUrl === "string" && c.authEmulatorUrl ? c.authEmulatorUrl : undefined,
    demoAccounts: Array.isArray(c.demoAccounts) ? c.demoAccounts : undefined,
  };
}

let loaded: Promise<AppConfig> | null = null;

export function loadConfig(): Promise<AppConfig> {
  loaded ??= fetch("/config.json", { cache: "no-store", credentials: "same-origin" })
    .then((r) => {
      if (!r.ok) throw new Error(`config.json: HTTP ${r.status}`);
      return r.json();
    })
    .then(parseConfig)
    .catch((e) => {
      loaded = null;
      throw e;
    });
  return loaded;
}

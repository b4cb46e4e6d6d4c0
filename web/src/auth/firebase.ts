// Firebase Authentication, loaded only when someone signs in (it is not part of the
// initial bundle): e-mail and password against Identity Platform, or the Auth emulator on
// the local stack. The Firebase user is kept in memory only and dropped once its ID token
// has been exchanged for the web session (POST /v1/sessions) or used for one signed
// request: nothing of the sign-in stays in the browser's storage.
import { initializeApp, type FirebaseApp } from "firebase/app";
import {
  connectAuthEmulator,
  inMemoryPersistence,
  initializeAuth,
  signInWithEmailAndPassword,
  signOut,
  type Auth,
} from "firebase/auth";
import type { AppConfig } from "../config";

let app: FirebaseApp | null = null;
let auth: Auth | null = null;

function getAuthFor(cfg: AppConfig): Auth {
  if (auth) return auth;
  app = initializeApp(cfg.firebase);
  auth = initializeAuth(app, { persistence: inMemoryPersistence });
  if (cfg.firebase.tenantId) auth.tenantId = cfg.firebase.tenantId;
  if (cfg.authEmulatorUrl) connectAuthEmulator(auth, cfg.authEmulatorUrl, { disableWarnings: true });
  return auth;
}

/** Messages for Firebase's sign-in errors, in the words the sign-in screen uses. */
export function signInErrorMessage(code: string): string {
  switch (code) {
    case "auth/invalid-credential":
    case "auth/invalid-login-credentials":
    case "auth/wrong-password":
    case "auth/user-not-found":
    case "auth/invalid-email":
      return "Wrong e-mail address or password.";
    case "auth/user-disabled":
      return "This account is disabled. Ask your clinic's administrator.";
    case "auth/too-many-requests":
      return "Too many attempts. Wait a few minutes, or reset your password.";
    case "auth/multi-factor-auth-required":
      return "This account uses a second factor, which the web app cannot ask for yet: ask your administrator.";
    case "auth/network-request-failed":
      return "No connection to the sign-in service. Check the network and try again.";
    default:
      return "Sign-in failed. Try again.";
  }
}

export class SignInError extends Error {
  constructor(readonly code: string) {
    super(signInErrorMessage(code));
    this.name = "SignInError";
  }
}

/** Signs in with e-mail and password and returns a fresh ID token. */
export async function signInForToken(cfg: AppConfig, email: string, password: string): Promise<string> {
  const a = getAuthFor(cfg);
  try {
    const cred = await signInWithEmailAndPassword(a, email, password);
    const token = await cred.user.getIdToken();
    await signOut(a);
    return token;
  } catch (e) {
    const code = (e as { code?: string }).code ?? "unknown";
    throw new SignInError(code);
  }
}

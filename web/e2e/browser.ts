// The browser tests' harness: Chromium from the machine (never downloaded; Playwright
// gives each launch a fresh profile), the app's console watched for errors (a Content-Security-Policy
// violation fails the test), axe-core run on each screen, screenshots saved.
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from "playwright-core";
import { expect, onTestFailed } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
export const BASE_URL = (process.env.MEDI_BASE_URL ?? "").replace(/\/$/, "");
export const OUT_DIR = resolve(here, "out");
const DOCS_DIR = resolve(here, "../../docs/user-guides/images");

/** The bound of one browser action or wait (see launch). */
export const STEP_TIMEOUT = 90_000;

/**
 * The bound for what arrives through the event pipelines rather than within a request:
 * the live board (a projection rebuilt from the encounters' change events, delivered by
 * Pub/Sub with the outbox's sweep every minute as the fallback), the scribe's draft and the
 * history summary. Under a heavy load a board change has taken over 20 s to show.
 */
export const EVENT_TIMEOUT = 240_000;

export function chromiumPath(): string {
  return process.env.MEDI_CHROMIUM ?? "/usr/bin/chromium";
}

export interface Session {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  problems: string[];
  close(): Promise<void>;
}

export async function launch(opts: { viewport?: { width: number; height: number }; colorScheme?: "light" | "dark" } = {}): Promise<Session> {
  if (!BASE_URL) throw new Error("MEDI_BASE_URL is not set: run the browser tests through scripts/test (or against scripts/dev)");
  const browser = await chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
      // A microphone for the scribe's in-browser recording: Chromium's fake device (a
      // tone), allowed without a prompt.
      "--use-fake-device-for-media-stream",
      "--use-fake-ui-for-media-stream",
    ],
  });
  const context = await browser.newContext({
    baseURL: BASE_URL,
    viewport: opts.viewport ?? { width: 1280, height: 900 },
    colorScheme: opts.colorScheme ?? "light",
    locale: "en-GB",
    timezoneId: "Europe/London",
  });
  // How long an action or a wait may take before the test fails: a bound for a stuck
  // screen, not a speed requirement (the machine running the tests may be heavily loaded;
  // the speed figures are measured by scripts/perf.mjs).
  context.setDefaultTimeout(STEP_TIMEOUT);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("console", (m) => {
    const t = m.text();
    if (/Content.Security.Policy|Refused to/i.test(t)) problems.push(`CSP: ${t}`);
    else if (m.type() === "error" && !/status of (401|403|404|409|412|400)/.test(t)) problems.push(`console error: ${t}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  // A failing test leaves a picture of the screen it failed on (e2e/out/failed-*.png).
  onTestFailed((t) => {
    if (problems.length) console.error(`browser problems:\n${problems.join("\n")}`);
    mkdirSync(OUT_DIR, { recursive: true });
    return page
      .screenshot({ path: join(OUT_DIR, `failed-${t.task.name.replace(/[^a-z0-9]+/gi, "-").slice(0, 60)}.png`) })
      .then(() => undefined, () => undefined);
  });
  return {
    browser,
    context,
    page,
    problems,
    async close() {
      await context.close().catch(() => {});
      await browser.close().catch(() => {});
    },
  };
}

/** Signs in with one of the seeded demo accounts from the sign-in screen (by its button's name). */
export async function signInAs(page: Page, role: "receptionist" | "nurse" | "doctor" | "admin" | "Doctor at North Clinic"): Promise<void> {
  await page.goto("/");
  await page.getByRole("button", { name: role[0].toUpperCase() + role.slice(1), exact: true }).click();
  await page.locator("main#main").waitFor();
}

/** Signs in with a demo account from the sign-in screen with the keyboard only. */
export async function signInByKeyboard(page: Page, account: "Receptionist" | "Nurse" | "Doctor" | "Admin"): Promise<void> {
  await page.goto("/");
  await tabTo(page, page.getByRole("button", { name: account, exact: true }));
  await page.keyboard.press("Enter");
  await page.locator("main#main").waitFor();
}

/** Where the keyboard focus is, and what is wrong with its indicator ("" when visible). */
async function focusOn(target: Locator): Promise<{ at: boolean; problem: string }> {
  return target.evaluate((el) => {
    const a = document.activeElement;
    if (!a || a === document.body) return { at: false, problem: "" };
    const cs = getComputedStyle(a);
    // (:focus-within, not :focus-visible: a date field's calendar button holds the focus
    // inside the field's shadow tree, where the field matches :focus-within only.)
    const visible = a.matches(":focus-within") && cs.outlineStyle !== "none" && parseFloat(cs.outlineWidth) >= 2;
    const what = `${a.tagName.toLowerCase()} "${(a.getAttribute("aria-label") ?? a.textContent ?? "").trim().slice(0, 40)}"`;
    return { at: a === el, problem: visible ? "" : `${what} has no visible focus (outline ${cs.outlineStyle} ${cs.outlineWidth})` };
  });
}

/**
 * Presses Tab (Shift+Tab with back) until target has the keyboard focus (at most max
 * times), checking at each stop that the focused element shows a visible focus indicator
 * (:focus-visible with an outline of at least 2 px). Fails on a stop without one or when
 * target is never reached.
 */
export async function tabTo(page: Page, target: Locator, max = 80, opts: { back?: boolean } = {}): Promise<void> {
  await target.waitFor();
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(opts.back ? "Shift+Tab" : "Tab");
    const r = await focusOn(target);
    expect(r.problem, "focus indicator").toBe("");
    if (r.at) return;
  }
  throw new Error(`${opts.back ? "Shift+Tab" : "Tab"} did not reach ${target} in ${max} presses`);
}

/** Checks that target has the keyboard focus, visibly (after arrow keys, or a dialog opening). */
export async function expectFocused(target: Locator): Promise<void> {
  await expect.poll(async () => (await focusOn(target)).at, { timeout: STEP_TIMEOUT }).toBe(true);
  expect((await focusOn(target)).problem, "focus indicator").toBe("");
}

/**
 * Opens a file input's picker with Space, as a keyboard user does, and chooses file. Headless
 * Chromium now and then shows no picker for a keyboard activation (one run in several, with
 * nothing on the page's side); the press is repeated, at most three times, while the input still
 * has the focus, so a page that never opens the picker from the keyboard still fails.
 */
export async function chooseFileByKeyboard(page: Page, input: Locator, file: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await expectFocused(input);
    const opened = page.waitForEvent("filechooser", { timeout: 15_000 }).catch((err: unknown) => {
      if (attempt >= 3) throw err;
      return null;
    });
    await page.keyboard.press("Space");
    const chooser = await opened;
    if (chooser) return chooser.setFiles(file);
  }
}

/** Chooses a value of the focused <select> with the arrow keys (up or down, as it lies). */
export async function arrowSelect(page: Page, select: Locator, value: string): Promise<void> {
  const values = await select.locator("option").evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
  const key = values.indexOf(value) < values.indexOf(await select.inputValue()) ? "ArrowUp" : "ArrowDown";
  for (let i = 0; i < 40 && (await select.inputValue()) !== value; i++) await page.keyboard.press(key);
  expect(await select.inputValue()).toBe(value);
}

export async function signInWithPassword(page: Page, email: string, password: string): Promise<void> {
  await page.getByLabel("E-mail address").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
}

const axeSource = readFileSync(resolve(here, "../node_modules/axe-core/axe.min.js"), "utf8");

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** Runs axe-core (WCAG 2.1 A and AA rules and best practices) on the page; returns the serious and critical violations. */
export async function axe(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(axeSource);
  const res = (await page.evaluate(async () => {
    const w = window as unknown as { axe: { run(ctx: Document, opts: unknown): Promise<{ violations: AxeViolation[] }> } };
    return w.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] } });
  })) as { violations: AxeViolation[] };
  return res.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
}

export function describeViolations(v: AxeViolation[]): string {
  return v.map((x) => `${x.impact} ${x.id}: ${x.help} (${x.nodes.map((n) => n.target.join(" ")).join(", ")})`).join("\n");
}

/** Saves a screenshot under e2e/out/; with MEDI_WEB_SCREENSHOTS=docs also into docs/user-guides/images/. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(OUT_DIR, { recursive: true });
  const file = join(OUT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false, animations: "disabled", caret: "hide" });
  if (process.env.MEDI_WEB_SCREENSHOTS === "docs") {
    mkdirSync(DOCS_DIR, { recursive: true });
    copyFileSync(file, join(DOCS_DIR, `${name}.png`));
  }
  return file;
}

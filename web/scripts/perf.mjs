// Measures the web app's budget figures (docs/performance.md):
//   1. the initial JavaScript and CSS of the build (web/dist), gzipped: what index.html
//      loads before the first screen (entry script, modulepreloads, stylesheet);
//   2. the time to the first usable screen on a running stack, in headless Chromium:
//      the sign-in form (a fresh visit), the board screen of a signed-in nurse and that
//      board live (its first board from the stream), over N loads each.
// The time is taken inside the page: a MutationObserver installed before the app runs
// notes performance.now() (from navigation start) when the screen's element appears, so
// the figure does not include the test driver's polling round trips, which on a loaded
// machine add hundreds of milliseconds. The load average is printed before and after.
// Usage: MEDI_BASE_URL=http://127.0.0.1:8080 node scripts/perf.mjs [runs]
// Prints figures only; it asserts nothing (timings depend on the machine).
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { gzipSync } from "node:zlib";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const dist = resolve(here, "../dist");
const html = readFileSync(resolve(dist, "index.html"), "utf8");
const initial = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]);
let jsGz = 0;
let cssGz = 0;
for (const f of initial) {
  const gz = gzipSync(readFileSync(resolve(dist, "." + f)), { level: 9 }).length;
  if (f.endsWith(".js")) jsGz += gz;
  else cssGz += gz;
  console.log(`initial  ${f}  ${(gz / 1024).toFixed(1)} kB gzipped`);
}
console.log(`initial JavaScript: ${(jsGz / 1024).toFixed(1)} kB gzipped; CSS ${(cssGz / 1024).toFixed(1)} kB gzipped`);

const base = (process.env.MEDI_BASE_URL ?? "").replace(/\/$/, "");
if (!base) {
  console.log("MEDI_BASE_URL not set: no timing");
  process.exit(0);
}
const runs = Number(process.argv[2] ?? 10);
const load = () => loadavg().map((x) => x.toFixed(1)).join(" ");
console.log(`load average before: ${load()}`);
const browser = await chromium.launch({
  executablePath: process.env.MEDI_CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const report = (name, xs) =>
  console.log(`${name}: median ${pct(xs, 50).toFixed(0)} ms, p90 ${pct(xs, 90).toFixed(0)} ms, min ${Math.min(...xs).toFixed(0)} ms, max ${Math.max(...xs).toFixed(0)} ms (${xs.length} loads)`);

// Runs in each page before the app: notes when each screen of interest first appears.
function observe() {
  const marks = {};
  const probes = {
    signIn: () => [...document.querySelectorAll("button[type=submit]")].some((b) => b.textContent.trim() === "Sign in"),
    boardDrawn: () => [...document.querySelectorAll("h1")].some((h) => h.textContent.trim() === "Live board"),
    boardLive: () => document.querySelector("[data-testid=stream-state]")?.textContent.trim() === "Live",
    // Live, with every row's patient named (names are fetched after the board arrives).
    boardNamed: () => {
      if (document.querySelector("[data-testid=stream-state]")?.textContent.trim() !== "Live") return false;
      const rows = [...document.querySelectorAll("[data-testid=board-entry]")];
      return rows.length > 0 && !rows.some((r) => r.querySelector("p.font-semibold")?.textContent.trim() === "…");
    },
  };
  const check = () => {
    for (const [k, f] of Object.entries(probes)) if (!(k in marks) && f()) marks[k] = performance.now();
  };
  new MutationObserver(check).observe(document, { subtree: true, childList: true, characterData: true });
  window.__mediMarks = marks;
}

async function timeTo(context, path, mark) {
  const page = await context.newPage();
  await page.goto(base + path, { waitUntil: "commit" });
  await page.waitForFunction((m) => m in (window.__mediMarks ?? {}), mark, { timeout: 120_000 });
  const ms = await page.evaluate((m) => window.__mediMarks[m], mark);
  await page.close();
  return ms;
}

// A fresh visit: the sign-in screen, usable (its form is there).
const signIn = [];
for (let i = 0; i < runs; i++) {
  const ctx = await browser.newContext();
  await ctx.addInitScript(observe);
  signIn.push(await timeTo(ctx, "/", "signIn"));
  await ctx.close();
}
report("first usable screen, sign-in form (fresh visit, cold cache)", signIn);

// A signed-in nurse opening the app on the board.
const ctx = await browser.newContext();
await ctx.addInitScript(observe);
const page = await ctx.newPage();
await page.goto(base + "/");
await page.getByRole("button", { name: "Nurse", exact: true }).click();
await page.getByTestId("stream-state").waitFor();
await page.close();
const probe = await ctx.newPage();
await probe.goto(base + "/board");
await probe.getByTestId("stream-state").getByText("Live", { exact: true }).waitFor({ timeout: 120_000 });
const rows = await probe.getByTestId("board-entry").count();
await probe.close();
const drawn = [];
const live = [];
const named = [];
for (let i = 0; i < runs; i++) {
  drawn.push(await timeTo(ctx, "/board", "boardDrawn"));
  live.push(await timeTo(ctx, "/board", "boardLive"));
  if (rows > 0) named.push(await timeTo(ctx, "/board", "boardNamed"));
}
report("signed-in nurse: the board screen drawn (session checked)", drawn);
report("first usable screen, live board of a signed-in nurse (warm cache)", live);
if (rows > 0) report(`... and every one of its ${rows} patients named`, named);
else console.log("the board is empty: no figure for its rows' names (check patients in first)");
await ctx.close();
await browser.close();
console.log(`load average after: ${load()}`);

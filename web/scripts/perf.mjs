// Measures the web app's budget figures (docs/performance.md):
//   1. the initial JavaScript and CSS of the build (web/dist), gzipped: what index.html
//      loads before the first screen (entry script, modulepreloads, stylesheet);
//   2. the time to the first usable screen on a running stack, in headless Chromium:
//      the sign-in form (a fresh visit) and the live board of a signed-in nurse, from
//      navigation start to the screen being visible and live, over N loads.
// Usage: MEDI_BASE_URL=http://127.0.0.1:8080 node scripts/perf.mjs [runs]
// Prints figures only; it asserts nothing (timings depend on the machine).
import { readFileSync } from "node:fs";
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
const browser = await chromium.launch({
  executablePath: process.env.MEDI_CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const report = (name, xs) => console.log(`${name}: p50 ${pct(xs, 50).toFixed(0)} ms, p90 ${pct(xs, 90).toFixed(0)} ms, max ${Math.max(...xs).toFixed(0)} ms (${xs.length} loads)`);

async function timeTo(context, path, ready) {
  const page = await context.newPage();
  await page.goto(base + path, { waitUntil: "commit" });
  await ready(page);
  const ms = await page.evaluate(() => performance.now());
  await page.close();
  return ms;
}

// A fresh visit: the sign-in screen, usable (its form is there).
const signIn = [];
for (let i = 0; i < runs; i++) {
  const ctx = await browser.newContext();
  signIn.push(await timeTo(ctx, "/", (p) => p.getByRole("button", { name: "Sign in", exact: true }).waitFor()));
  await ctx.close();
}
report("first usable screen, sign-in (cold cache)", signIn);

// A signed-in nurse opening the app: the live board, connected.
const ctx = await browser.newContext();
const page = await ctx.newPage();
await page.goto(base + "/");
await page.getByRole("button", { name: "Nurse", exact: true }).click();
await page.getByTestId("stream-state").waitFor();
await page.close();
const shell = [];
for (let i = 0; i < runs; i++) {
  shell.push(await timeTo(ctx, "/board", (p) => p.getByRole("heading", { name: "Live board" }).waitFor()));
}
report("signed-in nurse: the board's screen drawn (session checked, waiting for the first board)", shell);
const board = [];
for (let i = 0; i < runs; i++) {
  board.push(
    await timeTo(ctx, "/board", async (p) => {
      await p.getByTestId("stream-state").getByText("Live").waitFor();
    }),
  );
}
report("first usable screen, live board of a signed-in nurse (warm cache)", board);
await ctx.close();
await browser.close();

// One patient from registration to an approved and amended note, as the receptionist, the
// nurse and the doctor do it in the app (and one who leaves without being seen), with the
// scribe's audio upload and recording, the signature's re-authentication prompt; a
// registration, check-in, triage and the doctor's take-scribe-sign-complete done with the
// keyboard only; a patient past their level's target marked on the board; then the
// admin's screens (with the keyboard only too) and emergency access from another clinic.
// Every screen checked with axe-core (no serious or critical violation) and photographed
// for the user guides.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, describe, expect, test } from "vitest";
import type { Page } from "playwright-core";
import { arrowSelect, axe, chooseFileByKeyboard, EVENT_TIMEOUT, describeViolations, expectFocused, launch, screenshot, signInAs, signInByKeyboard, STEP_TIMEOUT, tabTo, type Session } from "./browser";

const here = dirname(fileURLToPath(import.meta.url));
const run = Date.now().toString(36).toUpperCase();
const family = `Testfamily${run}`;
const given = "Grace";
const complaint = "chest pain radiating to the left arm, sweaty";

async function accessible(page: Page, what: string) {
  const v = await axe(page);
  expect(describeViolations(v), `axe on ${what}`).toBe("");
}

function row(page: Page, name = `${family}, ${given}`) {
  return page.getByTestId("board-entry").filter({ hasText: name });
}

/** Fills the registration form of the reception screen. */
async function register(page: Page, fam: string, giv: string, birthDate: string) {
  await page.getByLabel("Given name").fill(giv);
  await page.getByLabel("Family name").fill(fam);
  await page.getByLabel("Birth date", { exact: true }).fill(birthDate);
  await page.getByLabel("Sex", { exact: true }).selectOption("female");
}

/** A WAV file of `seconds` of silence (8 kHz, 16-bit mono): real audio the scribe accepts. */
function wav(seconds: number): Buffer {
  const data = 8000 * 2 * seconds;
  const b = Buffer.alloc(44 + data);
  b.write("RIFF", 0);
  b.writeUInt32LE(36 + data, 4);
  b.write("WAVEfmt ", 8);
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20); // PCM
  b.writeUInt16LE(1, 22); // mono
  b.writeUInt32LE(8000, 24);
  b.writeUInt32LE(16000, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write("data", 36);
  b.writeUInt32LE(data, 40);
  return b;
}

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");

/**
 * Sends the next request matching `pattern` as the signed-in user would after signing in
 * 20 minutes ago: with an ID token of the Auth emulator carrying that sign-in time
 * (auth_time), the user and claims of the browser's session cookie. The local stack
 * verifies the emulator's unsigned tokens as production verifies Google's signed ones, so
 * the real API answers as it does to an old sign-in (401 reauthentication_required for a
 * signature) without the test waiting out the window.
 */
async function asStaleSignIn(s: Session, pattern: string) {
  const cookie = (await s.context.cookies()).find((c) => /medi_session$/.test(c.name));
  if (!cookie) throw new Error("no session cookie");
  const claims = JSON.parse(Buffer.from(cookie.value.split(".")[1], "base64url").toString());
  const now = Math.floor(Date.now() / 1000);
  const token = [
    b64url({ alg: "none", typ: "JWT" }),
    b64url({ ...claims, iss: `https://securetoken.google.com/${claims.aud}`, iat: now, exp: now + 3600, auth_time: now - 20 * 60 }),
    "",
  ].join(".");
  await s.page.route(pattern, (route) => route.continue({ headers: { ...route.request().headers(), authorization: `Bearer ${token}` } }), {
    times: 1,
  });
}

/** Registers a patient through the API with the page's session (for flows that start at check-in). */
async function registerByAPI(page: Page, familyName: string, givenName: string): Promise<string> {
  const r = await page.request.post("/v1/patients", {
    data: { givenName, familyName, birthDate: "1979-06-15", sex: "female" },
    headers: { "Idempotency-Key": randomUUID() },
  });
  expect(r.status(), await r.text()).toBe(201);
  return (await r.json()).data.id;
}

/** Checks a patient in through the API with the page's session; returns the encounter's id. */
async function checkInByAPI(page: Page, patientId: string, chiefComplaint: string): Promise<string> {
  const r = await page.request.post("/v1/encounters", {
    data: { patientId, chiefComplaint, arrivalMode: "ambulance" },
    headers: { "Idempotency-Key": randomUUID() },
  });
  expect(r.status(), await r.text()).toBe(201);
  return (await r.json()).data.id;
}

/** Moves an encounter through the API with the page's session (e.g. to leave the board clean). */
async function moveByAPI(page: Page, encounterId: string, to: string, reason: string) {
  const r = await page.request.post(`/v1/encounters/${encounterId}/transitions`, {
    data: { to, reason },
    headers: { "Idempotency-Key": randomUUID() },
  });
  expect(r.status(), await r.text()).toBe(200);
}

// The browsers of a describe block: closed after each test (a failed one too), their
// console problems (errors, CSP violations) checked at the end.
function sessions() {
  const open: Session[] = [];
  const problems: string[] = [];
  afterEach(async () => {
    for (const s of open.splice(0)) {
      problems.push(...s.problems);
      await s.close();
    }
  });
  afterAll(() => {
    expect(problems).toEqual([]);
  });
  return async (opts?: Parameters<typeof launch>[0]) => {
    const s = await launch(opts);
    open.push(s);
    return s;
  };
}

describe("a patient's visit in the web app", () => {
  const browser = sessions();
  let s: Session;

  test("reception: the sign-in screen, register and check in; a patient who left without being seen", async () => {
    s = await browser();
    const { page } = s;
    await page.goto("/");
    await page.getByRole("heading", { name: "Medi OS" }).waitFor();
    await accessible(page, "sign-in");
    await screenshot(page, "sign-in");
    await signInAs(page, "receptionist");
    await page.getByRole("heading", { name: "Reception" }).waitFor();

    // Search as you type: a seeded patient is found by a name prefix.
    await page.getByLabel("Name, MRN or birth date").fill("nunez jo");
    await page.getByRole("button", { name: /Núñez, José/ }).waitFor();

    // Register with validation: an empty form shows the API's messages, all at once.
    await page.getByRole("button", { name: "Register a new patient" }).click();
    await page.getByRole("button", { name: "Register", exact: true }).click();
    await expect.poll(() => page.locator(".field-error").count(), { timeout: STEP_TIMEOUT }).toBeGreaterThanOrEqual(4);
    await register(page, family, given, "1961-04-09");
    await accessible(page, "registration");
    // The session cookie is lost before the answer: the app asks to sign in again, then
    // sends the registration it kept.
    await s.context.clearCookies();
    await page.getByRole("button", { name: "Register", exact: true }).click();
    await page.getByRole("heading", { name: "Sign in again" }).waitFor();
    await accessible(page, "lock screen");
    await page.getByLabel("Password").fill("demo-receptionist-pass");
    await page.getByRole("button", { name: "Sign in and continue" }).click();
    await page.getByRole("heading", { name: `${family}, ${given}` }).waitFor();

    await page.getByLabel("Chief complaint, in the patient's words").fill(complaint);
    await page.getByLabel("Arrival").selectOption("walk_in");
    await screenshot(page, "reception");
    await page.getByRole("button", { name: "Check in" }).click();
    await page.getByText("Checked in at").waitFor();

    // A second patient, checked in, who leaves before being seen.
    const leaver = `Leftearly${run}`;
    await page.getByRole("button", { name: "Register a new patient" }).click();
    await register(page, leaver, "Ada", "1990-02-03");
    await page.getByRole("button", { name: "Register", exact: true }).click();
    await page.getByRole("heading", { name: `${leaver}, Ada` }).waitFor();
    await page.getByLabel("Chief complaint, in the patient's words").fill("sprained ankle");
    await page.getByRole("button", { name: "Check in" }).click();
    await page.getByText("Checked in at").waitFor();

    await page.getByRole("link", { name: "Live board" }).first().click();
    await page.getByTestId("stream-state").getByText("Live", { exact: true }).waitFor();
    await row(page).getByText("Not triaged").waitFor({ timeout: EVENT_TIMEOUT });
    await row(page).getByText(/expected wait \d+–\d+ min/).waitFor();
    await accessible(page, "board (receptionist)");
    await screenshot(page, "board-receptionist");

    // Left without being seen: a reason is required, then the visit leaves the board.
    await row(page, `${leaver}, Ada`).getByRole("button", { name: "Left", exact: true }).click({ timeout: EVENT_TIMEOUT });
    const dialog = page.getByRole("dialog", { name: `${leaver}, Ada left without being seen` });
    await dialog.getByLabel("Reason (required)").fill("Left before triage; told the desk.");
    await accessible(page, "left without being seen");
    await dialog.getByRole("button", { name: "Record that they left" }).click();
    await dialog.waitFor({ state: "hidden" });
    await row(page, `${leaver}, Ada`).waitFor({ state: "detached", timeout: EVENT_TIMEOUT });
    await row(page).waitFor();
  });

  test("nurse: triage with the engine's live proposal, record and confirm", async () => {
    s = await browser();
    const { page } = s;
    await signInAs(page, "nurse");
    await row(page).getByRole("link", { name: "Triage" }).click({ timeout: EVENT_TIMEOUT });
    await page.getByRole("heading", { name: `Triage: ${family}, ${given}` }).waitFor();
    await page.getByLabel("Complaint category").selectOption("chest_pain");
    await page.getByLabel("Mental status (AVPU)").selectOption("A");
    await page.getByLabel("Heart rate (beats/min)").fill("112");
    await page.getByLabel("Respiratory rate (breaths/min)").fill("22");
    await page.getByLabel("Systolic blood pressure (mmHg)").fill("138");
    await page.getByLabel("Diastolic blood pressure (mmHg)").fill("86");
    await page.getByLabel("Oxygen saturation (SpO₂) (%)").fill("95");
    await page.getByLabel("Temperature (°C)").fill("37.1");
    await page.getByLabel("Air or oxygen").selectOption("air");
    // An implausible value is caught before anything is sent.
    await page.getByLabel("Pain (0–10)").fill("12");
    await page.getByText("must be a whole number from 0 to 10").waitFor();
    await page.getByLabel("Pain (0–10)").fill("7");
    const proposal = page.getByRole("region", { name: /Engine proposal/ });
    await proposal.getByText("ESI 2").waitFor();
    await proposal.getByText(/decision point/).waitFor();
    await expect.poll(() => page.getByTestId("news2-chart").locator("li").count(), { timeout: STEP_TIMEOUT }).toBe(7);
    await proposal.getByText(/NEWS2 5/).waitFor();
    await accessible(page, "triage");
    await screenshot(page, "triage");
    await page.getByRole("button", { name: "Record assessment" }).click();
    await page.getByText(/Assessment recorded; the patient is now triaged/).waitFor();
    const confirm = page.getByRole("region", { name: "Level in force" });
    await confirm.getByText("not confirmed yet").waitFor();
    // A less urgent level needs a reason, as the API rules.
    await confirm.getByLabel("Level you accept").selectOption("3");
    await confirm.getByLabel("Reason for a less urgent level (required)").waitFor();
    await confirm.getByLabel("Level you accept").selectOption("2");
    await confirm.getByRole("button", { name: "Confirm level" }).click();
    await confirm.getByText("Level 2 confirmed").waitFor();
    await confirm.getByText(/Next re-assessment due at/).waitFor();
    await page.getByRole("link", { name: "Back to the board" }).click();
    await row(page).getByText("ESI 2").waitFor({ timeout: EVENT_TIMEOUT });
    await screenshot(page, "board-nurse");
  });

  test("doctor: take the patient, read the cited summary, scribe, edit, approve and amend the note, complete", async () => {
    s = await browser();
    const { page } = s;
    await signInAs(page, "doctor");
    await page.getByLabel("Ready for a doctor").check();
    await row(page).getByRole("button", { name: "Take patient" }).waitFor({ timeout: EVENT_TIMEOUT });
    await accessible(page, "board (doctor)");
    await screenshot(page, "board-doctor");
    await row(page).getByRole("button", { name: "Take patient" }).click();
    await page.getByRole("heading", { name: `${family}, ${given}` }).waitFor();
    await page.getByText("(with you)").waitFor();

    // The cited history summary: choosing a citation shows its source record.
    const summary = page.getByTestId("summary");
    await summary.waitFor({ timeout: EVENT_TIMEOUT });
    await summary.getByRole("button", { name: /^Source \d+: Patient$/ }).first().click();
    await page.getByTestId("source-record").getByText(/Source: Patient/).waitFor();
    await page.getByTestId("source-record").getByText(/MRN/).waitFor();
    await accessible(page, "history summary");
    await screenshot(page, "doctor-summary");

    // The scribe with audio: the local stack has no speech-to-text provider, so an audio
    // session ends failed with the reason shown, never with made-up text.
    await page.getByRole("tab", { name: "Scribe and note" }).click();
    const scribe = page.getByTestId("scribe-status");
    const noSpeech = scribe.getByText("The scribe could not draft a note (speech_not_configured)");
    await page.getByLabel("Transcript or audio file").setInputFiles({ name: "consultation.wav", mimeType: "audio/wav", buffer: wav(1) });
    await noSpeech.waitFor({ timeout: EVENT_TIMEOUT });
    await scribe.getByText(/speech-to-text provider/).waitFor();
    await accessible(page, "scribe session failed");
    // Recorded in the browser (Chromium's fake microphone): a WebM/Opus upload, same end.
    await page.getByRole("button", { name: "Record the consultation" }).click();
    await page.getByRole("button", { name: /^Stop and upload \(([2-9]|\d{2,}) s\)$/ }).waitFor();
    const [created] = await Promise.all([
      page.waitForRequest((r) => r.method() === "POST" && r.url().endsWith("/v1/scribe/sessions")),
      page.getByRole("button", { name: /^Stop and upload/ }).click(),
    ]);
    expect(created.postDataJSON().contentType).toBe("audio/webm");
    expect(created.postDataJSON().sizeBytes).toBeGreaterThan(1000);
    await noSpeech.waitFor({ state: "detached" });
    await noSpeech.waitFor({ timeout: EVENT_TIMEOUT });
    expect(await page.getByTestId("note").count()).toBe(0);

    // A transcript upload, its status followed live, the draft note.
    await page.getByLabel("Transcript or audio file").setInputFiles(resolve(here, "../../tests/fixtures/consultation.vtt"));
    await page.getByTestId("scribe-status").getByText("The draft note is ready below.").waitFor({ timeout: EVENT_TIMEOUT });
    const note = page.getByTestId("note");
    await note.getByText(/Note · Draft · version 1/).waitFor();
    // A sentence's evidence in the transcript.
    await note.getByRole("button", { pressed: false }).first().click();
    await accessible(page, "note draft");
    await screenshot(page, "doctor-note");

    // Edit: change the first sentence and add one of the doctor's own.
    await note.getByRole("button", { name: "Edit" }).click();
    const first = note.getByLabel("Subjective sentence 1", { exact: true });
    await first.fill("Chest pain for two hours, radiating to the left arm.");
    await note.getByRole("button", { name: "Add a sentence to Plan" }).click();
    await note.getByRole("textbox", { name: /^Plan sentence \d+ \(new\)$/ }).fill("ECG and troponin now; review with results.");
    await note.getByRole("button", { name: "Save changes" }).click();
    await note.getByText(/Note · Draft · version 2/).waitFor();
    await note.getByRole("button", { name: "Submit for review" }).click();
    await note.getByText(/Pending review/).waitFor();
    // Signing needs a recent sign-in: approved with a 20-minute-old one, the API asks for
    // it; the app asks for the password and the approval goes through with it.
    await asStaleSignIn(s, "**/v1/notes/*/approve");
    const [refused] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith("/approve") && r.request().method() === "POST"),
      note.getByRole("button", { name: "Approve and sign" }).click(),
    ]);
    expect(refused.status()).toBe(401);
    expect((await refused.json()).error.details.reason).toBe("reauthentication_required");
    const reauth = page.getByRole("dialog", { name: "Confirm it is you" });
    await reauth.getByLabel("Password").fill("not-the-password");
    await reauth.getByRole("button", { name: "Confirm" }).click();
    await reauth.locator(".field-error").waitFor();
    await accessible(page, "re-authentication");
    expect(await note.getByText(/^Approved/).count()).toBe(0);
    await reauth.getByLabel("Password").fill("demo-doctor-pass");
    const [approved] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith("/approve") && r.request().method() === "POST"),
      reauth.getByRole("button", { name: "Confirm" }).click(),
    ]);
    expect(approved.status()).toBe(200);
    await reauth.waitFor({ state: "hidden" });
    await note.getByText(/^Approved .*SHA-256/).waitFor();

    // Exports: FHIR and PDF.
    const [fhir] = await Promise.all([page.waitForEvent("download"), note.getByRole("button", { name: "Download FHIR" }).click()]);
    const bundle = JSON.parse(readFileSync((await fhir.path())!, "utf8"));
    expect(bundle.resourceType).toBe("Bundle");
    const [pdf] = await Promise.all([page.waitForEvent("download"), note.getByRole("button", { name: "Download PDF" }).click()]);
    expect(readFileSync((await pdf.path())!, "latin1").slice(0, 8)).toBe("%PDF-1.4");
    await note.getByRole("button", { name: "Versions" }).click();
    const versions = note.getByRole("table", { name: "Note versions" }).getByRole("row");
    await versions.nth(2).waitFor();
    const before = await versions.count();
    await screenshot(page, "doctor-approved");
    await note.getByRole("button", { name: "Versions" }).click();

    // Amend the signed note: a new version, reviewed and signed again; the history keeps all.
    await note.getByRole("button", { name: "Amend" }).click();
    await note.getByLabel("Subjective sentence 1", { exact: true }).fill("Chest pain for three hours, radiating to the left arm.");
    await note.getByRole("button", { name: "Save amendment" }).click();
    await note.getByText(/Note · Amended \(not yet approved\) · version \d+/).waitFor();
    await note.getByText("Chest pain for three hours, radiating to the left arm.").waitFor();
    await note.getByRole("button", { name: "Submit for review" }).click();
    await note.getByText(/Pending review/).waitFor();
    await note.getByRole("button", { name: "Approve and sign" }).click();
    await note.getByText(/^Approved .*SHA-256/).waitFor();
    await note.getByRole("button", { name: "Versions" }).click();
    await expect.poll(() => versions.count(), { timeout: STEP_TIMEOUT }).toBeGreaterThan(before);

    await page.getByRole("button", { name: "Complete the visit" }).click();
    await page.getByRole("heading", { name: "Live board" }).waitFor();
    await row(page).waitFor({ state: "detached", timeout: EVENT_TIMEOUT });
  });

  test("keyboard only: check a patient in and confirm their triage, the focus always visible", async () => {
    const kbFamily = `Keyboard${run}`;
    const name = `${kbFamily}, Ada`;
    const r = await browser();
    let page = r.page;
    await signInByKeyboard(page, "Receptionist");
    await page.getByRole("heading", { name: "Reception" }).waitFor();
    await registerByAPI(page, kbFamily, "Ada"); // registration itself is covered above
    await tabTo(page, page.getByLabel("Name, MRN or birth date"));
    await page.keyboard.type(`${kbFamily.toLowerCase()} ad`);
    const found = page.getByRole("button", { name: new RegExp(`^${name}`) });
    await tabTo(page, found);
    await page.keyboard.press("Enter");
    const complaintBox = page.getByLabel("Chief complaint, in the patient's words");
    await tabTo(page, complaintBox);
    await page.keyboard.type("fever and cough for three days");
    await tabTo(page, page.getByLabel("Arrival"));
    await arrowSelect(page, page.getByLabel("Arrival"), "ambulance");
    await tabTo(page, page.getByRole("button", { name: "Check in" }));
    await page.keyboard.press("Enter");
    await page.getByText("Checked in at").waitFor();

    const n = await browser();
    page = n.page;
    await signInByKeyboard(page, "Nurse");
    const triage = row(page, name).getByRole("link", { name: "Triage" });
    await triage.waitFor({ timeout: EVENT_TIMEOUT });
    await tabTo(page, triage, 400);
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: `Triage: ${name}` }).waitFor();
    const category = page.getByLabel("Complaint category");
    await tabTo(page, category);
    await arrowSelect(page, category, "fever");
    await page.keyboard.press("Tab");
    await arrowSelect(page, page.getByLabel("Mental status (AVPU)"), "A");
    for (const [label, value] of [
      ["Heart rate (beats/min)", "98"],
      ["Respiratory rate (breaths/min)", "20"],
      ["Systolic blood pressure (mmHg)", "128"],
      ["Diastolic blood pressure (mmHg)", "80"],
      ["Oxygen saturation (SpO₂) (%)", "97"],
      ["Temperature (°C)", "38.4"],
    ]) {
      await tabTo(page, page.getByLabel(label));
      await page.keyboard.type(value);
    }
    await tabTo(page, page.getByLabel("Air or oxygen"));
    await arrowSelect(page, page.getByLabel("Air or oxygen"), "air");
    await tabTo(page, page.getByLabel("Pain (0–10)"));
    await page.keyboard.type("3");
    await tabTo(page, page.getByLabel("Immunocompromised"));
    await page.keyboard.press("Space");
    expect(await page.getByLabel("Immunocompromised").isChecked()).toBe(true);
    await page.getByRole("region", { name: /Engine proposal/ }).getByText(/^ESI \d/).first().waitFor();
    await tabTo(page, page.getByRole("button", { name: "Record assessment" }));
    await page.keyboard.press("Enter");
    await page.getByText(/Assessment recorded; the patient is now triaged/).waitFor();
    const confirm = page.getByRole("region", { name: "Level in force" });
    await tabTo(page, confirm.getByRole("button", { name: "Confirm level" }));
    await page.keyboard.press("Space");
    await confirm.getByText(/Level \d confirmed/).waitFor();
  });

  test("keyboard only: register a new patient, the API's validation shown, the focus always visible", async () => {
    const kbFamily = `Registered${run}`;
    const { page } = await browser();
    await signInByKeyboard(page, "Receptionist");
    await page.getByRole("heading", { name: "Reception" }).waitFor();
    await tabTo(page, page.getByRole("button", { name: "Register a new patient" }));
    await page.keyboard.press("Enter");
    // Sent empty: every required field says what is missing.
    await tabTo(page, page.getByRole("button", { name: "Register", exact: true }));
    await page.keyboard.press("Enter");
    await expect.poll(() => page.locator(".field-error").count(), { timeout: STEP_TIMEOUT }).toBeGreaterThanOrEqual(4);
    await tabTo(page, page.getByLabel("Given name"), 80, { back: true });
    await page.keyboard.type("Ola");
    await tabTo(page, page.getByLabel("Family name"));
    await page.keyboard.type(kbFamily);
    // The date field takes its parts as typed, in the order of the browser's language
    // (day or month first): the same day and month fit both.
    await tabTo(page, page.getByLabel("Birth date", { exact: true }));
    await page.keyboard.type("08081990");
    expect(await page.getByLabel("Birth date", { exact: true }).inputValue()).toBe("1990-08-08");
    await tabTo(page, page.getByLabel("Sex", { exact: true })); // past the field's calendar button
    await arrowSelect(page, page.getByLabel("Sex", { exact: true }), "male");
    await tabTo(page, page.getByRole("button", { name: "Register", exact: true }));
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: `${kbFamily}, Ola` }).waitFor();
    // Found again by searching as you type, and opened from the results.
    await tabTo(page, page.getByLabel("Name, MRN or birth date"), 80, { back: true });
    await page.keyboard.type(`${kbFamily.toLowerCase()} ol`);
    const found = page.getByRole("button", { name: new RegExp(`^${kbFamily}, Ola`) });
    await tabTo(page, found);
    await page.keyboard.press("Enter");
    await expectFocused(found);
    await page.getByLabel("Chief complaint, in the patient's words").waitFor();
  });

  test("the live board marks a patient past their level's target, in words as well as colour; a doctor takes them with the keyboard only", async () => {
    // Level 1's target is immediate: a level 1 patient who waits at all is past it, so the
    // breach shows at once, from an ordinary check-in and triage.
    const breachFamily = `Breach${run}`;
    const name = `${breachFamily}, Ida`;
    const n = await browser();
    await signInAs(n.page, "nurse");
    const breachId = await checkInByAPI(n.page, await registerByAPI(n.page, breachFamily, "Ida"), "found collapsed, not responding");
    const fresh = `Ontime${run}`;
    const freshId = await checkInByAPI(n.page, await registerByAPI(n.page, fresh, "Ada"), "sprained ankle");
    const t = await n.page.request.post(`/v1/triage/${breachId}`, {
      data: { chiefComplaint: "found collapsed, not responding", mentalStatus: "U", complaintCategory: "syncope" },
      headers: { "Idempotency-Key": randomUUID() },
    });
    expect(t.status(), await t.text()).toBe(201);
    expect((await t.json()).data.assessment.result.level).toBe(1);

    const breach = row(n.page, name);
    await breach.getByText("Over target", { exact: true }).waitFor({ timeout: EVENT_TIMEOUT });
    await breach.getByText("ESI 1").waitFor();
    // A patient within their target (untriaged: 15 minutes) carries neither mark.
    const onTime = row(n.page, `${fresh}, Ada`);
    await onTime.getByText(/of 15 min target/).waitFor({ timeout: EVENT_TIMEOUT });
    expect(await onTime.getByText("Over target", { exact: true }).count()).toBe(0);
    const edge = (l: typeof breach) => l.evaluate((el) => parseFloat(getComputedStyle(el).borderLeftWidth));
    expect(await edge(breach)).toBeGreaterThanOrEqual(8);
    expect(await edge(onTime)).toBeLessThan(2);
    await accessible(n.page, "board with a patient over target");
    await moveByAPI(n.page, freshId, "cancelled", "Checked in by the browser tests to show a patient within target.");

    // The doctor, keyboard only: take the patient, open the scribe's draft, check a
    // sentence's evidence, sign with the password prompt, complete the visit.
    const d = await browser();
    const page = d.page;
    await signInByKeyboard(page, "Doctor");
    const take = row(page, name).getByRole("button", { name: "Take patient" });
    await take.waitFor({ timeout: EVENT_TIMEOUT });
    await tabTo(page, take, 400);
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name }).waitFor();
    await page.getByText("(with you)").waitFor();
    // The visit's tabs: Tab to the selected one, arrows to the next.
    await tabTo(page, page.getByRole("tab", { name: "History summary" }));
    await page.keyboard.press("ArrowRight");
    await page.keyboard.press("ArrowRight");
    const noteTab = page.getByRole("tab", { name: "Scribe and note" });
    await expectFocused(noteTab);
    expect(await noteTab.getAttribute("aria-selected")).toBe("true");
    // The file picker opened from the keyboard.
    const picker = page.getByLabel("Transcript or audio file");
    await tabTo(page, picker);
    await chooseFileByKeyboard(page, picker, resolve(here, "../../tests/fixtures/consultation.vtt"));
    await page.getByTestId("scribe-status").getByText("The draft note is ready below.").waitFor({ timeout: EVENT_TIMEOUT });
    const note = page.getByTestId("note");
    const sentence = note.getByRole("button", { pressed: false }).first();
    await tabTo(page, sentence);
    await page.keyboard.press("Enter");
    await expect.poll(() => note.getByRole("button", { pressed: true }).count(), { timeout: STEP_TIMEOUT }).toBe(1);
    await page.getByTestId("transcript").locator("mark").first().waitFor();
    await tabTo(page, note.getByRole("button", { name: "Submit for review" }));
    await page.keyboard.press("Enter");
    await note.getByText(/Pending review/).waitFor();
    await asStaleSignIn(d, "**/v1/notes/*/approve");
    await tabTo(page, note.getByRole("button", { name: "Approve and sign" }));
    await page.keyboard.press("Enter");
    const reauth = page.getByRole("dialog", { name: "Confirm it is you" });
    await expectFocused(reauth.getByLabel("Password"));
    await page.keyboard.type("demo-doctor-pass");
    await page.keyboard.press("Enter");
    await reauth.waitFor({ state: "hidden" });
    await note.getByText(/^Approved .*SHA-256/).waitFor();
    // The board opened anew: the visit is among "Your consultations", its patient named from
    // the summaries the board fetches in batches (no read of each patient); from there back
    // to the visit.
    const reads: string[] = [];
    const onRequest = (r: { method(): string; url(): string }) => {
      if (r.method() === "GET" && /\/v1\/patients\/[^/?]+$/.test(r.url())) reads.push(r.url());
    };
    page.on("request", onRequest);
    await page.goto("/board");
    const mine = page.getByTestId("my-consultations").getByRole("link", { name: new RegExp(`^${name} — found collapsed`) });
    await tabTo(page, mine);
    page.off("request", onRequest);
    expect(reads).toEqual([]);
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name }).waitFor();
    await tabTo(page, page.getByRole("button", { name: "Complete the visit" }));
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Live board" }).waitFor();
    await row(page, name).waitFor({ state: "detached", timeout: EVENT_TIMEOUT });
  });

  test("a locked screen keeps the form in progress", async () => {
    s = await browser();
    const { page } = s;
    await signInAs(page, "receptionist");
    await page.getByRole("button", { name: "Register a new patient" }).click();
    await page.getByLabel("Given name").fill("Kept");
    // The clinic's idle timeout, shortened for the test.
    await page.evaluate(() => sessionStorage.setItem("medi.idleTimeoutSeconds", "3"));
    await page.getByRole("heading", { name: "Screen locked" }).waitFor();
    expect(await page.getByText("Register a new patient").first().isVisible()).toBe(false);
    await page.evaluate(() => sessionStorage.setItem("medi.idleTimeoutSeconds", "900"));
    await page.getByLabel("Password").fill("demo-receptionist-pass");
    await page.getByRole("button", { name: "Sign in and continue" }).click();
    await page.getByLabel("Given name").waitFor();
    expect(await page.getByLabel("Given name").inputValue()).toBe("Kept");
  });

  test("a phone-sized screen in the dark theme; offline and back", async () => {
    s = await browser({ viewport: { width: 360, height: 780 }, colorScheme: "dark" });
    const { page } = s;
    await signInAs(page, "nurse");
    await page.getByRole("heading", { name: "Live board" }).waitFor();
    await page.getByTestId("stream-state").getByText("Live", { exact: true }).waitFor();
    await accessible(page, "board (phone, dark)");
    // The connection drops: the app says so; back online, the banner goes.
    await s.context.setOffline(true);
    const offline = page.getByRole("alert").filter({ hasText: "Offline: nothing can be saved" });
    await offline.waitFor();
    await accessible(page, "offline banner (phone, dark)");
    await s.context.setOffline(false);
    await offline.waitFor({ state: "detached" });
    await page.getByTestId("stream-state").getByText("Live", { exact: true }).waitFor({ timeout: EVENT_TIMEOUT });
    // What failed while offline is expected; nothing else may have.
    s.problems.splice(0, s.problems.length, ...s.problems.filter((p) => !/ERR_INTERNET_DISCONNECTED/.test(p)));
    await page.getByRole("button", { name: "Menu" }).click();
    await page.getByRole("link", { name: "Emergency access" }).click();
    await page.getByRole("heading", { name: "Emergency access" }).waitFor();
    await accessible(page, "emergency access (phone, dark)");
    await screenshot(page, "phone-dark");
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
  });
});

describe("the admin's screens", () => {
  let s: Session;
  const problems: string[] = [];
  afterAll(async () => {
    problems.push(...(s?.problems ?? []));
    await s?.close();
    expect(problems).toEqual([]);
  });

  test("staff: invite a colleague, change their role, disable them", async () => {
    s = await launch();
    const { page } = s;
    await signInAs(page, "admin");
    await page.getByRole("heading", { name: "Staff" }).waitFor();
    const email = `new.nurse.${run.toLowerCase()}@demo-clinic.medi.test`;
    await page.getByLabel("Work e-mail").fill(email);
    await page.getByLabel("Name shown to colleagues").fill(`Nurse ${run}`);
    await page.getByLabel("Role", { exact: true }).selectOption("nurse");
    await page.getByRole("button", { name: "Send invitation" }).click();
    await page.getByText(`Nurse ${run} was added as nurse.`).waitFor();
    await page.getByRole("cell", { name: email }).waitFor();
    await page.getByLabel(`Role of Nurse ${run}`).selectOption("doctor");
    await page.getByRole("button", { name: "Save role" }).click();
    await page.getByText("Saved; their sessions were ended where the change requires it.").waitFor();
    await expect.poll(() => page.getByLabel(`Role of Nurse ${run}`).inputValue(), { timeout: STEP_TIMEOUT }).toBe("doctor");
    await page.getByRole("button", { name: `Disable Nurse ${run}` }).click();
    await page.getByRole("button", { name: `Enable Nurse ${run}` }).waitFor();
    await accessible(page, "staff");
    await screenshot(page, "admin-staff");
  });

  test("keyboard only: invite, change a role, disable; filter the audit trail", async () => {
    const r = await launch();
    try {
      const page = r.page;
      await signInByKeyboard(page, "Admin");
      await page.getByRole("heading", { name: "Staff" }).waitFor();
      const who = `Keyboard ${run}`;
      await tabTo(page, page.getByLabel("Work e-mail"));
      await page.keyboard.type(`keyboard.${run.toLowerCase()}@demo-clinic.medi.test`);
      await tabTo(page, page.getByLabel("Name shown to colleagues"));
      await page.keyboard.type(who);
      await tabTo(page, page.getByLabel("Role", { exact: true }));
      await arrowSelect(page, page.getByLabel("Role", { exact: true }), "receptionist");
      await tabTo(page, page.getByRole("button", { name: "Send invitation" }));
      await page.keyboard.press("Enter");
      await page.getByText(`${who} was added as receptionist.`).waitFor();
      const role = page.getByLabel(`Role of ${who}`);
      await tabTo(page, role, 400);
      await arrowSelect(page, role, "nurse");
      await tabTo(page, page.getByRole("button", { name: "Save role" }));
      await page.keyboard.press("Enter");
      await page.getByText("Saved; their sessions were ended where the change requires it.").waitFor();
      await tabTo(page, page.getByRole("button", { name: `Disable ${who}` }), 400);
      await page.keyboard.press("Enter");
      await page.getByRole("button", { name: `Enable ${who}` }).waitFor();

      await tabTo(page, page.getByRole("link", { name: "Audit trail" }), 400, { back: true });
      await page.keyboard.press("Enter");
      await page.getByTestId("audit-table").waitFor();
      await tabTo(page, page.getByLabel("Action"));
      await page.keyboard.type("staff.update");
      await tabTo(page, page.getByRole("button", { name: "Filter", exact: true }));
      await page.keyboard.press("Enter");
      const actions = page.getByTestId("audit-table").locator("tbody tr td:nth-child(3)");
      await actions.first().waitFor();
      await expect.poll(async () => [...new Set(await actions.allTextContents())], { timeout: STEP_TIMEOUT }).toEqual(["staff.update"]);
      await tabTo(page, page.getByRole("button", { name: "Verify the chain" }), 80, { back: true });
      await page.keyboard.press("Enter");
      await page.getByText(/^Intact: \d+ records checked/).waitFor();
    } finally {
      problems.push(...r.problems);
      await r.close();
    }
  });

  test("staff: sign a colleague out of every device; their screen asks them to sign in again", async () => {
    const { page } = s;
    const r = await launch();
    try {
      await signInAs(r.page, "receptionist");
      await r.page.getByRole("heading", { name: "Reception" }).waitFor();
      // The Auth emulator records revocations to the second: revoke in a later second
      // than the sign-in, as a real revocation always is.
      await r.page.waitForTimeout(1100);
      await page.getByRole("button", { name: "Sign Demo receptionist out everywhere" }).click();
      await page.getByRole("status").filter({ hasText: "Demo receptionist is signed out of every device" }).waitFor();
      // Their requests are refused from then on (every function within the 30 s for which
      // it trusts what it read of an account): they search until one is refused and the
      // screen locks, keeping what they typed.
      const search = r.page.getByLabel("Name, MRN or birth date");
      const locked = r.page.getByRole("heading", { name: "Sign in again" });
      const queries = ["nunez", "nune", "nunez j", "nun", "nunez jo", "nunez jos"];
      let typed = "";
      await expect
        .poll(
          async () => {
            if (await locked.isVisible()) return true;
            typed = queries[queries.indexOf(typed) + 1] ?? queries[0];
            await search.fill(typed);
            return false;
          },
          { timeout: STEP_TIMEOUT, interval: 5_000 },
        )
        .toBe(true);
      await r.page.getByLabel("Password").fill("demo-receptionist-pass");
      await r.page.getByRole("button", { name: "Sign in and continue" }).click();
      await r.page.getByRole("button", { name: /Núñez, José/ }).waitFor();
      expect(await search.inputValue()).toBe(typed);
    } finally {
      problems.push(...r.problems);
      await r.close();
    }
  });

  test("audit trail: filter and verify the chain", async () => {
    const { page } = s;
    await page.getByRole("link", { name: "Audit trail" }).click();
    await page.getByTestId("audit-table").waitFor();
    await page.getByLabel("Action").fill("staff.create");
    await page.getByRole("button", { name: "Filter", exact: true }).click();
    await page.getByTestId("audit-table").getByRole("cell", { name: "staff.create" }).first().waitFor();
    await page.getByRole("button", { name: "Verify the chain" }).click();
    await page.getByText(/^Intact: \d+ records checked/).waitFor();
    await accessible(page, "audit");
    await screenshot(page, "admin-audit");
  });

  test("emergency access review and AI spend", async () => {
    const { page } = s;
    await page.getByRole("link", { name: "Access review" }).click();
    await page.getByRole("heading", { name: "Emergency access review" }).waitFor();
    await page.getByText(/No emergency access|Granted/).first().waitFor();
    await accessible(page, "access review");
    await page.getByRole("link", { name: "AI spend" }).click();
    await page.getByRole("heading", { name: "AI spend" }).waitFor();
    await page.getByRole("img", { name: /AI spend per month/ }).waitFor();
    await accessible(page, "AI spend");
    await screenshot(page, "admin-usage");
  });

  test("emergency access: a doctor of another clinic is granted it; revoked, a new request is refused until the block is lifted", async () => {
    const { page } = s;
    const patientId = await registerByAPI(page, `Transferred${run}`, "Ines");
    const d = await launch();
    try {
      const dp = d.page;
      await signInAs(dp, "Doctor at North Clinic");
      const request = async () => {
        await dp.goto("/access");
        await dp.getByRole("heading", { name: "Emergency access" }).waitFor();
        await dp.getByLabel("Clinic of the patient").fill("demo-clinic");
        await dp.getByLabel("Patient id").fill(patientId);
        await dp.getByLabel("Reason (10–500 characters)").fill("Unconscious on arrival at North; history needed now");
        await dp.getByRole("button", { name: "Request emergency access" }).click();
      };
      await request();
      await dp.getByText(/^Access granted until/).waitFor();
      await dp.getByTestId("source-record").getByText(`Transferred${run}`).first().waitFor();

      // The patient's clinic reviews it (opening the review as the alert e-mail's link
      // does) and revokes it.
      await page.goto("/admin/access/break-glass");
      const grant = page.getByRole("row").filter({ hasText: patientId });
      await grant.getByRole("button", { name: "Revoke" }).click();
      await grant.getByText(/^revoked /).waitFor();
      await accessible(page, "access review with a revoked grant");

      // A revoked grant blocks the same person asking again for the same patient.
      await request();
      await dp.getByText(/your emergency access to this patient was revoked by an admin/).waitFor();
      await accessible(dp, "emergency access refused");

      // Once the admin lifts the block, they may ask again.
      await grant.getByRole("button", { name: "Lift the block" }).click();
      await grant.getByText(/block lifted/).waitFor();
      await request();
      await dp.getByText(/^Access granted until/).waitFor();
    } finally {
      problems.push(...d.problems.filter((p) => !/status of 403/.test(p)));
      await d.close();
    }
  });

  test("sign out", async () => {
    const { page } = s;
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByText("You have signed out.").waitFor();
    // The session ended on the server too: a reload stays on the sign-in screen.
    await page.reload();
    await page.getByRole("button", { name: "Sign in", exact: true }).waitFor();
    expect(await page.getByTestId("whoami").count()).toBe(0);
  });
});

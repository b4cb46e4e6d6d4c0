// One patient from registration to an approved and amended note, as the receptionist, the
// nurse and the doctor do it in the app (and one who leaves without being seen), then the
// admin's screens; every screen checked with axe-core (no serious or critical violation)
// and photographed for the user guides.
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, describe, expect, test } from "vitest";
import type { Page } from "playwright-core";
import { axe, EVENT_TIMEOUT, describeViolations, launch, screenshot, signInAs, STEP_TIMEOUT, type Session } from "./browser";

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

    // The scribe: a transcript upload, its status followed live, the draft note.
    await page.getByRole("tab", { name: "Scribe and note" }).click();
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
    await note.getByRole("button", { name: "Approve and sign" }).click();
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

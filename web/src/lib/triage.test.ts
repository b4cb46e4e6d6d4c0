import { describe, expect, it } from "vitest";
import { ageFields, buildTriageInput, emptyTriageForm, formFromInput, reassessDue } from "./triage";

const now = new Date("2026-06-15T10:00:00Z");

describe("ageFields", () => {
  it("gives years, months or days as the engine wants", () => {
    expect(ageFields("1972-06-16", now)).toEqual({ ageYears: 53 });
    expect(ageFields("1972-06-15", now)).toEqual({ ageYears: 54 });
    expect(ageFields("2025-09-20", now)).toEqual({ ageMonths: 8 });
    expect(ageFields("2026-06-01", now)).toEqual({ ageDays: 14 });
    expect(ageFields("nonsense", now)).toEqual({});
  });
});

describe("buildTriageInput", () => {
  it("turns the form into the engine's input", () => {
    const f = emptyTriageForm("chest pain", "walk_in");
    f.complaintCategory = "chest_pain";
    f.mentalStatus = "A";
    f.painScore = "7";
    f.vitals.heartRate = "112";
    f.vitals.temperatureC = "37,1";
    f.oxygen = "air";
    const { input, errors } = buildTriageInput(f, { birthDate: "1968-01-01", sex: "male" }, now);
    expect(errors).toEqual({});
    expect(input).toEqual({
      ageYears: 58,
      sex: "male",
      chiefComplaint: "chest pain",
      complaintCategory: "chest_pain",
      arrivalMode: "walk_in",
      mentalStatus: "A",
      painScore: 7,
      vitals: { heartRate: 112, temperatureC: 37.1, onSupplementalOxygen: false },
    });
  });

  it("reports implausible values per field", () => {
    const f = emptyTriageForm("");
    f.vitals.spo2 = "120";
    f.painScore = "11";
    const { errors } = buildTriageInput(f, { birthDate: "2000-01-01", sex: "female" }, now);
    expect(errors).toEqual({
      "vitals.spo2": "must be between 0 and 100 %",
      painScore: "must be a whole number from 0 to 10",
      chiefComplaint: "is required",
    });
  });

  it("round-trips a recorded input into the form", () => {
    const f = formFromInput({ chiefComplaint: "cough", painScore: 0, vitals: { respiratoryRate: 22, onSupplementalOxygen: true } });
    expect(f.painScore).toBe("0");
    expect(f.vitals.respiratoryRate).toBe("22");
    expect(f.oxygen).toBe("oxygen");
    expect(formFromInput({ chiefComplaint: "x", vitals: { onSupplementalOxygen: false } }).oxygen).toBe("air");
    expect(formFromInput({ chiefComplaint: "x" }).oxygen).toBe("");
  });
});

describe("reassessDue", () => {
  it("adds the NEWS2 interval to the assessment time", () => {
    expect(reassessDue("2026-06-15T09:00:00Z", { reassessment: { applicable: true, intervalMinutes: 60, continuous: false } })?.toISOString()).toBe(
      "2026-06-15T10:00:00.000Z",
    );
    expect(reassessDue("2026-06-15T09:00:00Z", { reassessment: { applicable: false, intervalMinutes: 0, continuous: false } })).toBeNull();
  });
});

describe("re-assessment reminders", () => {
  it("are due once their time has come, and cleared", async () => {
    const { setReminder, reminderDue } = await import("./triage");
    setReminder("enc-1", new Date(1_000));
    expect(reminderDue("enc-1", 999)).toBe(false);
    expect(reminderDue("enc-1", 1_000)).toBe(true);
    setReminder("enc-1", null);
    expect(reminderDue("enc-1", 5_000)).toBe(false);
    expect(reminderDue("never-seen")).toBe(false);
  });
});

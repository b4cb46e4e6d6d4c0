import { describe, expect, it } from "vitest";
import { parseVital, registrationBody, searchCriteria, validateComplaint, validateRegistration, VITALS } from "./validate";

const ok = { givenName: "Mia", familyName: "Okafor", birthDate: "2019-07-21", sex: "female", phone: "", mrn: "" };

describe("validateRegistration", () => {
  it("accepts a complete registration", () => {
    expect(validateRegistration(ok)).toEqual({});
  });

  it("reports every invalid field at once, with the API's wording", () => {
    const now = new Date("2026-01-01T12:00:00Z");
    const e = validateRegistration(
      { givenName: " ", familyName: "---", birthDate: "2027-01-01", sex: "", phone: "12", mrn: "-x" },
      now,
    );
    expect(e).toEqual({
      givenName: "is required",
      familyName: "must contain a letter or digit",
      birthDate: "must not be in the future",
      sex: "is required",
      phone: "must be 5-15 digits, optionally with a leading + and spaces, dots, dashes or parentheses",
      mrn: "must start with a letter or digit and hold only letters, digits, '.', '_' or '-'",
    });
  });

  it("refuses impossible dates and text-direction controls", () => {
    expect(validateRegistration({ ...ok, birthDate: "2019-02-30" }).birthDate).toBe("must be a date YYYY-MM-DD");
    expect(validateRegistration({ ...ok, birthDate: "1899-12-31" }).birthDate).toBe("must not be before 1900-01-01");
    expect(validateRegistration({ ...ok, givenName: "Ad\u202ea" }).givenName).toBe("must not contain text-direction control characters");
  });

  it("accepts a baby born today anywhere on Earth", () => {
    const now = new Date("2026-01-01T11:00:00Z"); // already 2026-01-02 in UTC+14
    expect(validateRegistration({ ...ok, birthDate: "2026-01-02" }, now)).toEqual({});
  });
});

describe("registrationBody", () => {
  it("trims and leaves out empty optional fields", () => {
    expect(registrationBody({ ...ok, givenName: " Mia ", phone: " ", mrn: " M-1 " })).toEqual({
      givenName: "Mia",
      familyName: "Okafor",
      birthDate: "2019-07-21",
      sex: "female",
      mrn: "M-1",
    });
  });
});

describe("searchCriteria", () => {
  it("reads MRNs, birth dates and name prefixes", () => {
    expect(searchCriteria("DEMO-000002")).toEqual({ mrn: "DEMO-000002" });
    expect(searchCriteria("1972-03-04")).toEqual({ birthDate: "1972-03-04" });
    expect(searchCriteria("nunez jo")).toEqual({ name: "nunez jo" });
    expect(searchCriteria("n")).toBeNull();
    expect(searchCriteria("  ")).toBeNull();
  });
});

describe("vitals", () => {
  const spo2 = VITALS.find((v) => v.key === "spo2")!;
  const temp = VITALS.find((v) => v.key === "temperatureC")!;
  it("parses numbers with a decimal comma and refuses implausible values", () => {
    expect(parseVital(temp, "37,5")).toEqual({ value: 37.5 });
    expect(parseVital(spo2, "")).toEqual({ value: null });
    expect(parseVital(spo2, "140").error).toBe("must be between 0 and 100 %");
    expect(parseVital(spo2, "9x").error).toBe("must be a number");
  });
  it("checks the complaint's length", () => {
    expect(validateComplaint("  ")).toBe("is required");
    expect(validateComplaint("x".repeat(501))).toBe("must be at most 500 characters");
    expect(validateComplaint("cough")).toBeUndefined();
  });
});

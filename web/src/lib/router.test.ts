import { describe, expect, it } from "vitest";
import { matchPath } from "./router";

describe("matchPath", () => {
  it("extracts parameters and refuses other shapes", () => {
    expect(matchPath("/encounters/:id", "/encounters/abc")).toEqual({ id: "abc" });
    expect(matchPath("/encounters/:id", "/encounters/abc/")).toEqual({ id: "abc" });
    expect(matchPath("/encounters/:id", "/encounters")).toBeNull();
    expect(matchPath("/admin/staff", "/admin/audit")).toBeNull();
    expect(matchPath("/triage/:id", "/triage/%E0%A4%A")).toBeNull();
  });
});

import { expect, test } from "vitest";
import { axe, describeViolations, launch, screenshot, signInAs } from "./browser";

test("sign-in screen and receptionist start", async () => {
  const s = await launch();
  try {
    await s.page.goto("/");
    await s.page.getByRole("heading", { name: "Medi OS" }).waitFor();
    expect(describeViolations(await axe(s.page))).toBe("");
    await screenshot(s.page, "sign-in");
    await signInAs(s.page, "receptionist");
    await s.page.getByRole("heading", { name: "Reception" }).waitFor();
    await screenshot(s.page, "reception");
    expect(describeViolations(await axe(s.page))).toBe("");
    expect(s.problems).toEqual([]);
  } finally {
    await s.close();
  }
});

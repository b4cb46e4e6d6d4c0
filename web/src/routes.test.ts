import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { ROUTES } from "./App";

describe("routes.json", () => {
  it("lists exactly the app's routes (the load balancer rewrites these to index.html)", () => {
    const file = JSON.parse(readFileSync(resolve(__dirname, "../routes.json"), "utf8")) as { routes: string[] };
    expect([...file.routes].sort()).toEqual(ROUTES.map((r) => r.path).sort());
  });
});

import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { ROUTES } from "./App";

const readJSON = <T>(path: string): T => JSON.parse(readFileSync(resolve(__dirname, path), "utf8")) as T;

describe("routes.json", () => {
  const file = readJSON<{ routes: string[] }>("../routes.json");

  it("lists exactly the app's routes (the load balancer rewrites these to index.html)", () => {
    expect([...file.routes].sort()).toEqual(ROUTES.map((r) => r.path).sort());
  });

  // The API's route table (shared/routes/routes.json: which function serves each /v1
  // prefix) and the app's screens share the load balancer: no screen may sit under a
  // prefix of the API, or one of the two would shadow the other.
  it("has no route under a prefix of the API's route table", () => {
    const api = readJSON<{ routes: { prefixes: string[] }[] }>("../../shared/routes/routes.json");
    const prefixes = api.routes.flatMap((r) => r.prefixes);
    expect(prefixes.length).toBeGreaterThan(0);
    const clash = file.routes.filter((r) => r.startsWith("/v1/") || r === "/v1" || prefixes.some((p) => r === p || r.startsWith(p + "/")));
    expect(clash).toEqual([]);
  });
});

import { defineConfig } from "vitest/config";

// The browser tests: real headless Chromium (Debian's package) against a running local
// stack ($MEDI_BASE_URL). One file at a time, tests in order: they follow one patient.
export default defineConfig({
  test: {
    environment: "node",
    include: ["e2e/**/*.e2e.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    sequence: { concurrent: false },
    reporters: ["default"],
  },
});

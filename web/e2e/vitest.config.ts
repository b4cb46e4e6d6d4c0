import { defineConfig } from "vitest/config";

// The browser tests: real headless Chromium (Debian's package) against a running local
// stack ($MEDI_BASE_URL). One file at a time, tests in order: they follow one patient.
export default defineConfig({
  test: {
    environment: "node",
    include: ["e2e/**/*.e2e.ts"],
    // Bounds for a stuck test, not speed targets (a loaded machine is slow; a test waits
    // up to EVENT_TIMEOUT several times for the live board).
    testTimeout: 900_000,
    hookTimeout: 180_000,
    fileParallelism: false,
    sequence: { concurrent: false },
    reporters: ["default"],
  },
});

import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

// Unit tests of the client logic (no browser, no stack): jsdom.
export default defineConfig({
  plugins: [react()],
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
    restoreMocks: true,
  },
});

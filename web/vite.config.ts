import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";
import tailwindcss from "@tailwindcss/vite";

// The app is served at "/" by the local gateway and, in production, by a Cloud Storage
// backend bucket behind the same load balancer as the API: assets get content hashes in
// their names (cached for a year as immutable), index.html and config.json are revalidated.
export default defineConfig({
  plugins: [react(), tailwindcss()],
  build: {
    outDir: "dist",
    assetsDir: "assets",
    sourcemap: false,
    target: "es2022",
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
});

import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// The build lands inside the Python package, which `runyard server` serves at `/`.
const outDir = fileURLToPath(new URL("../src/runyard/server/studio_dist", import.meta.url));
const apiTarget = process.env.RUNYARD_DEV_SERVER ?? "http://127.0.0.1:8765";

export default defineConfig({
  base: "/",
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    outDir,
    emptyOutDir: true,
    target: "es2022",
    assetsDir: "assets",
    sourcemap: false,
    reportCompressedSize: false,
  },
  server: {
    proxy: { "/api": { target: apiTarget, changeOrigin: false } },
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.ts", "src/**/*.test.tsx"],
  },
});

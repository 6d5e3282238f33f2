import { defineConfig } from "vitest/config";

// unit: pure code, no services. integration: against the stack that `npm test` starts
// (its URLs and keys arrive in SWITCHYARD_* environment variables).
export default defineConfig({
  test: {
    projects: [
      { test: { name: "unit", include: ["packages/**/*.test.ts", "tests/unit/**/*.test.ts"] } },
      {
        test: {
          name: "integration",
          include: ["tests/integration/**/*.test.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      {
        // Headless Chromium (Debian's, driven by playwright-core) against the same stack.
        // groupOrder 1: runs after unit + integration, never beside them, because it flips
        // the global kill switch. apt-get may install Chromium in the first hook.
        test: {
          name: "browser",
          include: ["tests/browser/**/*.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 600_000,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});

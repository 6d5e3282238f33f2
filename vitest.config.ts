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
    ],
  },
});

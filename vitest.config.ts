import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
        },
      },
      {
        test: {
          name: "hosts",
          include: [
            "test/integration/**/*.test.ts",
            "test/roles/**/*.test.ts",
            "test/e2e/**/*.test.ts",
            "test/network/**/*.test.ts",
            "test/scale/**/*.test.ts",
          ],
          // The suites share the test hosts and inject faults into them: one file at a time.
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});

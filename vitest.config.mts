import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // Starts one MongoDB-wire server (MONGODB_URI, else a FerretDB built from source) for all files.
    globalSetup: ["test/harness/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 240_000,
    // Two cores: run files two at a time; each file uses its own databases, ports and temp dirs.
    maxWorkers: 2,
  },
});

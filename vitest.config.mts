import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts", "clients/typescript/test/**/*.test.ts"],
    // Starts one MongoDB-wire server (MONGODB_URI, else a FerretDB built from source) for all files.
    globalSetup: ["test/harness/global-setup.ts"],
    // A guard against hangs, not a speed check: FerretDB-backed cases are slow on 2 shared cores.
    testTimeout: 300_000,
    hookTimeout: 240_000,
    // Two cores: run files two at a time; each file uses its own databases, ports and temp dirs.
    maxWorkers: 2,
  },
});

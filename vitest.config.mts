import { configDefaults, defineConfig } from "vitest/config";

/**
 * Tests that assert on a server's resident memory. They run after everything else, one file at a time: beside
 * other CPU-heavy files, V8's concurrent garbage collection lags behind on two cores and the peak they read
 * measures the test machine's contention rather than the server.
 */
const MEMORY_TESTS = ["test/chaos/stalled-streams.test.ts", "test/search/stream-memory.test.ts", "test/watch/watch-stalled.test.ts"];

export default defineConfig({
  test: {
    // Starts one MongoDB-wire server (MONGODB_URI, else a FerretDB built from source) for all files.
    globalSetup: ["test/harness/global-setup.ts"],
    // A guard against hangs, not a speed check: FerretDB-backed cases are slow on 2 shared cores.
    testTimeout: 300_000,
    hookTimeout: 240_000,
    projects: [
      {
        extends: true,
        test: {
          name: "main",
          include: ["src/**/*.test.ts", "test/**/*.test.ts", "clients/typescript/test/**/*.test.ts"],
          exclude: [...configDefaults.exclude, ...MEMORY_TESTS],
          // Two cores: run files two at a time; each file uses its own databases, ports and temp dirs.
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: { name: "memory", include: MEMORY_TESTS, maxWorkers: 1, sequence: { groupOrder: 1 } },
      },
    ],
  },
});

/**
 * Version numbering and archive-on-promote across processes: several Node processes (each its own connection, as
 * several servers on one file) write one model's versions at once. In one process better-sqlite3 runs calls one after
 * another, so only separate processes show that the IMMEDIATE transactions serialise the writers.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, beforeEach, expect, it } from "vitest";
import { createSqliteStore } from "./sqlite-store.js";

const run = promisify(execFile);
const storeModule = fileURLToPath(new URL("./sqlite-store.ts", import.meta.url));
const PROCESSES = 4;
const VERSIONS_EACH = 50;

/**
 * One writer: opens the file, says it is ready, waits for the go file (so the writers overlap instead of taking turns
 * by start-up time), creates its versions, then promotes each of them to Production, archiving the others.
 */
const writer = (path: string, index: number) => `
  import { existsSync, writeFileSync } from "node:fs";
  import { createSqliteStore } from ${JSON.stringify(storeModule)};
  const store = createSqliteStore({ path: ${JSON.stringify(path)}, busyTimeoutMs: 30000 });
  await store.init();
  writeFileSync(${JSON.stringify(`${path}.ready-${index}`)}, "");
  while (!existsSync(${JSON.stringify(`${path}.go`)})) await new Promise((resolve) => setTimeout(resolve, 5));
  const versions = [];
  for (let i = 0; i < ${VERSIONS_EACH}; i++) {
    const mv = await store.createModelVersion({ name: "m", source: "s", runId: "", runLink: "", description: "", userId: "u", tags: [], now: i });
    versions.push(mv.version);
  }
  for (const v of versions) await store.transitionModelVersionStage("m", v, "Production", true, 1);
  await store.close();
  console.log(JSON.stringify(versions));
`;

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "logbook-registry-"));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

it("numbers versions 1..N without gap or duplicate and keeps one version in Production under concurrent processes", async () => {
  const path = join(dir, "logbook.db");
  const store = createSqliteStore({ path });
  await store.init();
  try {
    await store.createRegisteredModel({ name: "m", description: "", userId: "u", tags: [], now: 0 });
    const writers = Array.from({ length: PROCESSES }, (_, i) =>
      run(process.execPath, ["--import", "tsx", "--input-type=module", "-e", writer(path, i)], { timeout: 120_000 }),
    );
    const ready = () => Array.from({ length: PROCESSES }, (_, i) => existsSync(`${path}.ready-${i}`)).every(Boolean);
    while (!ready()) await new Promise((resolve) => setTimeout(resolve, 20));
    writeFileSync(`${path}.go`, "");
    const outputs = await Promise.all(writers);
    const numbers = outputs.flatMap(({ stdout }) => JSON.parse(stdout) as number[]).sort((a, b) => a - b);
    const total = PROCESSES * VERSIONS_EACH;
    expect(numbers).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    const versions = await store.listModelVersionsOf("m");
    expect(versions.map((v) => v.version)).toEqual(Array.from({ length: total }, (_, i) => total - i));
    expect(versions.filter((v) => v.currentStage === "Production")).toHaveLength(1);
    expect(versions.filter((v) => v.currentStage === "Archived")).toHaveLength(total - 1);
  } finally {
    await store.close();
  }
});

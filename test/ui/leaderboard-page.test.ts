/**
 * The live leaderboard page (/logbook/leaderboard/{symbol}?metric=…) in a real browser (Debian's chromium): it shows
 * the board, then follows it as runs are logged — a run entering at the top, one leaving — with no failed request and
 * no console error. A screenshot goes to test-results/ui/.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packageRoot } from "../../src/server/paths.js";
import { startTestLogbook, type TestLogbook } from "../harness/logbook.js";
import { type Chromium, launchChromium } from "./browser.js";

const NOW = 1_700_000_000_000;

describe("the live leaderboard page", () => {
  let lb: TestLogbook;
  let chromium: Chromium;

  beforeAll(async () => {
    lb = await startTestLogbook("sqlite", { label: "leaderboard-page" });
    chromium = await launchChromium();
  });
  afterAll(async () => {
    await chromium?.close();
    await lb?.close();
  });

  async function run(name: string, sharpe: number): Promise<string> {
    const { run } = await lb.tracking.createRun({ experimentId: "0", runName: name, tags: [], startTime: BigInt(NOW) } as never);
    const runId = run!.info!.runId;
    await lb.tracking.logBatch({
      runId,
      params: [{ key: "symbol", value: "PAGE" }],
      tags: [],
      metrics: [{ key: "sharpe", value: sharpe, timestamp: BigInt(NOW), step: 0n, runId: "" }],
    });
    return runId;
  }

  it("shows the board and follows it live", async () => {
    await run("alpha", 1.5);
    await run("beta", 0.5);
    const visit = await chromium.visit(`${lb.httpUrl}/logbook/leaderboard/PAGE?metric=sharpe&limit=2`);
    const { page } = visit;
    const rows = () => page.$$eval("#rows tr", (trs) => trs.map((tr) => [...tr.querySelectorAll("td")].slice(0, 3).map((td) => td.textContent)));
    await page.waitForFunction('document.querySelectorAll("#rows tr").length === 2');
    expect(await page.textContent("#title")).toBe("Leaderboard · PAGE · sharpe");
    expect(await rows()).toEqual([
      ["1", "alpha", "1.5"],
      ["2", "beta", "0.5"],
    ]);
    expect(await page.getAttribute("#state", "class")).toBe("live");

    // A new best run: it enters at the top, alpha moves down, beta leaves the top 2.
    await run("gamma", 2.25);
    await page.waitForFunction('document.querySelector("#rows tr td:nth-child(2)")?.textContent === "gamma"');
    expect(await rows()).toEqual([
      ["1", "gamma", "2.25"],
      ["2", "alpha", "1.5"],
    ]);
    const dir = join(packageRoot(), "test-results", "ui");
    mkdirSync(dir, { recursive: true });
    await page.screenshot({ path: join(dir, "logbook-leaderboard-page.png") });
    expect(visit.failedRequests).toEqual([]);
    expect(visit.consoleErrors).toEqual([]);
    await visit.close();
    for (let i = 0; i < 200 && lb.logbook.watch.stats().leaderboardWatchers > 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(lb.logbook.watch.stats().leaderboardWatchers).toBe(0);
  });
});

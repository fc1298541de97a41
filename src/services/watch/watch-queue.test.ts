import { describe, expect, it } from "vitest";
import { type AppError } from "../../domain/errors.js";
import { WatchQueue } from "./watch-queue.js";

const never = new AbortController().signal;

async function drain<T>(q: WatchQueue<T>) {
  const out = [];
  for (let u = await q.next(never); u; u = q.lag > 0 ? await q.next(never) : undefined) out.push(u);
  return out;
}

describe("WatchQueue", () => {
  it("hands every update out once, in order, while the consumer keeps up", async () => {
    const q = new WatchQueue<string>({ maxQueued: 10, maxLag: 100, maxKeys: 10 });
    q.push("a", 1, "a1");
    q.push("a", 2, "a2");
    q.push("b", 3, "b3");
    expect(q.lag).toBe(3);
    expect(await drain(q)).toEqual([
      { sequence: 1, value: "a1", coalesced: false },
      { sequence: 2, value: "a2", coalesced: false },
      { sequence: 3, value: "b3", coalesced: false },
    ]);
    expect(q.coalescing).toBe(false);
  });

  it("past maxQueued keeps the latest per key, at the place of its latest change (sequences still increase)", async () => {
    const q = new WatchQueue<string>({ maxQueued: 4, maxLag: 1000, maxKeys: 10 });
    let seq = 0;
    for (let i = 0; i < 50; i++) {
      q.push("loss", ++seq, `loss${i}`);
      if (i % 10 === 0) q.push("acc", ++seq, `acc${i}`);
    }
    q.push("info", ++seq, "finished");
    expect(q.coalescing).toBe(true);
    expect(q.lag).toBe(56);
    const out = await drain(q);
    expect(out.map((u) => [u.value, u.coalesced])).toEqual([
      ["acc40", true],
      ["loss49", true],
      ["finished", false],
    ]);
    expect(out.map((u) => u.sequence)).toEqual([...out.map((u) => u.sequence)].sort((a, b) => a - b));
    // Caught up: every update again.
    q.push("loss", ++seq, "x");
    q.push("loss", ++seq, "y");
    expect((await drain(q)).map((u) => u.value)).toEqual(["x", "y"]);
  });

  it("cuts a consumer further behind than maxLag: RESOURCE_EXHAUSTED (REQUEST_LIMIT_EXCEEDED), memory released, told once", async () => {
    const cuts: AppError[] = [];
    const q = new WatchQueue<number>({ maxQueued: 2, maxLag: 5, maxKeys: 10, onCut: (e) => cuts.push(e) });
    for (let i = 1; i <= 9; i++) q.push("k", i, i);
    expect(cuts).toHaveLength(1);
    expect(q.lag).toBe(0);
    await expect(q.next(never)).rejects.toMatchObject({ code: "REQUEST_LIMIT_EXCEEDED", message: expect.stringContaining("--watch-max-lag") });
  });

  it("cuts a coalescing consumer with more than maxKeys keys waiting", async () => {
    const q = new WatchQueue<number>({ maxQueued: 2, maxLag: 1000, maxKeys: 3 });
    for (let i = 1; i <= 5; i++) q.push(`k${i}`, i, i);
    await expect(q.next(never)).rejects.toMatchObject({ code: "REQUEST_LIMIT_EXCEEDED" });
  });

  it("next() waits for a push, and ends at end() or when its signal aborts", async () => {
    const q = new WatchQueue<number>({ maxQueued: 2, maxLag: 10, maxKeys: 3 });
    const pending = q.next(never);
    q.push("k", 1, 1);
    expect(await pending).toMatchObject({ value: 1 });
    const abort = new AbortController();
    const waiting = q.next(abort.signal);
    abort.abort();
    expect(await waiting).toBeUndefined();
    q.push("k", 2, 2);
    q.end();
    expect(await q.next(never)).toMatchObject({ value: 2 });
    expect(await q.next(never)).toBeUndefined();
  });
});

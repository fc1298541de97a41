import { describe, expect, it } from "vitest";
import { createBoundedWriter, pump } from "./stream-writer.js";

/** A transport whose flushes the test performs by hand. */
function manualSink() {
  const pending: (() => void)[] = [];
  const written: number[] = [];
  return {
    write: (data: number, flushed: () => void) => {
      written.push(data);
      pending.push(flushed);
    },
    flushOne: () => pending.shift()?.(),
    pending,
    written,
  };
}

const tick = () => new Promise((r) => setImmediate(r));

describe("byte-bounded stream writer", () => {
  it("never queues more than the high-water mark of bytes, and resumes as bytes are flushed", async () => {
    const sink = manualSink();
    const writer = createBoundedWriter<number>(sink.write, { signal: new AbortController().signal, highWaterMark: 100 });
    let maxQueued = 0;
    let done = 0;
    const writes = (async () => {
      for (let i = 0; i < 10; i++) {
        expect(await writer.write(i, 30)).toBe(true);
        maxQueued = Math.max(maxQueued, writer.queuedBytes);
        done++;
      }
    })();
    await tick();
    expect(done).toBe(3); // 90 bytes queued; a fourth 30-byte item would pass 100
    expect(writer.queuedBytes).toBe(90);
    while (done < 10) {
      sink.flushOne();
      await tick();
    }
    await writes;
    expect(maxQueued).toBeLessThanOrEqual(100);
    expect(sink.written).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("lets a single item bigger than the mark through when nothing is queued", async () => {
    const sink = manualSink();
    const writer = createBoundedWriter<number>(sink.write, { signal: new AbortController().signal, highWaterMark: 10 });
    expect(await writer.write(1, 50)).toBe(true);
    const second = writer.write(2, 5);
    await tick();
    expect(sink.written).toEqual([1]);
    sink.flushOne();
    expect(await second).toBe(true);
  });

  it("ends a wait at once when the stream goes away, writing nothing more", async () => {
    const sink = manualSink();
    const controller = new AbortController();
    const stalls: string[] = [];
    const writer = createBoundedWriter<number>(sink.write, {
      signal: controller.signal,
      highWaterMark: 10,
      observer: { stalled: () => stalls.push("stalled"), resumed: () => stalls.push("resumed") },
    });
    await writer.write(1, 10);
    const waiting = writer.write(2, 10);
    await tick();
    expect(stalls).toEqual(["stalled"]);
    controller.abort();
    expect(await waiting).toBe(false);
    expect(await writer.write(3, 1)).toBe(false);
    expect(sink.written).toEqual([1]);
  });

  it("pump returns the source when the stream is abandoned, so its finally blocks run", async () => {
    let closed = false;
    async function* source() {
      try {
        for (let i = 0; ; i++) yield i;
      } finally {
        closed = true;
      }
    }
    let n = 0;
    const completed = await pump(source(), undefined, async () => ++n < 5);
    expect(completed).toBe(false);
    expect(closed).toBe(true);
  });

  it("pump writes the first item it is given, then the rest, and reports a source's failure after closing it", async () => {
    const seen: number[] = [];
    async function* source() {
      yield 2;
      throw new Error("boom");
    }
    const it = source();
    const first = await it.next();
    await expect(pump(it, first, async (x) => (seen.push(x as number), true))).rejects.toThrow("boom");
    expect(seen).toEqual([2]);
  });
});

import { describe, expect, it } from "vitest";
import { BodyTimeoutError, checkBodyRate, limitBody } from "./body-limits.js";

const limits = { idleTimeoutMs: 50, minBytesPerSecond: 1000 };

async function* items(delaysMs: number[], size: number) {
  for (const d of delaysMs) {
    await new Promise((r) => setTimeout(r, d));
    yield Buffer.alloc(size);
  }
}

describe("body limits", () => {
  it("passes a body that keeps arriving", async () => {
    let n = 0;
    for await (const item of limitBody(items([0, 5, 5], 100), limits, (b) => b.length)) n += item.length;
    expect(n).toBe(300);
  });

  it("cuts a body that sends nothing for the idle timeout", async () => {
    const never: AsyncIterable<Buffer> = { [Symbol.asyncIterator]: () => ({ next: () => new Promise(() => undefined) }) };
    const it = limitBody(never, limits, (b) => b.length)[Symbol.asyncIterator]();
    await expect(it.next()).rejects.toBeInstanceOf(BodyTimeoutError);
  });

  it("checks the average rate only once the body has waited the idle timeout", () => {
    expect(() => checkBodyRate(1, 49, limits)).not.toThrow();
    expect(() => checkBodyRate(60, 60, limits)).not.toThrow();
    expect(() => checkBodyRate(10, 60, limits)).toThrow(BodyTimeoutError);
    expect(() => checkBodyRate(0, 10_000, { ...limits, minBytesPerSecond: 0 })).not.toThrow();
  });

  it("returns the source when the consumer stops", async () => {
    let closed = false;
    async function* source() {
      try {
        yield Buffer.alloc(1);
        yield Buffer.alloc(1);
      } finally {
        closed = true;
      }
    }
    const it = limitBody(source(), limits, (b) => b.length)[Symbol.asyncIterator]();
    await it.next();
    await it.return?.();
    expect(closed).toBe(true);
  });
});

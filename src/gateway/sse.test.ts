import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { writeStreamResponse } from "./ndjson.js";
import { registryFromDescriptorSet } from "./routes.js";
import { HEARTBEAT, acceptsEventStream, formatEvent, lastEventSequence, sseFraming } from "./sse.js";

const registry = registryFromDescriptorSet(readFileSync(new URL("../../gen/descriptor.binpb", import.meta.url)));

describe("Server-Sent Events", () => {
  it("picks SSE only for an Accept that lists text/event-stream without q=0", () => {
    expect(acceptsEventStream("text/event-stream")).toBe(true);
    expect(acceptsEventStream("application/json, text/event-stream;q=0.5")).toBe(true);
    expect(acceptsEventStream("TEXT/EVENT-STREAM; charset=utf-8")).toBe(true);
    expect(acceptsEventStream("text/event-stream;q=0")).toBe(false);
    expect(acceptsEventStream("*/*")).toBe(false);
    expect(acceptsEventStream(undefined)).toBe(false);
  });

  it("names events after the set oneof member and takes the id from `sequence`", () => {
    const run = sseFraming(registry.getMessage("logbook.v1.RunUpdate")!);
    expect(run.event({ sequence: 8195, metric: { key: "a" } })).toBe("metric");
    expect(run.id({ sequence: 8195, metric: {} })).toBe("8195");
    const board = sseFraming(registry.getMessage("logbook.v1.LeaderboardUpdate")!);
    expect(board.event({ sequence: 1, leaderboard: { changes: [] } })).toBe("leaderboard");
    const plain = sseFraming(registry.getMessage("logbook.v1.LeaderboardResponse")!);
    expect([plain.event({ rank: 1 }), plain.id({ rank: 1 })]).toEqual([undefined, undefined]);
    expect(formatEvent({ event: "metric", id: "7", data: '{"a":1}' })).toBe('event: metric\nid: 7\ndata: {"a":1}\n\n');
    expect(formatEvent({ data: "{}" })).toBe("data: {}\n\n");
  });

  it("reads Last-Event-ID as a sequence, ignoring anything else", () => {
    expect(lastEventSequence("12345")).toBe(12345n);
    expect(lastEventSequence(" 7 ")).toBe(7n);
    for (const bad of ["", "-1", "1e3", "abc", "99999999999999999999", undefined]) expect(lastEventSequence(bad)).toBeUndefined();
  });

  it("writes a heartbeat comment while the stream is quiet, and stops it with the stream", async () => {
    let sawHeartbeat!: () => void;
    const heartbeatSeen = new Promise<void>((resolve) => (sawHeartbeat = resolve));
    const server = createServer((_req, res) => {
      async function* items() {
        yield "first";
        await heartbeatSeen; // the second item waits until the client has read a heartbeat
        yield "second";
      }
      const it = items();
      void it.next().then((first) =>
        writeStreamResponse(res, it, first, {
          contentType: "text/event-stream",
          heartbeat: { everyMs: 5, text: HEARTBEAT },
          signal: new AbortController().signal,
          encodeItem: (item) => formatEvent({ event: "x", data: JSON.stringify(item) }),
          encodeError: () => "",
        }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      let text = "";
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        text += Buffer.from(chunk).toString();
        if (text.includes(HEARTBEAT)) sawHeartbeat();
      }
      expect(text.startsWith('event: x\ndata: "first"\n\n')).toBe(true);
      expect(text.endsWith('event: x\ndata: "second"\n\n')).toBe(true);
      expect(text).toContain(": heartbeat\n\n");
    } finally {
      server.close();
    }
  });
});

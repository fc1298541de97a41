/** A pino logger whose JSON lines are kept in memory, for tests that read what the server logs. */
import { Writable } from "node:stream";
import { pino, type Logger } from "pino";

export interface CapturedLogs {
  logger: Logger;
  lines: Record<string, unknown>[];
  /** The "request" and "slow request" lines. */
  requests(): Record<string, unknown>[];
}

export function captureLogs(level = "info"): CapturedLogs {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n")) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return {
    logger: pino({ level }, stream),
    lines,
    requests: () => lines.filter((l) => l.msg === "request" || l.msg === "slow request"),
  };
}

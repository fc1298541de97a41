/**
 * The offline spool: an append-only file of JSON lines, one queued operation per line, replayed from the
 * front in order. Progress is a byte offset kept in `<spool>.offset`, written after each replayed line, so a
 * crash replays at most one line twice (replays are idempotent). When everything has been replayed the file
 * is truncated and the offset removed.
 *
 * I/O is synchronous on purpose: lines are small (one LogBatch at most, ~100 KB), writes never interleave
 * with each other or with a replay, and the `exit` handler (which cannot await) uses the same code.
 * One spool file belongs to one Tracker at a time: `<spool>.lock` holds the owner's pid (a lock whose process
 * is gone is taken over).
 */
import { closeSync, existsSync, fstatSync, ftruncateSync, mkdirSync, openSync, readSync, rmSync, writeFileSync, readFileSync, writeSync } from "node:fs";
import { dirname } from "node:path";

/** JSON for spool lines: non-finite numbers (NaN metric values) become the strings "NaN"/"Infinity"/"-Infinity". */
function encode(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v));
}

/** Another live Tracker (in this process or another) owns the spool file. */
export class SpoolLockedError extends Error {
  override readonly name = "SpoolLockedError";
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function lock(path: string): void {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      let owner = NaN;
      try {
        owner = Number(readFileSync(path, "utf8").trim());
      } catch {
        // removed meanwhile: try again
      }
      if (owner === process.pid || (Number.isInteger(owner) && owner > 0 && alive(owner))) {
        throw new SpoolLockedError(`the spool ${path.slice(0, -".lock".length)} is in use by process ${owner}`);
      }
      rmSync(path, { force: true }); // stale: its process is gone
    }
  }
  throw new SpoolLockedError(`could not lock ${path}`);
}

export interface SpoolOptions {
  path: string;
  maxBytes: number;
}

export class Spool {
  private fd: number;
  private size: number;
  private offset: number;
  private readonly offsetPath: string;
  private readonly lockPath: string;

  constructor(readonly options: SpoolOptions) {
    mkdirSync(dirname(options.path), { recursive: true });
    this.offsetPath = `${options.path}.offset`;
    this.lockPath = `${options.path}.lock`;
    lock(this.lockPath);
    this.fd = openSync(options.path, "a+");
    this.size = fstatSync(this.fd).size;
    this.offset = 0;
    if (existsSync(this.offsetPath)) {
      const saved = Number(readFileSync(this.offsetPath, "utf8").trim());
      if (Number.isInteger(saved) && saved >= 0 && saved <= this.size) this.offset = saved;
    }
    // A line torn by a crash mid-write: end it, so the next append starts a line (the torn one is skipped).
    if (this.size > 0) {
      const last = Buffer.alloc(1);
      readSync(this.fd, last, 0, 1, this.size - 1);
      if (last[0] !== 0x0a) this.writeRaw(Buffer.from("\n"));
    }
  }

  /** Bytes not yet replayed. */
  get pendingBytes(): number {
    return this.size - this.offset;
  }

  get isEmpty(): boolean {
    return this.pendingBytes === 0;
  }

  /** Whole file size (bounded by maxBytes). */
  get bytes(): number {
    return this.size;
  }

  private writeRaw(buf: Buffer): void {
    let at = 0;
    while (at < buf.length) at += writeSync(this.fd, buf, at, buf.length - at);
    this.size += buf.length;
  }

  /** Appends one operation; false (and nothing written) when it would pass the size bound. */
  append(op: unknown): boolean {
    const line = Buffer.from(`${encode(op)}\n`);
    if (this.size + line.length > this.options.maxBytes) return false;
    this.writeRaw(line);
    return true;
  }

  /**
   * The next unreplayed line, parsed, with the offset after it — or undefined when none is left. Lines that do
   * not parse (torn by a crash) are skipped.
   */
  peek(): { value: unknown; next: number } | undefined {
    let at = this.offset;
    while (at < this.size) {
      let len = 64 * 1024;
      for (;;) {
        const want = Math.min(len, this.size - at);
        const buf = Buffer.alloc(want);
        const got = readSync(this.fd, buf, 0, want, at);
        const nl = buf.subarray(0, got).indexOf(0x0a);
        if (nl >= 0) {
          const next = at + nl + 1;
          try {
            return { value: JSON.parse(buf.subarray(0, nl).toString("utf8")) as unknown, next };
          } catch {
            at = next;
            break;
          }
        }
        if (at + got >= this.size) return undefined; // no newline yet: not a complete line
        len *= 2;
      }
    }
    return undefined;
  }

  /** Marks everything before `next` as replayed; resets the file once all of it is. */
  commit(next: number): void {
    this.offset = next;
    if (this.offset >= this.size) {
      ftruncateSync(this.fd, 0);
      this.size = 0;
      this.offset = 0;
      rmSync(this.offsetPath, { force: true });
    } else {
      writeFileSync(this.offsetPath, String(this.offset));
    }
  }

  /** Closes the file (removed when nothing is left in it) and releases the lock; synchronous (also used on exit). */
  close(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
    if (this.size === 0) rmSync(this.options.path, { force: true });
    rmSync(this.lockPath, { force: true });
  }
}

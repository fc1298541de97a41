/**
 * Artifacts in a directory tree (the embedded store's default, `file://<data-dir>/artifacts`).
 *
 * Containment: paths are validated by the caller (path.ts) and checked lexically here, and then on disk: every
 * operation resolves the real path (symbolic links followed) of what it touches — the file, or the deepest
 * existing ancestor of a file to be created — and refuses anything outside the root's real path with "Invalid
 * path". So a symbolic link inside the tree that points out of it is never read, listed, written through or
 * deleted through. Files are opened with O_NOFOLLOW, so a link swapped in after the check is not followed either.
 *
 * Durability: uploads go to a temporary file in `<root>/.logbook-uploads/` (same filesystem, so the final
 * `rename` is atomic), are fsynced, renamed into place only once complete, and the directory that received them
 * (and any directory created for them) is fsynced before the upload is answered. A failed upload removes its
 * temporary file.
 */
import { randomUUID } from "node:crypto";
import { constants as fsConstants, createReadStream, createWriteStream } from "node:fs";
import { lstat, mkdir, open, readdir, realpath, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { finished } from "node:stream/promises";
import { invalidParameter, notFound } from "../domain/errors.js";
import { invalidPath, UPLOADS_DIR } from "./path.js";
import type { ArtifactEntry, ArtifactRead, ObservableArtifactStore, ReadCounters } from "./store.js";

/** The read-ahead of a download: one chunk (src/services/artifact-service.ts), so a stalled download holds little. */
const READ_CHUNK = 32 * 1024;

const code = (err: unknown) => (err as NodeJS.ErrnoException | null)?.code;

/** What to answer when a path runs into a file where a directory should be (`a.txt/child`). */
type NotADirectory = "not-found" | "invalid";

export class FsArtifactStore implements ObservableArtifactStore {
  readonly kind = "file";
  readonly location: string;
  readonly counters: ReadCounters = { bytesRead: 0, openReads: 0 };
  private readonly root: string;
  /** The root with symbolic links resolved (set by init). */
  private realRoot: string;

  /** The absolute directory it keeps its files in. */
  get directory(): string {
    return this.root;
  }

  constructor(root: string) {
    this.root = resolve(root);
    this.realRoot = this.root;
    this.location = pathToFileURL(this.root).href;
  }

  /** Creates the root and the uploads folder; removes uploads a crash left behind. */
  async init(): Promise<void> {
    await rm(join(this.root, UPLOADS_DIR), { recursive: true, force: true });
    await mkdir(join(this.root, UPLOADS_DIR), { recursive: true });
    this.realRoot = await realpath(this.root);
  }

  /** The lexical full path of a normal artifact path, checked to stay under the root. */
  private resolvePath(path: string): string {
    const full = resolve(this.root, ...path.split("/").filter(Boolean));
    if (full !== this.root && !full.startsWith(this.root + sep)) throw invalidPath();
    return full;
  }

  private inside(real: string): boolean {
    return real === this.realRoot || real.startsWith(this.realRoot + sep);
  }

  /**
   * The real path of `full`: its deepest existing ancestor (or itself) with links resolved, and the missing rest
   * appended. Refuses a path whose real location is outside the root.
   */
  private async realPath(full: string, onNotADirectory: NotADirectory): Promise<string> {
    const missing: string[] = [];
    let existing = full;
    for (;;) {
      try {
        const real = join(await realpath(existing), ...missing.reverse());
        if (!this.inside(real)) throw invalidPath();
        return real;
      } catch (err) {
        const c = code(err);
        if (c === "ENOENT" && existing !== this.root) {
          missing.push(basename(existing));
          existing = dirname(existing);
          continue;
        }
        if (c === "ENOTDIR") throw this.notADirectory(full, onNotADirectory);
        if (c === "ELOOP") throw invalidPath();
        throw err;
      }
    }
  }

  private notADirectory(full: string, answer: NotADirectory) {
    const path = relative(this.root, full).split(sep).join("/");
    return answer === "not-found" ? notFound(`No artifact at '${path}'`) : invalidParameter(`Invalid path '${path}': a part of it is a file, not a directory`);
  }

  async write(path: string, chunks: AsyncIterable<Uint8Array>): Promise<number> {
    const target = this.resolvePath(path);
    if (target === this.root) throw invalidPath();
    await this.realPath(dirname(target), "invalid"); // refuse early; checked again once the file is complete
    const temp = join(this.root, UPLOADS_DIR, randomUUID());
    const out = createWriteStream(temp, { flags: "wx" });
    let size = 0;
    try {
      for await (const chunk of chunks) {
        size += chunk.byteLength;
        if (!out.write(chunk)) await new Promise<void>((ok, ko) => {
          const onError = (e: Error) => { out.off("drain", onDrain); ko(e); };
          const onDrain = () => { out.off("error", onError); ok(); };
          out.once("drain", onDrain).once("error", onError);
        });
      }
      out.end();
      await finished(out);
      await syncPath(temp);
      const dir = await this.makeDirectory(dirname(target));
      const final = join(dir, basename(target));
      const existing = await lstat(final).catch(() => undefined);
      if (existing?.isDirectory()) throw invalidPath();
      await rename(temp, final); // replaces a file, or a link itself (never what a link points to)
      await syncPath(dir);
      return size;
    } catch (err) {
      out.destroy();
      await rm(temp, { force: true });
      throw err;
    }
  }

  /** Creates the directory `full` (and missing parents) inside the root; returns its real path, fsynced as created. */
  private async makeDirectory(full: string): Promise<string> {
    const real = await this.realPath(full, "invalid");
    let first: string | undefined;
    try {
      first = await mkdir(real, { recursive: true });
    } catch (err) {
      if (code(err) === "EEXIST" || code(err) === "ENOTDIR") throw this.notADirectory(full, "invalid");
      throw err;
    }
    // A directory entry is durable once its parent directory is fsynced: each one created, down from the first.
    if (first !== undefined) {
      for (let dir = real; ; dir = dirname(dir)) {
        await syncPath(dirname(dir));
        if (dir === first) break;
      }
    }
    const again = await realpath(real); // nothing swapped a link in while the directories were made
    if (!this.inside(again)) throw invalidPath();
    return again;
  }

  async read(path: string): Promise<ArtifactRead> {
    const full = await this.realPath(this.resolvePath(path), "not-found");
    const handle = await open(full, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW).catch((err: unknown) => {
      if (code(err) === "ENOENT" || code(err) === "EISDIR" || code(err) === "ELOOP") return undefined;
      throw err;
    });
    if (!handle) throw notFound(`No artifact at '${path}'`);
    const info = await handle.stat().catch(async (err: unknown) => {
      await handle.close();
      throw err;
    });
    if (!info.isFile()) {
      await handle.close();
      throw notFound(`No artifact at '${path}'`);
    }
    const stream = createReadStream("", { fd: handle, highWaterMark: READ_CHUNK });
    const counters = this.counters;
    counters.openReads++;
    stream.on("data", (chunk) => {
      counters.bytesRead += chunk.length;
    });
    stream.once("close", () => {
      counters.openReads--;
    });
    return { size: info.size, stream };
  }

  async list(path: string): Promise<ArtifactEntry[]> {
    const full = await this.realPath(this.resolvePath(path), "not-found").catch((err: unknown) => {
      if ((err as { code?: string }).code === "RESOURCE_DOES_NOT_EXIST") return undefined;
      throw err;
    });
    if (full === undefined) return [];
    const dirents = await readdir(full, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT" || err.code === "ENOTDIR") return [];
      throw err;
    });
    const entries: ArtifactEntry[] = [];
    for (const d of dirents) {
      if (full === this.realRoot && d.name === UPLOADS_DIR) continue;
      // Only plain files and directories: a link is neither listed nor followed.
      if (d.isDirectory()) entries.push({ name: d.name, isDir: true });
      else if (d.isFile()) entries.push({ name: d.name, isDir: false, size: (await stat(join(full, d.name))).size });
    }
    return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async delete(path: string): Promise<void> {
    const full = this.resolvePath(path);
    if (full === this.root) throw invalidPath();
    // The parent must really be inside the root; the entry itself is removed as it is (a link is unlinked, never
    // followed, and rm does not follow the links inside a directory tree either).
    const parent = await this.realPath(dirname(full), "not-found").catch((err: unknown) => {
      if ((err as { code?: string }).code === "RESOURCE_DOES_NOT_EXIST") return undefined;
      throw err;
    });
    if (parent === undefined) return;
    await rm(join(parent, basename(full)), { recursive: true, force: true });
  }

  async pendingUploads(): Promise<number> {
    return (await readdir(join(this.root, UPLOADS_DIR))).length;
  }

  async close(): Promise<void> {}
}

/** fsync a file or directory. */
async function syncPath(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

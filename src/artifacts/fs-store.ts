/**
 * Artifacts in a directory tree (the embedded store's default, `file://<data-dir>/artifacts`).
 * Uploads go to a temporary file in `<root>/.logbook-uploads/` (same filesystem, so the final
 * `rename` is atomic) and are renamed into place only once complete; a failed upload removes its
 * temporary file. Paths are validated by the caller (path.ts) and re-checked here to stay under root.
 */
import { randomUUID } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { finished } from "node:stream/promises";
import { notFound } from "../domain/errors.js";
import { invalidPath, UPLOADS_DIR } from "./path.js";
import type { ArtifactEntry, ArtifactRead, ObservableArtifactStore, ReadCounters } from "./store.js";

/** The read-ahead of a download: one chunk (src/services/artifact-service.ts), so a stalled download holds little. */
const READ_CHUNK = 64 * 1024;

export class FsArtifactStore implements ObservableArtifactStore {
  readonly kind = "file";
  readonly location: string;
  readonly counters: ReadCounters = { bytesRead: 0, openReads: 0 };
  private readonly root: string;

  /** The absolute directory it keeps its files in. */
  get directory(): string {
    return this.root;
  }

  constructor(root: string) {
    this.root = resolve(root);
    this.location = pathToFileURL(this.root).href;
  }

  /** Creates the root and the uploads folder; removes uploads a crash left behind. */
  async init(): Promise<void> {
    await rm(join(this.root, UPLOADS_DIR), { recursive: true, force: true });
    await mkdir(join(this.root, UPLOADS_DIR), { recursive: true });
  }

  private resolvePath(path: string): string {
    const full = resolve(this.root, ...path.split("/").filter(Boolean));
    if (full !== this.root && !full.startsWith(this.root + sep)) throw invalidPath();
    return full;
  }

  async write(path: string, chunks: AsyncIterable<Uint8Array>): Promise<number> {
    const target = this.resolvePath(path);
    if (target === this.root) throw invalidPath();
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
      const handle = await open(temp, "r");
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await mkdir(dirname(target), { recursive: true });
      const existing = await stat(target).catch(() => undefined);
      if (existing?.isDirectory()) throw invalidPath();
      await rename(temp, target);
      return size;
    } catch (err) {
      out.destroy();
      await rm(temp, { force: true });
      throw err;
    }
  }

  async read(path: string): Promise<ArtifactRead> {
    const full = this.resolvePath(path);
    const info = await stat(full).catch(() => undefined);
    if (!info || !info.isFile()) throw notFound(`No artifact at '${path}'`);
    const stream = createReadStream(full, { highWaterMark: READ_CHUNK });
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
    const full = this.resolvePath(path);
    const dirents = await readdir(full, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT" || err.code === "ENOTDIR") return [];
      throw err;
    });
    const entries: ArtifactEntry[] = [];
    for (const d of dirents) {
      if (full === this.root && d.name === UPLOADS_DIR) continue;
      if (d.isDirectory()) entries.push({ name: d.name, isDir: true });
      else if (d.isFile()) entries.push({ name: d.name, isDir: false, size: (await stat(join(full, d.name))).size });
    }
    return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async delete(path: string): Promise<void> {
    const full = this.resolvePath(path);
    if (full === this.root) throw invalidPath();
    await rm(full, { recursive: true, force: true });
  }

  async pendingUploads(): Promise<number> {
    return (await readdir(join(this.root, UPLOADS_DIR))).length;
  }

  async close(): Promise<void> {}
}

/**
 * Artifacts in a GridFS bucket of the store's MongoDB database (`gridfs:<bucket>`, default
 * `gridfs:artifacts`). A file's GridFS filename is its normal artifact path (path.ts: no `..`, no
 * leading "/", no backslash), so a directory is a filename prefix ending in "/".
 *
 * Atomicity: GridFS writes the chunks first and the files document last, when the upload stream
 * finishes; readers and listings only see files documents, so an interrupted upload is invisible, and
 * its chunks are removed by `abort()`. A replaced file is a newer revision (same filename, later
 * uploadDate); readers take the newest, and older revisions are deleted after the new one is complete.
 *
 * Opens its own MongoClient on the store's URI (same database), so the artifact layer needs nothing
 * from the metadata store's internals.
 */
import { Readable } from "node:stream";
import { type Binary, type Db, GridFSBucket, MongoClient, type GridFSFile, type ObjectId } from "mongodb";
import { invalidParameter, notFound, unavailable } from "../domain/errors.js";
import { invalidPath } from "./path.js";
import { describeUri, DURABLE_WRITES } from "../store/mongo/connection.js";
import type { ArtifactEntry, ArtifactRead, ObservableArtifactStore, ReadCounters } from "./store.js";

/** GridFS's standard chunk size, for new files (files written with bigger chunks are read all the same). */
const CHUNK_SIZE = 255 * 1024;
/** What a download fetches ahead of its reader, at most (at least one chunk document per cursor batch). */
const READ_AHEAD_BYTES = 256 * 1024;

interface ChunkDoc {
  files_id: ObjectId;
  n: number;
  data: Binary;
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

export interface GridFsOptions {
  uri: string;
  bucket: string;
  serverSelectionTimeoutMS?: number;
}

export class GridFsArtifactStore implements ObservableArtifactStore {
  readonly kind = "gridfs";
  readonly location: string;
  readonly counters: ReadCounters = { bytesRead: 0, openReads: 0 };
  private readonly client: MongoClient;
  private readonly bucket: GridFSBucket;
  private readonly db: Db;
  private readonly bucketName: string;
  /** Downloads and uploads under way: close() lets them finish before it closes the client. */
  private readonly reads = new Set<Readable>();
  private readonly writes = new Set<Promise<unknown>>();

  constructor(options: GridFsOptions) {
    this.location = `gridfs:${options.bucket}`;
    this.client = new MongoClient(options.uri, {
      serverSelectionTimeoutMS: options.serverSelectionTimeoutMS ?? 2000,
      ignoreUndefined: true,
      appName: "logbook-artifacts",
      writeConcern: DURABLE_WRITES,
    });
    const db = this.client.db(describeUri(options.uri).database);
    this.db = db;
    this.bucketName = options.bucket;
    this.bucket = new GridFSBucket(db, { bucketName: options.bucket, chunkSizeBytes: CHUNK_SIZE });
  }

  private async newest(path: string): Promise<GridFSFile | undefined> {
    const [file] = await this.bucket.find({ filename: path }).sort({ uploadDate: -1, _id: -1 }).limit(1).toArray();
    return file;
  }

  /** A file can hold no files, and a directory cannot become a file: the same tree rules as on a filesystem. */
  private async checkPlace(path: string): Promise<void> {
    const parts = path.split("/");
    const ancestors = parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join("/"));
    try {
      if (ancestors.length > 0 && (await this.bucket.find({ filename: { $in: ancestors } }).limit(1).hasNext())) {
        throw invalidParameter(`Invalid path '${path}': a part of it is a file, not a directory`);
      }
      if (await this.bucket.find({ filename: { $regex: `^${escapeRegex(path)}/` } }).limit(1).hasNext()) throw invalidPath();
    } catch (err) {
      throw wrap(err);
    }
  }

  async write(path: string, chunks: AsyncIterable<Uint8Array>): Promise<number> {
    const writing = this.upload(path, chunks);
    this.writes.add(writing);
    return writing.finally(() => this.writes.delete(writing));
  }

  private async upload(path: string, chunks: AsyncIterable<Uint8Array>): Promise<number> {
    await this.checkPlace(path);
    const upload = this.bucket.openUploadStream(path, { metadata: { path } });
    // A chunk insert can fail while we wait on the source, with no other listener: keep the failure (an
    // 'error' nobody listens to is an uncaught exception) and stop at the next step.
    let failure: Error | undefined;
    upload.on("error", (e: Error) => void (failure ??= e));
    const settled = (event: "drain" | "finish") =>
      new Promise<void>((ok, ko) => {
        if (failure) return ko(failure);
        const onError = (e: Error) => { upload.off(event, onDone); ko(e); };
        const onDone = () => { upload.off("error", onError); ok(); };
        upload.once(event, onDone).once("error", onError);
      });
    let size = 0;
    // Writes whose chunk insert has not been acknowledged; an abort must wait for them, or a chunk
    // inserted after abort()'s deleteMany would be left behind.
    let inFlight = 0;
    let onSettled: (() => void) | undefined;
    const settle = () => {
      if (--inFlight === 0) onSettled?.();
    };
    try {
      for await (const chunk of chunks) {
        if (failure) throw failure;
        size += chunk.byteLength;
        inFlight++;
        if (!upload.write(chunk, settle)) await settled("drain");
      }
      const finished = settled("finish");
      upload.end();
      await finished;
    } catch (err) {
      await upload.abort().catch(() => undefined);
      if (inFlight > 0) {
        await new Promise<void>((resolve) => {
          onSettled = resolve;
          setTimeout(resolve, 10_000).unref();
        });
      }
      // Again, after the writes settled: abort()'s own deleteMany may have run before a chunk insert landed.
      await this.db.collection(`${this.bucketName}.chunks`).deleteMany({ files_id: upload.id }).catch(() => undefined);
      throw wrap(err);
    }
    // Complete: drop older revisions of the same path.
    const id = upload.id as ObjectId;
    const older = await this.bucket.find({ filename: path, _id: { $ne: id } }, { projection: { _id: 1 } }).toArray();
    for (const f of older) await this.bucket.delete(f._id).catch(() => undefined);
    return size;
  }

  /**
   * Reads a file's chunks in order through a cursor whose batches hold at most {@link READ_AHEAD_BYTES}: the
   * driver's own download stream lets the server fill a first batch of up to 16 MiB, which a client that stops
   * reading would pin for as long as it stalls.
   */
  async read(path: string): Promise<ArtifactRead> {
    const file = await this.newest(path).catch((e: unknown) => { throw wrap(e); });
    if (!file) throw notFound(`No artifact at '${path}'`);
    const chunks = this.db.collection<ChunkDoc>(`${this.bucketName}.chunks`);
    const batchSize = Math.max(1, Math.floor(READ_AHEAD_BYTES / Math.max(1, file.chunkSize)));
    const counters = this.counters;
    async function* bytes(): AsyncGenerator<Buffer> {
      if (file!.length === 0) return;
      const cursor = chunks.find({ files_id: file!._id }, { projection: { n: 1, data: 1 } }).sort({ n: 1 }).batchSize(batchSize);
      try {
        let expected = 0;
        let read = 0;
        for await (const doc of cursor) {
          if (doc.n !== expected) throw new Error(`GridFS file ${String(file!._id)}: chunk ${doc.n} where ${expected} was expected`);
          expected++;
          const data = Buffer.from(doc.data.buffer.buffer, doc.data.buffer.byteOffset, doc.data.buffer.byteLength);
          read += data.length;
          counters.bytesRead += data.length;
          yield data;
        }
        if (read !== file!.length) throw new Error(`GridFS file ${String(file!._id)}: ${read} of its ${file!.length} bytes found`);
      } catch (err) {
        throw wrap(err);
      } finally {
        await cursor.close().catch(() => undefined);
      }
    }
    const stream = Readable.from(bytes(), { objectMode: false, highWaterMark: file.chunkSize });
    counters.openReads++;
    this.reads.add(stream);
    stream.once("close", () => {
      counters.openReads--;
      this.reads.delete(stream);
    });
    // A consumer that stops early removes its listeners before the cursor is closed; a failure then would be an
    // 'error' with no listener, which is an uncaught exception.
    stream.on("error", () => undefined);
    return { size: file.length, stream };
  }

  async list(path: string): Promise<ArtifactEntry[]> {
    const prefix = path ? `${path}/` : "";
    const children = new Map<string, ArtifactEntry & { date: number }>();
    const cursor = this.bucket.find(
      prefix ? { filename: { $regex: `^${escapeRegex(prefix)}` } } : {},
      { projection: { filename: 1, length: 1, uploadDate: 1 }, batchSize: 1000 },
    );
    try {
      for await (const f of cursor) {
        const rest = f.filename.slice(prefix.length);
        const slash = rest.indexOf("/");
        if (slash === -1) {
          const date = f.uploadDate.getTime();
          const seen = children.get(rest);
          if (!seen || (!seen.isDir && seen.date < date)) children.set(rest, { name: rest, isDir: false, size: f.length, date });
        } else {
          children.set(rest.slice(0, slash), { name: rest.slice(0, slash), isDir: true, date: 0 });
        }
      }
    } catch (e) {
      throw wrap(e);
    }
    return [...children.values()]
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map(({ name, isDir, size }) => (isDir ? { name, isDir } : { name, isDir, size: size! }));
  }

  async delete(path: string): Promise<void> {
    const filter = { $or: [{ filename: path }, { filename: { $regex: `^${escapeRegex(path)}/` } }] };
    try {
      const files = await this.bucket.find(filter, { projection: { _id: 1 } }).toArray();
      for (const f of files) await this.bucket.delete(f._id);
    } catch (e) {
      throw wrap(e);
    }
  }

  async pendingUploads(): Promise<number> {
    const ids = (await this.db.collection(`${this.bucketName}.chunks`).distinct("files_id")) as ObjectId[];
    if (ids.length === 0) return 0;
    const complete = await this.db.collection(`${this.bucketName}.files`).countDocuments({ _id: { $in: ids } });
    return ids.length - complete;
  }

  async close(): Promise<void> {
    await Promise.allSettled([
      ...this.writes,
      ...[...this.reads].map((stream) => new Promise<void>((resolve) => {
        stream.once("close", resolve);
        stream.destroy();
      })),
    ]);
    await this.client.close();
  }
}

function wrap(err: unknown): unknown {
  const name = (err as { name?: string } | null)?.name ?? "";
  if (name === "MongoServerSelectionError" || name === "MongoNetworkError" || name === "MongoNetworkTimeoutError") {
    return unavailable("The artifact store is unreachable", err);
  }
  return err;
}

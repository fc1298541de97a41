/**
 * The artifact-store contract: a tree of files addressed by normal relative paths (path.ts), written
 * atomically and read as streams. Implementations: a directory tree (fs-store.ts, the embedded
 * default) and GridFS buckets in the MongoDB database (gridfs-store.ts).
 */
import type { Readable } from "node:stream";

export interface ArtifactEntry {
  /** Name within the listed directory (one segment). */
  name: string;
  isDir: boolean;
  /** Bytes, for files. */
  size?: number;
}

export interface ArtifactRead {
  size: number;
  /** The file's bytes; destroying it releases the file handle or GridFS cursor. */
  stream: Readable;
}

export interface ArtifactStore {
  /** "file" or "gridfs", for GET /mlflow/status. */
  readonly kind: string;
  /** The destination without credentials: file:///abs/dir or gridfs:<bucket>. */
  readonly location: string;
  /**
   * Writes `chunks` to `path`, replacing any file there, visible only once every chunk is written:
   * if `chunks` throws (the client went away) nothing is left behind. Returns the size written.
   * `path` is normal and not the root; a directory at `path` is an error.
   */
  write(path: string, chunks: AsyncIterable<Uint8Array>): Promise<number>;
  /** Opens the file at `path`; RESOURCE_DOES_NOT_EXIST when there is none (or it is a directory). */
  read(path: string): Promise<ArtifactRead>;
  /** Direct children of the directory `path` ("" for the root), sorted by name; [] when it does not exist. */
  list(path: string): Promise<ArtifactEntry[]>;
  /** Deletes the file or directory tree at `path`; nothing to delete is not an error. */
  delete(path: string): Promise<void>;
  close(): Promise<void>;
}

/** Counters of what a store read from its backing medium, for tests and diagnostics. */
export interface ReadCounters {
  /** Bytes read from disk / GridFS since the store opened. */
  bytesRead: number;
  /** Read streams currently open (file handles, GridFS cursors). */
  openReads: number;
}

/** What tests and diagnostics can observe of a store's work at its backing medium. */
export interface ObservableArtifactStore extends ArtifactStore {
  readonly counters: ReadCounters;
  /** Uploads started and not yet committed or cleaned up (temporary files; GridFS chunks without a files document). */
  pendingUploads(): Promise<number>;
}

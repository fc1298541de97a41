/**
 * `--artifacts-destination`: `file:///abs/dir` or `gridfs:` / `gridfs:<bucket>`. Defaults:
 * `file://<data-dir>/artifacts` for the embedded store, `gridfs:artifacts` for MongoDB.
 */
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { FsArtifactStore } from "./fs-store.js";
import { GridFsArtifactStore } from "./gridfs-store.js";
import type { ObservableArtifactStore } from "./store.js";

export const DEFAULT_GRIDFS_BUCKET = "artifacts";

export type OpenedArtifactStore = ObservableArtifactStore;

const isMongo = (storeSpec: string) => storeSpec.startsWith("mongodb://") || storeSpec.startsWith("mongodb+srv://");

export async function openArtifactStore(
  destination: string | undefined,
  context: { storeSpec: string; dataDir: string },
): Promise<OpenedArtifactStore> {
  const spec = destination || (isMongo(context.storeSpec) ? `gridfs:${DEFAULT_GRIDFS_BUCKET}` : "");
  if (spec.startsWith("gridfs:")) {
    if (!isMongo(context.storeSpec)) throw new Error("--artifacts-destination gridfs: needs a MongoDB --store");
    const bucket = spec.slice("gridfs:".length) || DEFAULT_GRIDFS_BUCKET;
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(bucket)) throw new Error(`--artifacts-destination: invalid GridFS bucket name "${bucket}"`);
    return new GridFsArtifactStore({ uri: context.storeSpec, bucket });
  }
  let dir: string;
  if (!spec) dir = join(resolve(context.dataDir), "artifacts");
  else if (spec.startsWith("file://")) dir = fileURLToPath(spec);
  else throw new Error(`--artifacts-destination: expected file:///abs/dir or gridfs:[bucket], got "${spec}"`);
  const store = new FsArtifactStore(dir);
  await store.init();
  return store;
}

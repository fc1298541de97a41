/**
 * `--artifacts-destination`: `file:///abs/dir` or `gridfs:` / `gridfs:<bucket>`. Defaults:
 * `file://<data-dir>/artifacts` for the embedded store, `gridfs:artifacts` for MongoDB.
 */
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { FsArtifactStore } from "./fs-store.js";
import { GridFsArtifactStore } from "./gridfs-store.js";
import { absoluteIfLocal, isLocalUri, localPathOf } from "../domain/model-version-source.js";
import { type ArtifactRoots, type LocalRoot, createArtifactRoots } from "./roots.js";
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

/** The server's artifact roots and the stores behind them (all to be closed on shutdown). */
export interface OpenedArtifactRoots {
  roots: ArtifactRoots;
  /** The artifacts destination (what `mlflow-artifacts:/` URIs name). */
  destination: OpenedArtifactStore;
  /** Every store opened (the destination and local roots), e.g. to sum their read counters. */
  stores: readonly OpenedArtifactStore[];
  close(): Promise<void>;
}

/**
 * MLflow's artifact modes: the destination store, whether it is served, and the default artifact root of new
 * experiments — `mlflow-artifacts:/` when serving (the default), else `<data-dir>/artifacts`; a root given as a
 * relative path is made absolute against the working directory, as MLflow does. Local directories among them (a
 * directory default root, a `file:` destination) are the only places on disk the server reads artifacts from.
 */
export async function openArtifactRoots(options: {
  artifactsDestination: string | undefined;
  defaultArtifactRoot: string | undefined;
  serveArtifacts: boolean;
  storeSpec: string;
  dataDir: string;
}): Promise<OpenedArtifactRoots> {
  const destination = await openArtifactStore(options.artifactsDestination, options);
  const opened: OpenedArtifactStore[] = [destination];
  try {
    const localRoots: LocalRoot[] = [];
    if (destination instanceof FsArtifactStore) localRoots.push({ dir: destination.directory, store: destination });
    let defaultRoot = options.defaultArtifactRoot;
    if (!defaultRoot) defaultRoot = options.serveArtifacts ? "mlflow-artifacts:/" : join(resolve(options.dataDir), "artifacts");
    defaultRoot = absoluteIfLocal(defaultRoot);
    if (isLocalRoot(defaultRoot)) {
      const dir = localPathOf(defaultRoot);
      if (!localRoots.some((r) => r.dir === dir)) {
        const store = new FsArtifactStore(dir);
        await store.init();
        opened.push(store);
        localRoots.push({ dir, store });
      }
    }
    const roots = createArtifactRoots({ destination, serveArtifacts: options.serveArtifacts, defaultArtifactRoot: defaultRoot, localRoots });
    return { roots, destination, stores: opened, close: async () => void (await Promise.all(opened.map((s) => s.close()))) };
  } catch (err) {
    await Promise.all(opened.map((s) => s.close()));
    throw err;
  }
}

function isLocalRoot(uri: string): boolean {
  try {
    return isLocalUri(uri);
  } catch (err) {
    throw new Error(`--default-artifact-root: ${(err as Error).message}`);
  }
}

/**
 * The artifact store as the services use it, counting logbook_artifact_bytes_total{direction="upload"} as the
 * chunks pass: uploads on both transports (gRPC UploadArtifact, the proxy's PUT) all go through `write`, so each
 * byte is counted once, and an upload the client abandons still counts what it sent. Downloads are counted from the
 * stores' own read counters when scraped (MetricSources.artifactBytesRead), which costs nothing per chunk.
 */
import type { ArtifactRoots } from "../artifacts/roots.js";
import type { ArtifactStore } from "../artifacts/store.js";
import type { Metrics } from "./metrics.js";

export function instrumentArtifactStore(artifacts: ArtifactStore, metrics: Metrics | undefined): ArtifactStore {
  if (!metrics) return artifacts;
  const uploaded = metrics.artifactBytes.labels({ direction: "upload" });
  async function* counted(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const chunk of chunks) {
      uploaded.inc(chunk.length);
      yield chunk;
    }
  }
  return {
    kind: artifacts.kind,
    location: artifacts.location,
    write: (path, chunks) => artifacts.write(path, counted(chunks)),
    read: (path) => artifacts.read(path),
    list: (path) => artifacts.list(path),
    delete: (path) => artifacts.delete(path),
    close: () => artifacts.close(),
  };
}

/**
 * The artifact roots as the services use them: every store they resolve to (the destination, local roots) comes
 * wrapped by {@link instrumentArtifactStore}, the same wrapper for the same store each time.
 */
export function instrumentArtifactRoots(roots: ArtifactRoots, metrics: Metrics | undefined): ArtifactRoots {
  if (!metrics) return roots;
  const wrapped = new WeakMap<ArtifactStore, ArtifactStore>();
  const wrap = (store: ArtifactStore) => {
    let w = wrapped.get(store);
    if (!w) wrapped.set(store, (w = instrumentArtifactStore(store, metrics)));
    return w;
  };
  return {
    serveArtifacts: roots.serveArtifacts,
    destination: wrap(roots.destination),
    defaultArtifactRoot: roots.defaultArtifactRoot,
    resolve(uri) {
      const resolved = roots.resolve(uri);
      return resolved && { store: wrap(resolved.store), path: resolved.path };
    },
  };
}

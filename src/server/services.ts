import type { Logger } from "pino";
import type { ServerRuntime } from "../services/server-runtime.js";
import type { Store } from "../store/types.js";
import type { WatchHub } from "../services/watch/watch-hub.js";
import { protoMetadata as trackingMetadata, TrackingServiceService } from "../../gen/ts/logbook/v1/tracking_service.js";
import { ArtifactServiceService, protoMetadata as artifactMetadata } from "../../gen/ts/logbook/v1/artifact_service.js";
import type { ArtifactRoots } from "../artifacts/roots.js";
import { createArtifactService } from "../services/artifact-service.js";
import type { RegisteredService } from "../services/rpc.js";
import { protoMetadata as registryMetadata, RegistryServiceService } from "../../gen/ts/logbook/v1/registry.js";
import { protoMetadata as searchMetadata, SearchServiceService } from "../../gen/ts/logbook/v1/search_service.js";
import { createRegistryService } from "../services/registry-service.js";
import { createSearchService } from "../services/search-service.js";
import { createTrackingService } from "../services/tracking-service.js";

export interface ServiceDeps {
  store: Store;
  roots: ArtifactRoots;
  runtime: ServerRuntime;
  watch: WatchHub;
  logger: Logger;
  clock?: () => number;
}

/** The generated modules of the services below (their message codecs, for the gRPC response encoders). */
export const GENERATED_METADATA = [trackingMetadata, registryMetadata, artifactMetadata, searchMetadata];

/** Every service Logbook serves, built once and registered with both transports. */
export function createServices(deps: ServiceDeps): RegisteredService[] {
  return [
    {
      name: "logbook.v1.TrackingService",
      definition: TrackingServiceService,
      implementation: createTrackingService(deps),
    },
    {
      name: "logbook.v1.RegistryService",
      definition: RegistryServiceService,
      implementation: createRegistryService(deps),
    },
    {
      name: "logbook.v1.ArtifactService",
      definition: ArtifactServiceService,
      implementation: createArtifactService(deps),
    },
    {
      name: "logbook.v1.SearchService",
      definition: SearchServiceService,
      implementation: createSearchService(deps),
    },
  ] as RegisteredService[];
}

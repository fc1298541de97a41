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
import { AuthServiceService } from "../../gen/ts/logbook/v1/auth_service.js";
import type { AccessControl } from "../services/auth/access-control.js";
import { createAuthService } from "../services/auth/auth-service.js";
import type { Authenticator } from "../services/auth/authenticator.js";
import { guardServices } from "../services/auth/guard-services.js";

export interface ServiceDeps {
  store: Store;
  roots: ArtifactRoots;
  runtime: ServerRuntime;
  watch: WatchHub;
  logger: Logger;
  clock?: () => number;
  /** With `--auth basic`: AuthService is served and every call is checked against the permission table. */
  auth?: { authenticator: Authenticator; access: AccessControl };
}

/** The generated modules of the services below (their message codecs, for the gRPC response encoders). */
export const GENERATED_METADATA = [trackingMetadata, registryMetadata, artifactMetadata, searchMetadata];

/**
 * Every service Logbook serves, built once and registered with both transports, each function behind the permission
 * table (guard-services.ts; with auth off it checks nothing but still keeps grants in step with the registry).
 */
export function createServices(deps: ServiceDeps): RegisteredService[] {
  const { auth } = deps;
  const services = [
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
    ...(auth
      ? [
          {
            name: "logbook.v1.AuthService",
            definition: AuthServiceService,
            implementation: createAuthService({ ...deps, ...auth, defaultPermission: auth.access.defaultPermission }),
          },
        ]
      : []),
  ] as RegisteredService[];
  return guardServices(
    services,
    {
      store: deps.store,
      ...(auth ? { access: auth.access } : {}),
      onGrantsChanged: (userId) => (userId === undefined ? auth?.authenticator.invalidateAll() : auth?.authenticator.invalidateUser(userId)),
    },
    auth !== undefined,
  );
}

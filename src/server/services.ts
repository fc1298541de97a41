import type { Logger } from "pino";
import type { ServerRuntime } from "../services/server-runtime.js";
import type { Store } from "../store/types.js";
import { TrackingServiceService } from "../../gen/ts/logbook/v1/tracking_service.js";
import type { RegisteredService } from "../services/rpc.js";
import { createTrackingService } from "../services/tracking-service.js";

export interface ServiceDeps {
  store: Store;
  runtime: ServerRuntime;
  logger: Logger;
  clock?: () => number;
}

/** Every service Logbook serves, built once and registered with both transports. */
export function createServices(deps: ServiceDeps): RegisteredService[] {
  return [
    {
      name: "logbook.v1.TrackingService",
      definition: TrackingServiceService,
      implementation: createTrackingService(deps),
    },
  ] as RegisteredService[];
}

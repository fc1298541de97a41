import { credentials, makeClientConstructor, type Client, type ServiceError } from "@grpc/grpc-js";
import { service as healthService } from "grpc-health-check";

type Status = "UNKNOWN" | "SERVING" | "NOT_SERVING" | "SERVICE_UNKNOWN";

/** A grpc.health.v1.Health client: check(service) resolves with the status name. */
export class HealthCheckClient {
  private readonly client: Client & { check: Function };
  constructor(address: string) {
    const Ctor = makeClientConstructor(healthService as never, "grpc.health.v1.Health");
    this.client = new Ctor(address, credentials.createInsecure()) as never;
  }
  check(service: string): Promise<Status | "NOT_FOUND"> {
    return new Promise((resolve, reject) =>
      this.client.check({ service }, { deadline: Date.now() + 5000 }, (err: ServiceError | null, res: { status: Status }) => {
        if (err?.code === 5) resolve("NOT_FOUND");
        else if (err) reject(err);
        else resolve(res.status);
      }),
    );
  }
  close(): void {
    this.client.close();
  }
}

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DownloadArtifactResponse } from "../../gen/ts/logbook/v1/artifact_service.js";
import { GetRunResponse } from "../../gen/ts/logbook/v1/tracking_service.js";
import { descriptorSetPath } from "../../src/server/paths.js";
import { createServices, GENERATED_METADATA } from "../../src/server/services.js";
import { InvalidMessage, messageSize, responseEncoders, serverCodec } from "../../src/grpc/message-codec.js";

const encoders = responseEncoders(readFileSync(descriptorSetPath()), GENERATED_METADATA);
const definitions = createServices({ store: {} as never, roots: {} as never, runtime: {} as never, watch: {} as never, logger: {} as never }).map((s) => s.definition);

describe("gRPC server codec", () => {
  it("has a response encoder for every method, writing the generated serializer's exact bytes", () => {
    const samples: Record<string, unknown> = {
      "/logbook.v1.ArtifactService/DownloadArtifact": DownloadArtifactResponse.fromPartial({ chunk: Buffer.from("some bytes") }),
      "/logbook.v1.TrackingService/GetRun": GetRunResponse.fromPartial({ run: { info: { runId: "r", startTime: 5n, runName: "é" } } }),
    };
    for (const definition of definitions) {
      for (const def of Object.values(definition)) {
        const encode = encoders.get(def.path);
        expect(encode, def.path).toBeDefined();
        const codec = serverCodec(def, encode);
        const message = samples[def.path] ?? def.responseDeserialize(Buffer.alloc(0)); // a complete default message
        expect(Buffer.compare(codec.responseSerialize(message), def.responseSerialize(message)), def.path).toBe(0);
      }
    }
  });

  it("passes pre-serialized responses through and turns undecodable requests into InvalidMessage", () => {
    const def = definitions[0]!["getRun" as never] as (typeof definitions)[0][string];
    const codec = serverCodec(def, encoders.get(def.path));
    const bytes = Buffer.from([1, 2, 3]);
    expect(codec.responseSerialize(bytes)).toBe(bytes);
    expect(codec.requestDeserialize(Buffer.from([0x0f]))).toBeInstanceOf(InvalidMessage);
    const request = codec.requestDeserialize(Buffer.from([0x0a, 0x01, 0x61]));
    expect(request).toMatchObject({ runId: "a" });
    expect(messageSize(request)).toBe(3);
  });
});

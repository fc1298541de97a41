/**
 * How the gRPC server reads and writes messages, around the generated (ts-proto) codecs:
 *
 * - A request that does not decode — garbage bytes, a truncated field, invalid UTF-8 in a string (proto3 strings
 *   must be UTF-8; the generated decoder would quietly turn bad bytes into U+FFFD) — must answer INVALID_ARGUMENT.
 *   grpc-js answers INTERNAL for any deserializer that throws, so the deserializer here never throws: it returns an
 *   {@link InvalidMessage} that the adapter refuses with the decoding error.
 * - Each decoded message's wire size is remembered ({@link messageSize}), for the body-rate limits.
 * - Responses may be handed over already serialized (a Buffer), so the adapter knows their exact size for the
 *   byte-bounded stream writer without serializing twice.
 */
import { BinaryReader } from "@bufbuild/protobuf/wire";
import { AppError, ErrorCode } from "../domain/errors.js";
import type { MethodDefinition } from "../services/rpc.js";

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const decodeUtf8Strict = (bytes: Uint8Array): string => strictUtf8.decode(bytes);

/** A request that failed to decode, standing in for the message (so grpc-js does not answer INTERNAL). */
export class InvalidMessage {
  constructor(readonly error: AppError) {}
}

const sizes = new WeakMap<object, number>();

/** The wire size of a decoded request message (0 if unknown). */
export function messageSize(message: unknown): number {
  return typeof message === "object" && message !== null ? (sizes.get(message) ?? 0) : 0;
}

function describeDecodeError(err: unknown): string {
  if (err instanceof TypeError && /encoded data was not valid/i.test(err.message)) return "a string field is not valid UTF-8";
  return err instanceof Error ? err.message : String(err);
}

/** The definition with the reading and writing rules above. */
export function serverCodec<D extends MethodDefinition>(def: D): D {
  return {
    ...def,
    requestDeserialize: (bytes: Buffer) => {
      try {
        // ts-proto's decode() takes a reader: one with strict UTF-8 applies to nested messages too.
        const message = def.requestDeserialize(new BinaryReader(bytes, decodeUtf8Strict) as unknown as Buffer) as unknown;
        if (typeof message === "object" && message !== null) sizes.set(message, bytes.length);
        return message;
      } catch (err) {
        return new InvalidMessage(
          new AppError(ErrorCode.INVALID_PARAMETER_VALUE, `The request message could not be decoded: ${describeDecodeError(err)}`),
        );
      }
    },
    responseSerialize: (value: unknown) => (Buffer.isBuffer(value) ? value : def.responseSerialize(value)),
  };
}

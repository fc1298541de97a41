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
 * - Responses are encoded without the generated serializer's extra copy (it wraps the encoded bytes in a new
 *   Buffer): one allocation less per message, which on a busy download stream is most of its garbage.
 */
import { createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { BinaryReader } from "@bufbuild/protobuf/wire";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
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

/** Encodes a response message to its wire bytes. */
export type MessageEncoder = (message: unknown) => Uint8Array;

/** The `protoMetadata` a ts-proto module exports: its message codecs by full name, and its imports'. */
export interface GeneratedMetadata {
  references: Record<string, unknown>;
  dependencies?: GeneratedMetadata[];
}

interface GeneratedMessage {
  encode(message: unknown): { finish(): Uint8Array };
}

/** Each method's response encoder by gRPC path, from the descriptor set and the generated modules' metadata. */
export function responseEncoders(descriptorSet: Uint8Array, metadata: readonly GeneratedMetadata[]): Map<string, MessageEncoder> {
  const types = new Map<string, GeneratedMessage>();
  const visit = (m: GeneratedMetadata) => {
    for (const [name, type] of Object.entries(m.references)) {
      if (typeof (type as Partial<GeneratedMessage> | undefined)?.encode === "function") types.set(name, type as GeneratedMessage);
    }
    m.dependencies?.forEach(visit);
  };
  metadata.forEach(visit);
  const encoders = new Map<string, MessageEncoder>();
  for (const file of createFileRegistry(fromBinary(FileDescriptorSetSchema, descriptorSet)).files) {
    for (const service of file.services) {
      for (const method of service.methods) {
        const type = types.get(`.${method.output.typeName}`);
        if (type) encoders.set(`/${service.typeName}/${method.name}`, (message) => type.encode(message).finish());
      }
    }
  }
  return encoders;
}

/** The definition with the reading and writing rules above; `encode`, when given, writes its responses. */
export function serverCodec<D extends MethodDefinition>(def: D, encode?: MessageEncoder): D {
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
    responseSerialize: (value: unknown) => {
      if (Buffer.isBuffer(value)) return value;
      if (!encode) return def.responseSerialize(value);
      const bytes = encode(value);
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    },
  };
}

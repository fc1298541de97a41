import type { PackageDefinition } from "@grpc/proto-loader";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";

/**
 * A PackageDefinition for @grpc/reflection built from the raw buf-built descriptors. proto-loader's own
 * loaders drop every file's dependency list (grpc/grpc-node#3034), which breaks `grpcurl describe`;
 * the reflection service only reads `fileDescriptorProtos`, so it is given the originals.
 */
export function reflectionPackageDefinition(descriptorSet: Uint8Array): PackageDefinition {
  const set = fromBinary(FileDescriptorSetSchema, descriptorSet);
  const fileDescriptorProtos = set.file.map((f) => Buffer.from(toBinary(FileDescriptorProtoSchema, f)));
  return { "buf.descriptor.set": { fileDescriptorProtos } } as unknown as PackageDefinition;
}

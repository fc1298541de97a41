/**
 * TLS on both ports (`--tls-cert-file`, `--tls-key-file`): the same PEM certificate chain and key for gRPC
 * (grpc-js ServerCredentials.createSsl) and HTTP (node:https through fastify), read once at start-up so a missing or
 * unreadable file, or a key that does not match the certificate, stops the server with a clear message.
 */
import { createSecureContext } from "node:tls";
import { readFileSync } from "node:fs";
import { ServerCredentials } from "@grpc/grpc-js";

export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
}

function read(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
}

/** Reads and checks the pair. @throws Error naming the file or the mismatch. */
export function loadTls(files: TlsFiles): TlsMaterial {
  const cert = read(files.certFile, "--tls-cert-file");
  const key = read(files.keyFile, "--tls-key-file");
  try {
    // Fails on malformed PEM and on a key that is not the certificate's.
    createSecureContext({ cert, key });
  } catch (err) {
    throw new Error(`--tls-cert-file/--tls-key-file: not a usable certificate and key (${(err as Error).message})`, { cause: err });
  }
  return { cert, key };
}

/** gRPC credentials: TLS with the pair, or plaintext. Client certificates are not asked for. */
export function grpcCredentials(tls: TlsMaterial | undefined): ServerCredentials {
  return tls ? ServerCredentials.createSsl(null, [{ cert_chain: tls.cert, private_key: tls.key }], false) : ServerCredentials.createInsecure();
}

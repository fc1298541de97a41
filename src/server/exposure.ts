/**
 * The safe default: a server without authentication answers anyone who can reach it, so with `--auth none` it listens
 * on loopback only, unless `--insecure-no-auth` says that is meant (a trusted network, or a reverse proxy in front
 * that authenticates). Basic credentials sent in clear over a network are warned about.
 */
import { isIP } from "node:net";

/** Whether an address to listen on reaches this machine only: 127.0.0.0/8, ::1, "localhost". */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (h === "localhost") return true;
  if (isIP(h) === 4) return h.startsWith("127.");
  if (isIP(h) === 6) return h === "::1" || /^::ffff:127\./.test(h);
  return false;
}

/**
 * @returns a warning to log, if any.
 * @throws Error explaining the refusal: --auth none on a non-loopback address without --insecure-no-auth.
 */
export function checkExposure(options: { host: string; auth: "none" | "basic"; insecureNoAuth: boolean; tls: boolean }): string | undefined {
  const local = isLoopback(options.host);
  if (options.auth === "none" && !local && !options.insecureNoAuth) {
    throw new Error(
      `Refusing to listen on ${options.host} without authentication: anyone who can reach it could read, change and delete ` +
        "everything. Start with --auth basic (and LOGBOOK_ADMIN_USERNAME / LOGBOOK_ADMIN_PASSWORD), listen on 127.0.0.1, or pass " +
        "--insecure-no-auth if something in front of Logbook authenticates.",
    );
  }
  if (options.auth === "basic" && !local && !options.tls) {
    return `Listening on ${options.host} with --auth basic but without TLS: passwords and tokens cross the network in clear unless a TLS proxy is in front (--tls-cert-file/--tls-key-file).`;
  }
  return undefined;
}

/**
 * Who may talk to the HTTP port, by the names browsers put in requests:
 *
 * - Host (`--allowed-hosts`): a web page can make a browser send requests to a loopback Logbook under the
 *   attacker's own domain name (DNS rebinding); the Host header then names that domain. Only names of this server
 *   are accepted. Default: `localhost`, the loopback addresses, the address Logbook is bound to and, bound to every
 *   interface (`0.0.0.0`/`::`), every address of the machine's interfaces and its host name. `*` accepts any.
 * - Origin (`--cors-allowed-origins`): a state-changing request (POST/PUT/PATCH/DELETE) sent by a page of another
 *   origin is refused, unless that origin is listed. Same-origin requests (Origin matching the Host) always pass;
 *   requests without an Origin (every non-browser client) are not affected.
 *
 * Entries may use `*` as a wildcard (`*.example.com`, `https://*.example.com`); a host entry without a port accepts
 * any port. Names compare case-insensitively.
 */
import { hostname, networkInterfaces } from "node:os";

export const STATE_CHANGING_METHODS: ReadonlySet<string> = new Set(["POST", "PUT", "PATCH", "DELETE"]);

const LOOPBACK_NAMES = ["localhost", "127.0.0.1", "::1"];
const WILDCARD_BINDS = new Set(["0.0.0.0", "::", "[::]", ""]);

/** The default `--allowed-hosts` for a server bound to `bindHost`. */
export function defaultAllowedHosts(bindHost: string): string[] {
  const hosts = new Set(LOOPBACK_NAMES);
  if (WILDCARD_BINDS.has(bindHost)) {
    for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) hosts.add(a.address.replace(/%.*$/, ""));
    hosts.add(hostname());
  } else {
    hosts.add(bindHost.replace(/^\[(.*)\]$/, "$1"));
  }
  return [...hosts];
}

/** A Host header split into its name (lower case, IPv6 without brackets, no trailing dot) and port. */
export function parseHost(header: string): { name: string; port: string } | undefined {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(header.trim());
  if (!m) return undefined;
  const name = m[1]!.replace(/^\[(.*)\]$/, "$1").replace(/\.$/, "").toLowerCase();
  return name ? { name, port: m[2] ?? "" } : undefined;
}

function globToRegex(glob: string): RegExp {
  return new RegExp(`^${glob.split("*").map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`, "i");
}

/** An allowed-hosts entry: `name`, `name:port`, `name:*`, `[v6]`, `[v6]:port` or a bare IPv6 address. */
function parseEntry(entry: string): { name: string | RegExp; port: string } {
  const e = entry.trim().toLowerCase();
  let name = e;
  let port = "";
  const bracketed = /^\[(.+)\](?::(\d{1,5}|\*))?$/.exec(e);
  if (bracketed) {
    name = bracketed[1]!;
    port = bracketed[2] ?? "";
  } else if (e.indexOf(":") === e.lastIndexOf(":") && e.includes(":")) {
    [name, port] = e.split(":") as [string, string];
  }
  name = name.replace(/\.$/, "");
  return { name: name.includes("*") ? globToRegex(name) : name, port: port === "*" ? "" : port };
}

/** `(hostHeader) => allowed`, for a list of allowed hosts. */
export function createHostCheck(entries: readonly string[]): (hostHeader: string | undefined) => boolean {
  if (entries.some((e) => e.trim() === "*")) return () => true;
  const rules = entries.filter((e) => e.trim() !== "").map(parseEntry);
  return (header) => {
    const host = header === undefined ? undefined : parseHost(header);
    if (!host) return false;
    return rules.some((r) => (typeof r.name === "string" ? r.name === host.name : r.name.test(host.name)) && (!r.port || r.port === host.port));
  };
}

export interface OriginPolicy {
  /** True when `allowed-origins` is `*`: any origin may do anything, and CORS answers `*`. */
  readonly any: boolean;
  /** Whether a request with this Origin may change state, given its Host header. */
  mayChangeState(origin: string, hostHeader: string | undefined): boolean;
  /** Whether this Origin is one of the configured ones (CORS headers are sent to it). */
  listed(origin: string): boolean;
}

const DEFAULT_PORTS: Readonly<Record<string, string>> = { "http:": "80", "https:": "443" };

/** Whether an Origin is the origin a request was sent to (its Host header), default ports considered. */
function sameOrigin(origin: string, hostHeader: string): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  const defaultPort = DEFAULT_PORTS[url.protocol];
  const host = parseHost(hostHeader);
  if (!defaultPort || !host) return false; // "null" and non-web origins are never this server's
  const originName = url.hostname.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  return originName === host.name && (url.port || defaultPort) === (host.port || defaultPort);
}

export function createOriginPolicy(allowedOrigins: readonly string[]): OriginPolicy {
  const any = allowedOrigins.includes("*");
  const rules = allowedOrigins.filter((o) => o !== "*").map((o) => (o.includes("*") ? globToRegex(o) : o.toLowerCase().replace(/\/$/, "")));
  const listed = (origin: string) => {
    const o = origin.toLowerCase();
    return rules.some((r) => (typeof r === "string" ? r === o : r.test(o)));
  };
  return {
    any,
    listed: (origin) => any || listed(origin),
    mayChangeState(origin, hostHeader) {
      if (any || listed(origin)) return true;
      return hostHeader !== undefined && sameOrigin(origin, hostHeader);
    },
  };
}

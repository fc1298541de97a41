import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { makeTestCertificate } from "../../test/harness/tls.js";
import { loadTls } from "./tls.js";

describe("loadTls", () => {
  it("reads a certificate and its key", () => {
    const c = makeTestCertificate();
    expect(loadTls({ certFile: c.certFile, keyFile: c.keyFile }).cert.toString()).toContain("BEGIN CERTIFICATE");
  });

  it("names a missing file, and refuses a key that is not the certificate's", () => {
    const a = makeTestCertificate();
    const b = makeTestCertificate();
    expect(() => loadTls({ certFile: join(a.dir, "nope.pem"), keyFile: a.keyFile })).toThrowError(/--tls-cert-file .*nope\.pem: ENOENT/);
    expect(() => loadTls({ certFile: a.certFile, keyFile: b.keyFile })).toThrowError(/not a usable certificate and key/);
    writeFileSync(join(a.dir, "garbage.pem"), "not pem");
    expect(() => loadTls({ certFile: join(a.dir, "garbage.pem"), keyFile: a.keyFile })).toThrowError(/not a usable/);
  });
});

import { describe, expect, it } from "vitest";
import { checkExposure, isLoopback } from "./exposure.js";

describe("the safe default", () => {
  it.each([
    ["127.0.0.1", true],
    ["127.3.4.5", true],
    ["localhost", true],
    ["::1", true],
    ["[::1]", true],
    ["::ffff:127.0.0.1", true],
    ["0.0.0.0", false],
    ["::", false],
    ["10.1.2.3", false],
    ["logbook.internal", false],
  ])("%s is loopback: %s", (host, expected) => {
    expect(isLoopback(host)).toBe(expected);
  });

  it("refuses --auth none on a non-loopback address unless --insecure-no-auth", () => {
    expect(() => checkExposure({ host: "0.0.0.0", auth: "none", insecureNoAuth: false, tls: false })).toThrowError(/--insecure-no-auth/);
    expect(checkExposure({ host: "0.0.0.0", auth: "none", insecureNoAuth: true, tls: false })).toBeUndefined();
    expect(checkExposure({ host: "127.0.0.1", auth: "none", insecureNoAuth: false, tls: false })).toBeUndefined();
  });

  it("warns about Basic credentials in clear over a network", () => {
    expect(checkExposure({ host: "0.0.0.0", auth: "basic", insecureNoAuth: false, tls: false })).toMatch(/in clear/);
    expect(checkExposure({ host: "0.0.0.0", auth: "basic", insecureNoAuth: false, tls: true })).toBeUndefined();
    expect(checkExposure({ host: "127.0.0.1", auth: "basic", insecureNoAuth: false, tls: false })).toBeUndefined();
  });
});

import { describe, expect, it } from "vitest";
import { createHostCheck, createOriginPolicy, defaultAllowedHosts, parseHost } from "./host-policy.js";

describe("Host check", () => {
  const defaults = createHostCheck(defaultAllowedHosts("127.0.0.1"));

  it.each(["localhost", "localhost:5000", "LOCALHOST:5000", "127.0.0.1:5000", "[::1]:5000", "[::1]", "localhost.:80"])("accepts %s by default", (host) => {
    expect(defaults(host)).toBe(true);
  });

  it.each(["evil.example", "evil.example:5000", "127.0.0.1.nip.io:5000", "localhost.evil.example", "", "[::1", "a b", "localhost:99999999"])(
    "refuses %s by default",
    (host) => {
      expect(defaults(host)).toBe(false);
    },
  );

  it("refuses a request without a Host header", () => {
    expect(defaults(undefined)).toBe(false);
  });

  it("accepts the bound address, and every interface address when bound to all of them", () => {
    expect(createHostCheck(defaultAllowedHosts("10.1.2.3"))("10.1.2.3:5000")).toBe(true);
    const all = defaultAllowedHosts("0.0.0.0");
    expect(all).toContain("127.0.0.1");
    expect(all.length).toBeGreaterThan(3);
  });

  it("takes ports and wildcards in entries, and * for any host", () => {
    const check = createHostCheck(["logbook.example.com:443", "*.corp.example", "[fd00::1]", "fd00::2", "api.example:*"]);
    expect(check("logbook.example.com:443")).toBe(true);
    expect(check("logbook.example.com:80")).toBe(false);
    expect(check("a.b.corp.example:5000")).toBe(true);
    expect(check("corp.example")).toBe(false);
    expect(check("[fd00::1]:5000")).toBe(true);
    expect(check("[fd00::2]")).toBe(true);
    expect(check("api.example:8080")).toBe(true);
    expect(createHostCheck(["*"])("anything.example")).toBe(true);
  });

  it("parses Host headers", () => {
    expect(parseHost("[::1]:5000")).toEqual({ name: "::1", port: "5000" });
    expect(parseHost("Example.COM.")).toEqual({ name: "example.com", port: "" });
    expect(parseHost("a:b:c")).toBeUndefined();
  });
});

describe("Origin policy", () => {
  it("lets same-origin requests change state, and refuses other origins", () => {
    const policy = createOriginPolicy([]);
    expect(policy.mayChangeState("http://localhost:5000", "localhost:5000")).toBe(true);
    expect(policy.mayChangeState("http://127.0.0.1", "127.0.0.1:80")).toBe(true);
    expect(policy.mayChangeState("https://logbook.example.com", "logbook.example.com")).toBe(true);
    expect(policy.mayChangeState("http://localhost:3000", "localhost:5000")).toBe(false);
    expect(policy.mayChangeState("https://evil.example", "localhost:5000")).toBe(false);
    expect(policy.mayChangeState("null", "localhost:5000")).toBe(false);
    expect(policy.mayChangeState("file://", "localhost:5000")).toBe(false);
    expect(policy.listed("http://localhost:5000")).toBe(false);
  });

  it("lets listed origins (exact or with wildcards) change state, and * any", () => {
    const policy = createOriginPolicy(["https://ui.example.com", "https://*.corp.example"]);
    expect(policy.mayChangeState("https://ui.example.com", "localhost:5000")).toBe(true);
    expect(policy.mayChangeState("https://UI.example.com", "localhost:5000")).toBe(true);
    expect(policy.mayChangeState("https://a.corp.example", "localhost:5000")).toBe(true);
    expect(policy.mayChangeState("http://ui.example.com", "localhost:5000")).toBe(false);
    expect(policy.listed("https://ui.example.com")).toBe(true);
    const any = createOriginPolicy(["*"]);
    expect(any.any).toBe(true);
    expect(any.mayChangeState("https://evil.example", "localhost")).toBe(true);
  });
});

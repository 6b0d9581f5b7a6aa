/**
 * Resource identifiers and audience matching (RFC 8707, MCP): uppercase scheme/host and
 * one trailing slash are the same resource; anything else is not.
 */
import { describe, expect, it } from "@jest/globals";
import { resolveOptions } from "../src/options.js";
import { AudienceMatcher, isLoopbackHost, normalizeResourceUri } from "../src/resource-uri.js";

const RESOURCE = "https://mcp.example.com/mcp";

describe("normalizeResourceUri", () => {
  it.each<[string, string]>([
    ["https://mcp.example.com/mcp", "https://mcp.example.com/mcp"],
    ["HTTPS://MCP.EXAMPLE.COM/mcp", "https://mcp.example.com/mcp"],
    ["https://mcp.example.com/mcp/", "https://mcp.example.com/mcp"],
    ["https://mcp.example.com/mcp//", "https://mcp.example.com/mcp/"],
    ["https://mcp.example.com:443/mcp", "https://mcp.example.com/mcp"],
    ["http://mcp.example.com:80/mcp", "http://mcp.example.com/mcp"],
    ["https://mcp.example.com:8443/mcp", "https://mcp.example.com:8443/mcp"],
    ["https://mcp.example.com:80/mcp", "https://mcp.example.com:80/mcp"],
    ["https://mcp.example.com", "https://mcp.example.com"],
    ["https://mcp.example.com/", "https://mcp.example.com"],
    ["https://mcp.example.com/MCP", "https://mcp.example.com/MCP"],
    ["https://mcp.example.com/mcp?x=1", "https://mcp.example.com/mcp?x=1"],
    ["http://[::1]:3000/mcp/", "http://[::1]:3000/mcp"],
  ])("%s -> %s", (input, expected) => {
    expect(normalizeResourceUri(input)).toBe(expected);
  });

  it.each([
    "api://default",
    "API://Default/",
    "8f3c2b1a-0000-4000-8000-123456789abc",
    "urn:example:mcp",
    "mcp.example.com/mcp",
    "https://",
    "",
    "https://evil@mcp.example.com/mcp",
    "https://mcp.example.com/mcp#x",
    "https://mcp.example.com/x/../mcp",
    "http://127.1/mcp",
  ])("leaves the non-URL or rewritten URL %j as it is", (input) => {
    expect(normalizeResourceUri(input)).toBe(input);
  });
});

describe("AudienceMatcher", () => {
  const matcher = new AudienceMatcher([RESOURCE]);

  it.each([
    RESOURCE,
    "HTTPS://MCP.EXAMPLE.COM/mcp",
    "https://Mcp.Example.Com/mcp",
    "https://mcp.example.com/mcp/",
    "HTTPS://MCP.EXAMPLE.COM/mcp/",
    "https://mcp.example.com:443/mcp",
    "https://mcp.example.com:443/mcp/",
  ])("accepts %s", (aud) => {
    expect(matcher.matches(aud)).toBe(true);
  });

  it.each([
    ["two trailing slashes", "https://mcp.example.com/mcp//"],
    ["a different path", "https://mcp.example.com/other"],
    ["a longer path", "https://mcp.example.com/mcp/admin"],
    ["a path prefix", "https://mcp.example.com/mc"],
    ["a path in another case", "https://mcp.example.com/MCP"],
    ["a different port", "https://mcp.example.com:8443/mcp"],
    ["the http default port", "https://mcp.example.com:80/mcp"],
    ["a different scheme", "http://mcp.example.com/mcp"],
    ["a different host", "https://evil.example.com/mcp"],
    ["a suffix host", "https://mcp.example.com.evil.example/mcp"],
    ["the origin only", "https://mcp.example.com"],
    ["a query", "https://mcp.example.com/mcp?x=1"],
    ["an empty string", ""],
    ["the host only", "mcp.example.com"],
  ])("rejects %s", (_label, aud) => {
    expect(matcher.matches(aud)).toBe(false);
  });

  // An audience is the resource itself, not a URL that resolves to it: userinfo
  // (`http://evil@host/mcp`) and fragments name something else (RFC 8707 section 2:
  // no fragment; RFC 9728 section 1.2), and the WHATWG parser's other rewrites (dot
  // segments, IPv4 shorthand, percent-decoded or IDNA-mapped hosts, stripped whitespace)
  // are no equivalences the MCP rules grant.
  it.each([
    ["userinfo", "https://evil@mcp.example.com/mcp"],
    ["userinfo with a password", "https://evil:pw@mcp.example.com/mcp"],
    ["our host as the userinfo", "https://mcp.example.com@evil.example.com/mcp"],
    ["an empty userinfo", "https://@mcp.example.com/mcp"],
    ["an empty userinfo with a colon", "https://:@mcp.example.com/mcp"],
    ["userinfo with an uppercase host", "HTTPS://evil@MCP.EXAMPLE.COM/mcp/"],
    ["a fragment", "https://mcp.example.com/mcp#x"],
    ["an empty fragment", "https://mcp.example.com/mcp#"],
    ["a fragment after a trailing slash", "https://mcp.example.com/mcp/#admin"],
    ["a fragment after a query", "https://mcp.example.com/mcp?#x"],
    ["userinfo and a fragment", "https://a@mcp.example.com/mcp#b"],
    ["a dot segment", "https://mcp.example.com/x/../mcp"],
    ["a percent-encoded dot segment", "https://mcp.example.com/x/%2e%2e/mcp"],
    ["a single dot segment", "https://mcp.example.com/./mcp"],
    ["a backslash path", "https://mcp.example.com\\mcp"],
    ["a percent-encoded host", "https://mcp%2Eexample.com/mcp"],
    ["a full-width host (IDNA maps it)", "https://\uFF4Dcp.example.com/mcp"],
    ["a tab inside the host", "https://mcp.exa\tmple.com/mcp"],
    ["a trailing space", "https://mcp.example.com/mcp "],
    ["a trailing newline", "https://mcp.example.com/mcp\n"],
    ["a port with a leading zero", "https://mcp.example.com:0443/mcp"],
    ["an empty port", "https://mcp.example.com:/mcp"],
    ["another port", "https://mcp.example.com:8443/mcp"],
    ["the other scheme's default port", "https://mcp.example.com:80/mcp"],
    ["a query", "https://mcp.example.com/mcp?x=1"],
    ["a path prefix", "https://mcp.example.com/mc"],
    ["a longer path", "https://mcp.example.com/mcp/x"],
    ["plain http", "http://mcp.example.com/mcp"],
  ])("rejects %s", (_label, aud) => {
    expect(matcher.matches(aud)).toBe(false);
    expect(matcher.matches([aud])).toBe(false);
  });

  it("compares a query and a path as written: the parser's percent-encoding makes no match", () => {
    const withQuery = new AudienceMatcher(["https://mcp.example.com/mcp?tenant=a%20b"]);
    expect(withQuery.matches("HTTPS://MCP.EXAMPLE.COM/mcp/?tenant=a%20b")).toBe(true);
    expect(withQuery.matches("https://mcp.example.com/mcp?tenant=a b")).toBe(false);
    expect(withQuery.matches("https://mcp.example.com/mcp?tenant=a%20c")).toBe(false);
    expect(withQuery.matches("https://mcp.example.com/mcp")).toBe(false);
    const withSpace = new AudienceMatcher(["https://mcp.example.com/a%20b"]);
    expect(withSpace.matches("https://mcp.example.com/a b")).toBe(false);
    expect(normalizeResourceUri("HTTP://H.EXAMPLE:8080/P/?Q")).toBe("http://h.example:8080/P?Q");
    expect(normalizeResourceUri("http://h.example:80")).toBe("http://h.example");
  });

  it("never matches userinfo or a fragment, even when the configured audience has it verbatim", () => {
    const odd = new AudienceMatcher(["https://evil@mcp.example.com/mcp", "https://mcp.example.com/mcp#x"]);
    expect(odd.matches("https://evil@mcp.example.com/mcp")).toBe(false);
    expect(odd.matches("https://mcp.example.com/mcp#x")).toBe(false);
    expect(odd.matches(RESOURCE)).toBe(false);
  });

  it.each([
    ["IPv4 shorthand", "http://127.1/mcp", "http://127.0.0.1/mcp"],
    ["a hexadecimal IPv4 address", "http://0x7f000001/mcp", "http://127.0.0.1/mcp"],
    ["an uncompressed IPv6 address", "http://[0:0:0:0:0:0:0:1]:3000/mcp", "http://[::1]:3000/mcp"],
  ])("rejects %s for the canonical loopback resource", (_label, aud, configured) => {
    expect(new AudienceMatcher([configured]).matches(aud)).toBe(false);
  });

  it("still matches an IPv6 loopback resource with an uppercase scheme and one trailing slash", () => {
    expect(new AudienceMatcher(["http://[::1]:3000/mcp"]).matches("HTTP://[::1]:3000/mcp/")).toBe(true);
  });

  it("treats the http default port as equivalent for http resources", () => {
    const http = new AudienceMatcher(["http://127.0.0.1/mcp"]);
    expect(http.matches("http://127.0.0.1:80/mcp")).toBe(true);
    expect(http.matches("http://127.0.0.1:443/mcp")).toBe(false);
  });

  it("normalises the configured audience too", () => {
    const configured = new AudienceMatcher(["HTTPS://MCP.EXAMPLE.COM:443/mcp/"]);
    expect(configured.matches(RESOURCE)).toBe(true);
    expect(configured.matches("https://mcp.example.com/mcp//")).toBe(false);
  });

  it("matches a root resource with or without its slash", () => {
    const root = new AudienceMatcher(["https://mcp.example.com"]);
    expect(root.matches("https://mcp.example.com/")).toBe(true);
    expect(root.matches("https://MCP.example.com")).toBe(true);
    expect(root.matches("https://mcp.example.com//")).toBe(false);
    expect(root.matches("https://mcp.example.com/mcp")).toBe(false);
  });

  it("accepts an array that contains the resource in any accepted form", () => {
    expect(matcher.matches(["https://other.example.com", RESOURCE])).toBe(true);
    expect(matcher.matches(["api://x", "HTTPS://MCP.EXAMPLE.COM/mcp/"])).toBe(true);
  });

  it("rejects arrays without the resource", () => {
    expect(matcher.matches([])).toBe(false);
    expect(matcher.matches(["https://other.example.com/mcp", "https://mcp.example.com/mcp//"])).toBe(false);
    expect(matcher.matches([123, null, { toString: () => RESOURCE }])).toBe(false);
    expect(matcher.matches([[RESOURCE]])).toBe(false);
  });

  it.each<[string, unknown]>([
    ["undefined", undefined],
    ["null", null],
    ["a number", 1],
    ["an object", { aud: RESOURCE }],
    ["a URL object", new URL(RESOURCE)],
  ])("rejects %s", (_label, aud) => {
    expect(matcher.matches(aud)).toBe(false);
  });

  it("compares non-URL audiences exactly", () => {
    const ids = new AudienceMatcher(["api://default", "8f3c2b1a-0000-4000-8000-123456789abc"]);
    expect(ids.matches("api://default")).toBe(true);
    expect(ids.matches("8f3c2b1a-0000-4000-8000-123456789abc")).toBe(true);
    expect(ids.matches("API://default")).toBe(false);
    expect(ids.matches("api://default/")).toBe(false);
    expect(ids.matches("api://DEFAULT")).toBe(false);
    expect(ids.matches("8F3C2B1A-0000-4000-8000-123456789ABC")).toBe(false);
    expect(ids.matches(" api://default")).toBe(false);
  });

  it("compares non-http audiences with @ or # exactly", () => {
    const ids = new AudienceMatcher(["api://default#x", "urn:user@example"]);
    expect(ids.matches("api://default#x")).toBe(true);
    expect(ids.matches("urn:user@example")).toBe(true);
    expect(ids.matches("api://default")).toBe(false);
  });

  it("matches any of several configured audiences", () => {
    const several = new AudienceMatcher([RESOURCE, "api://default"]);
    expect(several.matches("api://default")).toBe(true);
    expect(several.matches("https://mcp.example.com/mcp/")).toBe(true);
    expect(several.matches("api://other")).toBe(false);
  });
});

describe("isLoopbackHost", () => {
  it.each(["localhost", "127.0.0.1", "127.255.0.9", "[::1]", "::1"])("%s is loopback", (host) => {
    expect(isLoopbackHost(host)).toBe(true);
  });

  it.each([
    "example.com",
    "localhost.example.com",
    "10.0.0.1",
    "0.0.0.0",
    "127.0.0",
    "128.0.0.1",
    "[::2]",
    "notlocalhost",
    // Subdomains of localhost: RFC 6761 section 6.3 lets resolvers answer them with loopback,
    // but not every resolver does, and the name may go to DNS. Only the documented hosts count.
    "app.localhost",
    "keys.evil.localhost",
    "localhost.",
    // Public names that merely contain a loopback address: plain http to them is never tolerated.
    "127.0.0.1.evil.example",
    "127.0.0.1.nip.io",
    "evil.127.0.0.1",
    "x127.0.0.1",
    "1127.0.0.1",
    "127.0.0.1x",
    "127.0.0.1234",
  ])("%s is not loopback", (host) => {
    expect(isLoopbackHost(host)).toBe(false);
  });

  it("keeps start-up from accepting plain http to a public host named like a loopback address", () => {
    const start = (resource: string) => () =>
      resolveOptions({ resource, authorizationServers: ["https://auth.example.com"] });
    expect(start("http://127.0.0.1:3000/mcp")).not.toThrow();
    expect(start("http://127.0.0.1.evil.example/mcp")).toThrow(/plain http on a non-loopback host/);
  });

  it("refuses a plain http jwksUri under localhost without allowInsecureHttp", () => {
    const start = (allowInsecureHttp: boolean) => () =>
      resolveOptions({
        resource: "https://mcp.example.com/mcp",
        authorizationServers: ["https://auth.example.com"],
        validation: { jwksUri: "http://keys.evil.localhost/jwks" },
        allowInsecureHttp,
      });
    expect(start(false)).toThrow(/plain http on a non-loopback host/);
    expect(start(true)).not.toThrow();
  });
});

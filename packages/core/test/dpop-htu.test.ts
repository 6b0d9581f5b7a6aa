/**
 * `htu` normalization (RFC 9449 section 4.3 point 9; RFC 3986 sections 6.2.2 and 6.2.3) and
 * the request URI built from the configured resource, never from the client.
 */
import { describe, expect, it } from "@jest/globals";
import { HtuMatcher, normalizeHtu } from "../src/internal.js";

describe("normalizeHtu", () => {
  it.each([
    ["https://mcp.example.com/mcp", "https://mcp.example.com/mcp"],
    ["HTTPS://MCP.EXAMPLE.COM/mcp", "https://mcp.example.com/mcp"],
    ["https://mcp.example.com:443/mcp", "https://mcp.example.com/mcp"],
    ["http://mcp.example.com:80/mcp", "http://mcp.example.com/mcp"],
    ["https://mcp.example.com:80/mcp", "https://mcp.example.com:80/mcp"],
    ["https://mcp.example.com:/mcp", "https://mcp.example.com/mcp"],
    ["https://mcp.example.com:0443/mcp", "https://mcp.example.com/mcp"],
    ["https://mcp.example.com", "https://mcp.example.com/"],
    ["https://mcp.example.com?x=1", "https://mcp.example.com/"],
    ["https://mcp.example.com/mcp?x=1#f", "https://mcp.example.com/mcp"],
    ["https://mcp.example.com/%7euser/%2fa%2Fb", "https://mcp.example.com/~user/%2Fa%2Fb"],
    ["https://mcp.example.com/a/./b/../c", "https://mcp.example.com/a/c"],
    ["https://mcp.example.com/a/b/..", "https://mcp.example.com/a/"],
    ["https://mcp.example.com/../a", "https://mcp.example.com/a"],
    ["https://mcp.example.com/%2E%2E/a", "https://mcp.example.com/a"],
    ["https://mcp.example.com//a", "https://mcp.example.com//a"],
    ["http://[::1]:3000/mcp", "http://[::1]:3000/mcp"],
    ["http://[::A]/mcp", "http://[::a]/mcp"],
    ["http://127.0.0.1:3000/mcp", "http://127.0.0.1:3000/mcp"],
  ])("%s → %s", (input, expected) => {
    expect(normalizeHtu(input)).toBe(expected);
  });

  it.each([
    "/mcp",
    "//mcp.example.com/mcp",
    "ftp://mcp.example.com/mcp",
    "https://user@mcp.example.com/mcp",
    "https://user:pw@mcp.example.com/mcp",
    "https://mcp.example.com@evil.example/mcp",
    "https://mcp.example.com:443@evil.example/mcp",
    "https://mcp.example.com:99999/mcp",
    "https://mcp.example.com:x/mcp",
    "https://mcp.example.com/m cp",
    "https://mcp.example.com/caf\u00e9",
    "https://mcp.example.com/a%zz",
    "https://mcp.example.com\\@evil.example/mcp",
    "https://%6Dcp.example.com/mcp",
    "https:///mcp",
    "",
  ])("%j is no comparable URI", (input) => {
    expect(normalizeHtu(input)).toBeUndefined();
  });
});

describe("HtuMatcher", () => {
  const matcher = new HtuMatcher(new URL("https://MCP.example.com:443/mcp"));

  it("builds the request URI from the resource's origin and the target's path, without the query", () => {
    expect(matcher.expected("/mcp")).toBe("https://mcp.example.com/mcp");
    expect(matcher.expected("/mcp?x=1")).toBe("https://mcp.example.com/mcp");
    expect(matcher.expected("/other/path")).toBe("https://mcp.example.com/other/path");
    expect(matcher.expected("http://evil.example:8080/mcp?x")).toBe("https://mcp.example.com/mcp");
    expect(matcher.expected("http://evil.example")).toBe("https://mcp.example.com/");
    expect(matcher.expected("//evil.example/mcp")).toBe("https://mcp.example.com//evil.example/mcp");
  });

  it.each(["*", "mcp.example.com:443", "", "mcp"])("gives no URI for the request target %j", (target) => {
    expect(matcher.expected(target)).toBeUndefined();
    expect(matcher.matches("https://mcp.example.com/mcp", target)).toBe(false);
  });

  it("matches an exactly spelled htu and a differently spelled one alike", () => {
    expect(matcher.matches("https://mcp.example.com/mcp", "/mcp")).toBe(true);
    expect(matcher.matches("HTTPS://mcp.EXAMPLE.com:443/mcp?q", "/mcp")).toBe(true);
    expect(matcher.matches("https://mcp.example.com/mcp", "/mcp/")).toBe(false);
  });

  it("keeps working past its memo's bound, which holds at most 64 request targets", () => {
    const bounded = new HtuMatcher(new URL("https://mcp.example.com/mcp"));
    const sizes: number[] = [];
    for (let i = 0; i < 200; i++) {
      expect(bounded.matches(`https://mcp.example.com/p${i}`, `/p${i}`)).toBe(true);
      sizes.push(bounded.rememberedTargets);
    }
    expect(bounded.matches("https://mcp.example.com/p1", "/p2")).toBe(false);
    // Full at 64, then started over: 64 targets, never 65, and the memo cleared only when full.
    expect(Math.max(...sizes)).toBe(64);
    expect(sizes.slice(0, 64)).toEqual(Array.from({ length: 64 }, (_, i) => i + 1));
    expect(sizes[64]).toBe(1);
  });

  it("takes an absolute-form target only from its start: no authority found further in", () => {
    // Read from anywhere, `*https://mcp.example.com/mcp` would give the path `/m/mcp`.
    expect(matcher.expected("*https://mcp.example.com/mcp")).toBeUndefined();
    expect(matcher.matches("https://mcp.example.com/m/mcp", "*https://mcp.example.com/mcp")).toBe(false);
  });

  it("never matches when the request has no URI, even an htu that is none either", () => {
    expect(matcher.matches("not a URI", "*")).toBe(false);
    expect(matcher.matches("", "mcp")).toBe(false);
  });

  it("accepts the highest port, 65535, and refuses the next", () => {
    const high = new HtuMatcher(new URL("https://mcp.example.com:65535/mcp"));
    expect(high.matches("https://mcp.example.com:65535/mcp", "/mcp")).toBe(true);
    expect(normalizeHtu("https://mcp.example.com:65535/mcp")).toBe("https://mcp.example.com:65535/mcp");
    expect(normalizeHtu("https://mcp.example.com:65536/mcp")).toBeUndefined();
  });

  it("uses a non-default port of the resource", () => {
    const local = new HtuMatcher(new URL("http://localhost:3000/mcp"));
    expect(local.matches("http://localhost:3000/mcp", "/mcp")).toBe(true);
    expect(local.matches("http://localhost/mcp", "/mcp")).toBe(false);
  });
});

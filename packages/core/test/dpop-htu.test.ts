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

  it("keeps working past its memo's bound", () => {
    for (let i = 0; i < 200; i++) expect(matcher.matches(`https://mcp.example.com/p${i}`, `/p${i}`)).toBe(true);
    expect(matcher.matches("https://mcp.example.com/p1", "/p2")).toBe(false);
  });

  it("uses a non-default port of the resource", () => {
    const local = new HtuMatcher(new URL("http://localhost:3000/mcp"));
    expect(local.matches("http://localhost:3000/mcp", "/mcp")).toBe(true);
    expect(local.matches("http://localhost/mcp", "/mcp")).toBe(false);
  });
});

import { describe, expect, it } from "@jest/globals";
import { corsResponseHeaders, originAllowList } from "../src/cors-policy.js";
import { isFormMediaType, readsFormBody } from "../src/request-body.js";

describe("originAllowList", () => {
  it("allows the resource's own origin and the listed ones, exactly as browsers send them", () => {
    const allowed = originAllowList("https://mcp.example", ["https://app.example"]);
    expect(allowed("https://mcp.example")).toBe(true);
    expect(allowed("https://app.example")).toBe(true);
    for (const origin of ["https://APP.example", "https://app.example/", "null", "", "https://evil.example"])
      expect({ origin, allowed: allowed(origin) }).toEqual({ origin, allowed: false });
  });

  it("allows any origin with *", () => {
    expect(originAllowList("https://mcp.example", "*")("https://evil.example")).toBe(true);
  });
});

describe("corsResponseHeaders", () => {
  it("gives nothing without an Origin", () => {
    for (const origin of [undefined, null, ""]) expect(corsResponseHeaders(origin, true)).toEqual({});
  });

  it("gives a preflight the methods, headers and lifetime, and an actual request the exposed headers only", () => {
    expect(corsResponseHeaders("https://app.example", false)).toEqual({
      "Access-Control-Allow-Origin": "https://app.example",
      Vary: "Origin",
      "Access-Control-Expose-Headers": "WWW-Authenticate,Mcp-Session-Id,Mcp-Protocol-Version,DPoP-Nonce",
    });
    // RFC 9449: a browser DPoP client sends its proof in `DPoP` and reads `DPoP-Nonce`.
    expect(corsResponseHeaders("https://app.example", true)["Access-Control-Allow-Headers"]!.split(",")).toContain(
      "DPoP",
    );
    expect(corsResponseHeaders("https://app.example", true, 60)).toMatchObject({
      "Access-Control-Allow-Methods": "GET,POST,DELETE,OPTIONS",
      "Access-Control-Max-Age": "60",
    });
  });
});

describe("readsFormBody", () => {
  it("reads a form body only when there is an Authorization header to authenticate", () => {
    expect(readsFormBody("Bearer x", "application/x-www-form-urlencoded")).toBe(true);
    expect(readsFormBody("Bearer x", " Application/X-WWW-Form-Urlencoded ; charset=utf-8")).toBe(true);
    expect(readsFormBody(undefined, "application/x-www-form-urlencoded")).toBe(false);
    expect(readsFormBody(null, "application/x-www-form-urlencoded")).toBe(false);
  });

  it("takes only the form media type for a form", () => {
    for (const type of [
      "application/json",
      "text/plain; x=application/x-www-form-urlencoded",
      "multipart/form-data",
      // As long as the form type (33 characters), one letter off: the length is only a fast path.
      "application/x-www-form-urlencodex",
      undefined,
    ])
      expect({ type, form: isFormMediaType(type) }).toEqual({ type, form: false });
  });
});

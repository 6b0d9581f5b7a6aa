/**
 * Token extraction (RFC 6750 section 2): only one `Authorization: Bearer` header is a token
 * source; query and form-body tokens are refused, never used.
 */
import { describe, expect, it } from "@jest/globals";
import {
  extractBearerToken,
  isDpopScheme,
  readAccessToken,
  readBearerToken,
  type TokenRequest,
} from "../src/authorization-header.js";
import { McpOAuthError, type McpOAuthErrorCode } from "../src/errors.js";

const MAX = 100;
const TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln-_~+/==";

function codeOf(request: TokenRequest, max = MAX): McpOAuthErrorCode | "ok" {
  try {
    extractBearerToken(request, max);
    return "ok";
  } catch (error) {
    if (error instanceof McpOAuthError) return error.code;
    throw error;
  }
}

function withHeader(authorization: string | string[] | undefined, extra: Partial<TokenRequest> = {}): TokenRequest {
  return { headers: { authorization }, ...extra };
}

describe("extractBearerToken: the Authorization header", () => {
  it.each(["Bearer", "bearer", "BEARER", "BeArEr"])("accepts the scheme %s case-insensitively", (scheme) => {
    expect(extractBearerToken(withHeader(`${scheme} ${TOKEN}`), MAX)).toBe(TOKEN);
  });

  it("accepts several spaces between scheme and token (1*SP)", () => {
    expect(extractBearerToken(withHeader(`Bearer   ${TOKEN}`), MAX)).toBe(TOKEN);
  });

  it("accepts every b64token character, with trailing =", () => {
    const token = "AZaz09-._~+/==";
    expect(extractBearerToken(withHeader(`Bearer ${token}`), MAX)).toBe(token);
  });

  it("accepts opaque (non-JWT) tokens", () => {
    expect(extractBearerToken(withHeader("Bearer 2YotnFZFEjr1zCsicMWpAA"), MAX)).toBe("2YotnFZFEjr1zCsicMWpAA");
  });

  it.each([
    ["Basic with credentials", "Basic dXNlcjpwYXNz"],
    ["Basic alone", "Basic"],
    ["DPoP", `DPoP ${TOKEN}`],
    ["Digest", 'Digest username="a"'],
    ["a scheme that starts with Bearer", `Bearerx ${TOKEN}`],
  ])("refuses %s as unsupported_scheme", (_label, header) => {
    expect(codeOf(withHeader(header))).toBe("unsupported_scheme");
  });

  it("answers token_missing without an Authorization header", () => {
    expect(codeOf({ headers: {} })).toBe("token_missing");
    expect(codeOf(withHeader(undefined))).toBe("token_missing");
    expect(codeOf(withHeader(""))).toBe("token_missing");
    expect(codeOf({ headers: { "x-authorization": `Bearer ${TOKEN}` } })).toBe("token_missing");
  });

  it.each([
    ["Bearer with no token", "Bearer"],
    ["Bearer and a space", "Bearer "],
    ["Bearer and spaces only", "Bearer    "],
    ["a token with an inner space", "Bearer abc def"],
    ["a token with a comma", "Bearer abc,def"],
    ["a quoted token", 'Bearer "abc"'],
    ["padding in the middle", "Bearer ab=c"],
    ["only padding", "Bearer ==="],
    ["no space after the scheme", "Bearer\tabc"],
    ["a scheme with an invalid character", `Bea(rer ${TOKEN}`],
    ["a leading space", ` Bearer ${TOKEN}`],
    ["auth-params instead of a token", 'Bearer realm="x"'],
  ])("refuses %s as malformed_authorization_header", (_label, header) => {
    expect(codeOf(withHeader(header))).toBe("malformed_authorization_header");
  });

  it.each([
    ["é inside", "Bearer ab\u00e9c"],
    ["a non-ASCII letter only", "Bearer \u00e9"],
    ["emoji", "Bearer abc\u{1F600}"],
    ["a no-break space inside", "Bearer ab\u00a0c"],
    ["a no-break space before the token", "Bearer \u00a0abc"],
    ["a no-break space after the token", "Bearer abc\u00a0"],
  ])("refuses non-ASCII (%s) as malformed_authorization_header", (_label, header) => {
    expect(codeOf(withHeader(header))).toBe("malformed_authorization_header");
  });

  it.each([
    ["NUL inside", "Bearer ab\x00c"],
    ["DEL inside", "Bearer ab\x7fc"],
    ["LF inside", "Bearer ab\nc"],
    ["CR LF inside", "Bearer ab\r\nc"],
    ["a tab inside", "Bearer ab\tc"],
    ["a tab before the token", "Bearer \tabc"],
    ["a trailing LF", "Bearer abc\n"],
  ])("refuses control characters (%s) as malformed_authorization_header", (_label, header) => {
    expect(codeOf(withHeader(header))).toBe("malformed_authorization_header");
  });

  it("refuses a token longer than maxTokenLength as token_too_large, and accepts exactly the maximum", () => {
    const exact = "a".repeat(MAX);
    expect(extractBearerToken(withHeader(`Bearer ${exact}`), MAX)).toBe(exact);
    expect(codeOf(withHeader(`Bearer ${exact}a`))).toBe("token_too_large");
  });

  it("allows up to 64 characters of scheme and spaces around a token of the largest length", () => {
    const token = "a".repeat(MAX);
    expect(extractBearerToken(withHeader(`Bearer${" ".repeat(58)}${token}`), MAX)).toBe(token);
    expect(codeOf(withHeader(`Bearer${" ".repeat(59)}${token}`))).toBe("token_too_large");
  });

  it("readBearerToken refuses the scheme without a token itself (callers look the token up before the b64token check)", () => {
    expect(() => readBearerToken(withHeader("Bearer"), MAX)).toThrow(
      expect.objectContaining({ code: "malformed_authorization_header" }),
    );
  });

  it("refuses an oversized header before parsing it", () => {
    expect(codeOf(withHeader(`Basic ${"a".repeat(MAX + 64)}`))).toBe("token_too_large");
    expect(codeOf(withHeader(`Bearer ${"a b".repeat(MAX)}`))).toBe("token_too_large");
  });
});

describe("extractBearerToken: more than one Authorization header", () => {
  it("refuses two headers seen in rawHeaders (Node keeps only the first in headers)", () => {
    const request: TokenRequest = {
      headers: { authorization: `Bearer ${TOKEN}` },
      rawHeaders: ["Host", "mcp.example.com", "Authorization", `Bearer ${TOKEN}`, "authorization", "Bearer other"],
    };
    expect(codeOf(request)).toBe("multiple_authorization_headers");
  });

  it("counts header names case-insensitively", () => {
    const request: TokenRequest = {
      headers: { authorization: `Bearer ${TOKEN}` },
      rawHeaders: ["AUTHORIZATION", `Bearer ${TOKEN}`, "AuThOrIzAtIoN", `Bearer ${TOKEN}`],
    };
    expect(codeOf(request)).toBe("multiple_authorization_headers");
  });

  it("refuses an Authorization header merged into an array", () => {
    expect(codeOf(withHeader([`Bearer ${TOKEN}`, `Bearer ${TOKEN}`]))).toBe("multiple_authorization_headers");
  });

  it("counts only Authorization: other 13-character names (Cache-Control, Accept-Ranges) are not it", () => {
    const request: TokenRequest = {
      headers: { authorization: `Bearer ${TOKEN}` },
      rawHeaders: [
        "Cache-Control",
        "no-cache",
        "Authorization",
        `Bearer ${TOKEN}`,
        "accept-ranges",
        "bytes",
        "Authorisation",
        "x",
      ],
    };
    expect(extractBearerToken(request, MAX)).toBe(TOKEN);
  });

  it("accepts one Authorization header in rawHeaders, and ignores header values named authorization", () => {
    const request: TokenRequest = {
      headers: { authorization: `Bearer ${TOKEN}` },
      rawHeaders: ["Authorization", `Bearer ${TOKEN}`, "X-Note", "authorization", "Proxy-Authorization", "Basic x"],
    };
    expect(extractBearerToken(request, MAX)).toBe(TOKEN);
  });
});

describe("extractBearerToken: the query string", () => {
  it.each([
    "/mcp?access_token=abc",
    "/mcp?foo=1&access_token=abc",
    "/mcp?access_token",
    "/mcp?access_token=",
    "/mcp?a=1&access_token=abc&b=2",
    "/mcp?access%5Ftoken=abc",
    "/?access_token=abc",
  ])("refuses %s without a header as token_in_query", (url) => {
    expect(codeOf({ headers: {}, url })).toBe("token_in_query");
  });

  it.each(["/mcp?access_token=abc", `/mcp?access_token=${TOKEN}`, "/mcp?x=1&access_token=abc"])(
    "refuses %s even with a valid header as token_in_query",
    (url) => {
      expect(codeOf(withHeader(`Bearer ${TOKEN}`, { url }))).toBe("token_in_query");
    },
  );

  it.each([
    "/mcp",
    "/mcp?",
    "/mcp?my_access_token=abc",
    "/mcp?access_tokens=abc",
    "/mcp?note=access_token",
    "/access_token/mcp",
    // In the path, not a query: `&` only separates parameters after `?`.
    "/x&access_token=abc",
    "http://mcp.example.com/x&access_token=abc",
  ])("does not mistake %s for a query token", (url) => {
    expect(extractBearerToken(withHeader(`Bearer ${TOKEN}`, { url }), MAX)).toBe(TOKEN);
  });
});

describe("extractBearerToken: the body", () => {
  const FORM = "application/x-www-form-urlencoded";

  it.each<[string, string, unknown]>([
    ["a parsed form body", FORM, { access_token: "abc" }],
    ["a form body with a charset", `${FORM}; charset=utf-8`, { access_token: "abc" }],
    ["an uppercase content type", "Application/X-WWW-Form-Urlencoded", { access_token: "abc" }],
    ["a raw form string", FORM, "a=1&access_token=abc"],
    ["a null-prototype form body", FORM, Object.assign(Object.create(null) as object, { access_token: "abc" })],
  ])("refuses %s with access_token as token_in_body", (_label, contentType, body) => {
    expect(codeOf({ headers: { "content-type": contentType }, body })).toBe("token_in_body");
    expect(codeOf({ headers: { "content-type": contentType, authorization: `Bearer ${TOKEN}` }, body })).toBe(
      "token_in_body",
    );
  });

  it("does not refuse a JSON body that happens to hold access_token", () => {
    const request: TokenRequest = {
      headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
      body: {
        jsonrpc: "2.0",
        id: 1,
        method: "tools/call",
        params: { name: "x", arguments: { access_token: "abc" } },
        access_token: "abc",
      },
    };
    expect(extractBearerToken(request, MAX)).toBe(TOKEN);
  });

  it("does not refuse a form body without access_token", () => {
    const request: TokenRequest = {
      headers: { "content-type": FORM, authorization: `Bearer ${TOKEN}` },
      body: { note: "access_token" },
    };
    expect(extractBearerToken(request, MAX)).toBe(TOKEN);
  });

  it.each<[string, unknown]>([
    ["no body", undefined],
    ["a null body", null],
    ["a number", 5],
    ["an empty string", ""],
  ])("answers a form content type with %s by the header alone (never a TypeError)", (_label, body) => {
    expect(codeOf({ headers: { "content-type": FORM }, body })).toBe("token_missing");
    expect(extractBearerToken({ headers: { "content-type": FORM, authorization: `Bearer ${TOKEN}` }, body }, MAX)).toBe(
      TOKEN,
    );
  });

  it("does not refuse a form body whose access_token is only inherited", () => {
    const body = Object.create({ access_token: "abc" }) as object;
    const request: TokenRequest = { headers: { "content-type": FORM, authorization: `Bearer ${TOKEN}` }, body };
    expect(extractBearerToken(request, MAX)).toBe(TOKEN);
  });
});

describe("extractBearerToken: precedence", () => {
  it("reports duplicate headers before a query token", () => {
    const request: TokenRequest = {
      headers: { authorization: `Bearer ${TOKEN}` },
      rawHeaders: ["Authorization", "Bearer a", "Authorization", "Bearer b"],
      url: "/mcp?access_token=abc",
    };
    expect(codeOf(request)).toBe("multiple_authorization_headers");
  });

  it("reports a query token before a malformed header", () => {
    expect(codeOf(withHeader("Bearer", { url: "/mcp?access_token=abc" }))).toBe("token_in_query");
  });

  it("never puts the token in the error message", () => {
    const secret = "c2VjcmV0LXRva2VuLXZhbHVl";
    for (const request of [
      withHeader(`Bearer ${secret} x`),
      withHeader(`Bearer ${secret}`, { url: `/mcp?access_token=${secret}` }),
      withHeader(`Bearer ${secret}${"a".repeat(MAX)}`),
      withHeader(`Basic ${secret}`),
    ]) {
      try {
        extractBearerToken(request, MAX);
        throw new Error("expected a refusal");
      } catch (error) {
        expect(error).toBeInstanceOf(McpOAuthError);
        expect((error as Error).message).not.toContain(secret);
      }
    }
  });
});

describe("readAccessToken: the DPoP scheme (RFC 9449 section 7.1)", () => {
  const read = (authorization: string | string[] | undefined, bearer = true): string => {
    try {
      const { scheme, token } = readAccessToken(withHeader(authorization), MAX, bearer);
      return `${scheme} ${token}`;
    } catch (error) {
      if (error instanceof McpOAuthError) return error.code;
      throw error;
    }
  };

  it.each(["DPoP", "dpop", "DPOP", "dPoP"])("accepts the scheme %s case-insensitively, as DPoP", (scheme) => {
    expect(read(`${scheme} ${TOKEN}`)).toBe(`DPoP ${TOKEN}`);
    expect(read(`${scheme}   ${TOKEN}`, false)).toBe(`DPoP ${TOKEN}`);
  });

  it("accepts Bearer beside DPoP, and refuses it where DPoP is required", () => {
    expect(read(`Bearer ${TOKEN}`)).toBe(`Bearer ${TOKEN}`);
    expect(read(`bearer ${TOKEN}`)).toBe(`Bearer ${TOKEN}`);
    expect(read(`Bearer ${TOKEN}`, false)).toBe("dpop_scheme_required");
  });

  it("refuses other schemes, and DPoP without a token, as for Bearer", () => {
    // HOBA (RFC 7486): another scheme of four letters.
    for (const header of [`DPoPx ${TOKEN}`, `DPo ${TOKEN}`, `Basic ${TOKEN}`, "DPoP-x y", `HOBA ${TOKEN}`]) {
      expect(read(header)).toBe("unsupported_scheme");
      expect(read(header, false)).toBe("unsupported_scheme");
    }
    expect(read("DPoP")).toBe("malformed_authorization_header");
    expect(read("DPoP ")).toBe("malformed_authorization_header");
    expect(read(undefined)).toBe("token_missing");
    expect(read(undefined, false)).toBe("token_missing");
    expect(read([`DPoP ${TOKEN}`, `DPoP ${TOKEN}`])).toBe("multiple_authorization_headers");
  });

  it("keeps the checks before the scheme: a query token, a long header", () => {
    expect(
      (() => {
        try {
          readAccessToken(withHeader(`DPoP ${TOKEN}`, { url: "/mcp?access_token=x" }), MAX, true);
          return "ok";
        } catch (error) {
          return (error as McpOAuthError).code;
        }
      })(),
    ).toBe("token_in_query");
    expect(read(`DPoP ${"a".repeat(MAX + 1)}`)).toBe("token_too_large");
  });

  it("readBearerToken still refuses the DPoP scheme (DPoP off)", () => {
    expect(() => readBearerToken(withHeader(`DPoP ${TOKEN}`), MAX)).toThrow(
      expect.objectContaining({ code: "unsupported_scheme" }),
    );
  });

  it("isDpopScheme: the DPoP scheme followed by a space, any case, on one string value", () => {
    expect(isDpopScheme(`DPoP ${TOKEN}`)).toBe(true);
    expect(isDpopScheme(`dpop ${TOKEN}`)).toBe(true);
    for (const value of [
      `Bearer ${TOKEN}`,
      "DPoP",
      `DPoPx ${TOKEN}`,
      `DPo ${TOKEN}`,
      `HOBA ${TOKEN}`,
      // One letter off at each place (to a code that differs outside the case bit too): not DPoP.
      `TPoP ${TOKEN}`,
      `DQoP ${TOKEN}`,
      `DP_P ${TOKEN}`,
      `DPoR ${TOKEN}`,
      `DP\u043eP ${TOKEN}`,
      undefined,
      [`DPoP ${TOKEN}`],
    ])
      expect(isDpopScheme(value)).toBe(false);
  });
});

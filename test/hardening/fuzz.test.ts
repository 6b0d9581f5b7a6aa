/**
 * Property-based fuzzing (fast-check) of the two places that touch raw header text: the
 * `Authorization` parser (RFC 6750 section 2.1) and the `WWW-Authenticate` builder
 * (RFC 6750 section 3, RFC 9728 section 5.1). The challenge must read back the same with
 * a strict RFC 7235 parser and with the MCP SDK v1 client's own parser, and Node must be
 * willing to send it.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { createServer, validateHeaderValue } from "node:http";
import type { AddressInfo } from "node:net";
import { extractWWWAuthenticateParams, extractResourceMetadataUrl } from "@modelcontextprotocol/sdk/client/auth.js";
import { ERROR_RESPONSES, McpOAuthError, type McpOAuthErrorCode, type TokenRequest } from "@mcp-oauth/core";
import { answerFor, buildChallenge, extractBearerToken, isValidScopeToken } from "@mcp-oauth/core/internal";
import { mcpOAuth } from "@mcp-oauth/express";
import { parseChallenge } from "../helpers/challenge-parser.js";
import { startTestAuthorizationServer, type TestAuthorizationServer } from "../helpers/authorization-server.js";
import { watchUnhandledRejections, type RejectionWatch } from "./support.js";

const RUNS = { numRuns: 300 };

/** The codes the header parser may throw: its whole contract (RFC 6750 sections 2 and 3.1). */
const EXTRACTION_CODES: ReadonlySet<McpOAuthErrorCode> = new Set([
  "token_missing",
  "unsupported_scheme",
  "malformed_authorization_header",
  "multiple_authorization_headers",
  "token_in_query",
  "token_in_body",
  "token_too_large",
]);

// RFC 6750 section 2.1, written out independently of the library's regex:
// b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const B64_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/";
function isB64Token(value: string): boolean {
  let i = 0;
  while (i < value.length && B64_CHARS.includes(value[i]!)) i++;
  if (i === 0) return false;
  while (i < value.length && value[i] === "=") i++;
  return i === value.length;
}

const validToken = fc
  .tuple(
    fc.string({ unit: fc.constantFrom(...B64_CHARS), minLength: 1, maxLength: 300 }),
    fc.integer({ min: 0, max: 3 }),
  )
  .map(([body, pad]) => body + "=".repeat(pad));

/** Characters that matter to a header parser, mixed with ordinary ones, plus the whole of Unicode. */
const hostileChar = fc.oneof(
  fc.constantFrom(
    " ",
    "\t",
    "\r",
    "\n",
    "\0",
    "\x0b",
    "\x7f",
    "\u00a0",
    "\u00e9",
    "\u00ff",
    "\u20ac",
    "\u{1F600}",
    "\ufeff",
    "\u2028",
    '"',
    "\\",
    ",",
    "=",
    ";",
    ":",
    "'",
    "`",
    "<",
    ">",
    "%",
    "?",
    "&",
    "#",
  ),
  // The names of the challenge's own parameters, so that forging one is tried often.
  fc.constantFrom("error=", "scope=", "resource_metadata=", 'error="', ' scope="x"', ", error_description="),
  fc.constantFrom(...B64_CHARS),
  fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
);
const hostileString = fc.string({ unit: hostileChar, maxLength: 80 });

/** A token that is valid, or valid with one hostile character spliced in, or anything at all. */
const candidateToken = fc.oneof(
  validToken,
  fc.tuple(validToken, hostileChar, fc.nat()).map(([t, c, at]) => {
    const i = at % (t.length + 1);
    return t.slice(0, i) + c + t.slice(i);
  }),
  hostileString,
);

const randomCase = (word: string): fc.Arbitrary<string> =>
  fc
    .array(fc.boolean(), { minLength: word.length, maxLength: word.length })
    .map((upper) => [...word].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join(""));

function codeThrown(run: () => unknown): McpOAuthErrorCode | "ok" {
  try {
    run();
    return "ok";
  } catch (error) {
    // Anything but an McpOAuthError would become a 5xx (or a crash) in an adapter.
    if (!(error instanceof McpOAuthError))
      throw new Error(`threw a ${(error as Error)?.constructor?.name}: ${String(error)}`, { cause: error });
    return error.code;
  }
}

describe("extractBearerToken", () => {
  const request: fc.Arbitrary<TokenRequest> = fc.record(
    {
      headers: fc.record(
        {
          authorization: fc.oneof(
            fc.constant(undefined),
            fc
              .tuple(
                fc.oneof(
                  randomCase("bearer"),
                  fc.constantFrom("Basic", "Digest", "", "Bearer\t", "Bearer,"),
                  hostileString,
                ),
                fc.string({ unit: fc.constantFrom(" ", "\t", ""), maxLength: 3 }),
                candidateToken,
              )
              .map(([scheme, sep, token]) => `${scheme}${sep}${token}`),
            hostileString,
            fc.array(
              candidateToken.map((t) => `Bearer ${t}`),
              { minLength: 0, maxLength: 3 },
            ),
          ),
          "content-type": fc.constantFrom(
            undefined,
            "application/x-www-form-urlencoded",
            "APPLICATION/X-WWW-FORM-URLENCODED; charset=utf-8",
            "application/json",
            "text/plain",
          ),
        },
        { requiredKeys: [] },
      ),
      rawHeaders: fc.option(
        fc
          .array(
            fc.tuple(
              fc.constantFrom(
                "Authorization",
                "AUTHORIZATION",
                "authorization",
                "Authorisation",
                "X-Authorization",
                "Host",
              ),
              hostileString,
            ),
          )
          .map((pairs) => pairs.flat()),
        { nil: undefined },
      ),
      url: fc.option(
        fc.oneof(
          hostileString.map((q) => `/mcp?${q}`),
          fc
            .tuple(
              fc.constantFrom("access_token", "access%5Ftoken", "ACCESS_TOKEN", "x_access_token", "access_token_x"),
              hostileString,
            )
            .map(([name, v]) => `/mcp?a=1&${name}=${v}`),
          hostileString,
        ),
        { nil: undefined },
      ),
      body: fc.oneof(
        fc.constant(undefined),
        hostileString,
        hostileString.map((v) => `access_token=${v}`),
        fc.dictionary(fc.constantFrom("access_token", "a", "__proto__", "constructor"), fc.anything()),
        fc.anything(),
      ),
    },
    { requiredKeys: ["headers"] },
  );

  it("never throws anything but an McpOAuthError whose code is in the error table, and returns only b64tokens", () => {
    fc.assert(
      fc.property(request, fc.integer({ min: 1, max: 400 }), (req, max) => {
        let token: string | undefined;
        const code = codeThrown(() => {
          token = extractBearerToken(req, max);
        });
        if (code === "ok") {
          expect(isB64Token(token!)).toBe(true);
          expect(token!.length).toBeLessThanOrEqual(max);
          expect(req.headers["authorization"]).toEqual(expect.stringContaining(token!));
        } else {
          expect(Object.keys(ERROR_RESPONSES)).toContain(code);
          expect(EXTRACTION_CODES.has(code)).toBe(true);
        }
      }),
      RUNS,
    );
  });

  it("accepts exactly the RFC 6750 b64tokens after `Bearer 1*SP`", () => {
    fc.assert(
      fc.property(randomCase("bearer"), candidateToken, (scheme, candidate) => {
        // 1*SP separates scheme and token; what follows must be one b64token, nothing else.
        const expected = candidate.replace(/^ +/, "");
        const code = codeThrown(() => {
          expect(extractBearerToken({ headers: { authorization: `${scheme} ${candidate}` } }, 8192)).toBe(expected);
        });
        expect(code).toBe(isB64Token(expected) ? "ok" : "malformed_authorization_header");
      }),
      RUNS,
    );
  });

  it("round-trips a valid token in any scheme case, with any number of spaces, next to harmless query and body", () => {
    fc.assert(
      fc.property(validToken, randomCase("bearer"), fc.integer({ min: 1, max: 4 }), (token, scheme, spaces) => {
        const req: TokenRequest = {
          headers: {
            authorization: `${scheme}${" ".repeat(spaces)}${token}`,
            "content-type": "application/x-www-form-urlencoded",
          },
          rawHeaders: ["Host", "h", "Authorization", `${scheme} ${token}`],
          url: "/mcp?token=x&access=1",
          body: "a=1&token=2",
        };
        expect(extractBearerToken(req, 8192)).toBe(token);
      }),
      RUNS,
    );
  });

  it("refuses a token longer than the limit as token_too_large, and accepts one exactly at the limit", () => {
    fc.assert(
      fc.property(
        validToken.filter((t) => t.length > 1),
        (token) => {
          const req = { headers: { authorization: `Bearer ${token}` } };
          expect(codeThrown(() => extractBearerToken(req, token.length - 1))).toBe("token_too_large");
          expect(extractBearerToken(req, token.length)).toBe(token);
        },
      ),
      RUNS,
    );
  });
});

/** What a value reads as after a round trip: control characters other than HTAB are dropped. */
// What survives in a challenge: visible ASCII, space and HTAB (Node refuses anything above
// U+00FF in a header; control characters would break it).
// eslint-disable-next-line no-control-regex
const withoutControls = (value: string): string => value.replace(/[^\x09\x20-\x7E]/g, "");

/** A header Node's http module refuses throws at setHeader time, inside the adapter. */
function nodeAccepts(header: string): boolean {
  try {
    validateHeaderValue("WWW-Authenticate", header);
    return true;
  } catch {
    return false;
  }
}

/** The SDK v1 client reads the challenge from a fetch Response. */
function sdkRead(header: string): {
  resourceMetadataUrl?: URL;
  scope?: string;
  error?: string;
  legacyUrl: URL | undefined;
} {
  const res = new Response(null, { status: 401, headers: { "WWW-Authenticate": header } });
  return { ...extractWWWAuthenticateParams(res), legacyUrl: extractResourceMetadataUrl(res) };
}

// RFC 6749 section 3.3 scope-token: %x21 / %x23-5B / %x5D-7E. Without "=": the SDK v1 parser
// looks for `name=` anywhere in the header (a regular expression, not a tokenizer), so a
// scope literally containing `error=` would fool that client whatever a server did.
const scopeToken = fc.string({
  unit: fc.constantFrom(
    ...[..."!#$%&'()*+,-./0123456789:;<>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~"],
  ),
  minLength: 1,
  maxLength: 20,
});
const metadataUrl = fc
  .webUrl({ withQueryParameters: true, withFragments: false })
  .filter((u) => !u.includes("="))
  .map((u) => `${new URL(u).origin}/.well-known/oauth-protected-resource${new URL(u).pathname.replace(/\/$/, "")}`);

describe("buildChallenge and answerFor", () => {
  it("always parse back with the strict RFC 7235 parser: exactly the parameters given, values intact but for unsendable characters", () => {
    fc.assert(
      fc.property(
        hostileString,
        hostileString,
        fc.array(hostileString, { maxLength: 4 }),
        hostileString,
        fc.boolean(),
        (error, description, scopes, metadata, withError) => {
          const header = buildChallenge({
            resourceMetadata: metadata,
            scopes,
            ...(withError ? { error, errorDescription: description } : {}),
          });
          const { scheme, params } = parseChallenge(header);
          expect(scheme).toBe("Bearer");
          const expected: Record<string, string> = { resource_metadata: metadata };
          if (withError) Object.assign(expected, { error, error_description: description });
          // Only RFC 6749 scope tokens are offered in a challenge.
          const offered = scopes.filter(isValidScopeToken);
          if (offered.length > 0) expected["scope"] = offered.join(" ");
          expect(Object.keys(params).sort()).toEqual(Object.keys(expected).sort());
          for (const [name, value] of Object.entries(expected)) expect(params[name]).toBe(withoutControls(value));
        },
      ),
      RUNS,
    );
  });

  it("always give a value node:http accepts (validateHeaderValue), whatever the scopes and descriptions contain", () => {
    fc.assert(
      fc.property(
        hostileString,
        fc.array(hostileString, { maxLength: 4 }),
        hostileString,
        (description, scopes, metadata) => {
          const header = buildChallenge({
            resourceMetadata: metadata,
            error: "invalid_token",
            errorDescription: description,
            scopes,
          });
          expect({ header, accepted: nodeAccepts(header) }).toEqual({ header, accepted: true });
        },
      ),
      RUNS,
    );
  });

  it("every real answer is read correctly by the MCP SDK v1 client parser (resource_metadata, scope, error)", () => {
    const codes = Object.keys(ERROR_RESPONSES) as McpOAuthErrorCode[];
    fc.assert(
      fc.property(
        fc.constantFrom(...codes),
        metadataUrl,
        fc.uniqueArray(scopeToken, { maxLength: 5 }),
        fc.uniqueArray(scopeToken, { minLength: 1, maxLength: 5 }),
        (code, url, base, needed) => {
          const answer = answerFor(new McpOAuthError(code, "x", { requiredScopes: needed }), {
            resourceMetadataUrl: url,
            requiredScopes: base,
            retryAfterSeconds: 5,
          });
          const spec = ERROR_RESPONSES[code];
          const header = answer.headers["WWW-Authenticate"];
          if (!spec.challenge) {
            expect(header).toBeUndefined();
            return;
          }
          expect(nodeAccepts(header!)).toBe(true);
          const scopes = code === "insufficient_scope" ? needed : base;
          const read = sdkRead(header!);
          expect(read.resourceMetadataUrl?.href).toBe(new URL(url).href);
          expect(read.legacyUrl?.href).toBe(new URL(url).href);
          expect(read.scope).toBe(scopes.length > 0 ? scopes.join(" ") : undefined);
          expect(read.error).toBe(spec.challengeError);
          // And the strict parser agrees.
          expect(parseChallenge(header!).params).toMatchObject({
            resource_metadata: url,
            ...(scopes.length > 0 ? { scope: scopes.join(" ") } : {}),
          });
        },
      ),
      RUNS,
    );
  });

  it("(public buildChallenge) is read correctly by the MCP SDK v1 client parser whatever the error description contains", () => {
    fc.assert(
      fc.property(
        metadataUrl,
        fc.uniqueArray(scopeToken, { minLength: 1, maxLength: 5 }),
        hostileString,
        fc.constantFrom("invalid_token", "invalid_request", "insufficient_scope"),
        (url, scopes, description, error) => {
          const header = buildChallenge({ resourceMetadata: url, error, errorDescription: description, scopes });
          fc.pre(nodeAccepts(header));
          const read = sdkRead(header);
          expect({
            header,
            resourceMetadata: read.resourceMetadataUrl?.href,
            scope: read.scope,
            error: read.error,
          }).toEqual({ header, resourceMetadata: new URL(url).href, scope: scopes.join(" "), error });
        },
      ),
      RUNS,
    );
  });
});

describe("through mcpOAuth: a scope policy that derives scopes from the request", () => {
  const RESOURCE = "http://127.0.0.1:4444/mcp";
  let as: TestAuthorizationServer;
  let url: string;
  let close: () => Promise<void>;
  let watch: RejectionWatch;

  beforeAll(async () => {
    watch = watchUnhandledRejections();
    as = await startTestAuthorizationServer();
    // A plausible policy: one scope per tool, named after the tool the client calls.
    const mw = mcpOAuth({
      resource: RESOURCE,
      authorizationServers: [as.issuer],
      scopePolicy: {
        custom: ({ method, params }) =>
          method === "tools/call" ? [`tool:${String((params as { name?: unknown } | undefined)?.name)}`] : [],
      },
    });
    const server = createServer((req, res) =>
      mw(req, res, () => {
        res.end("reached");
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
    close = () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
  });
  afterAll(async () => {
    await close();
    await as.close();
    watch?.stop();
  });

  it("answers 403 insufficient_scope with a readable challenge for any tool name, never hanging or rejecting unhandled", async () => {
    const token = as.mint(RESOURCE, { scope: "mcp:read" });
    await fc.assert(
      fc.asyncProperty(hostileString, async (name) => {
        let outcome: { status: number; error: unknown; challenge: string | null } | string;
        try {
          const res = await fetch(url, {
            method: "POST",
            headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
            body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name } }),
            signal: AbortSignal.timeout(2000),
          });
          outcome = {
            status: res.status,
            error: ((await res.json()) as { error?: unknown }).error,
            challenge: res.headers.get("www-authenticate"),
          };
        } catch (error) {
          outcome = `no answer: ${(error as Error).name}`;
        }
        expect(outcome).toEqual({
          status: 403,
          error: "insufficient_scope",
          challenge: expect.stringMatching(/^Bearer error="insufficient_scope", /),
        });
        expect(watch.reasons.map(String)).toEqual([]);
      }),
      { numRuns: 60, endOnFailure: true, examples: [["plain"], ['quo"te\\'], ["line\r\nbreak"], ["euro \u20ac"]] },
    );
  });
});

/**
 * WWW-Authenticate challenges and error answers (RFC 6750 section 3, RFC 9728 section 5.1):
 * every challenge must survive a strict RFC 7235 parser with its values intact.
 */
import { describe, expect, it } from "@jest/globals";
import { validateHeaderValue } from "node:http";
import { buildChallenge, quoteAuthParam } from "../src/challenge.js";
import { answerFor } from "../src/error-responses.js";
import { ERROR_RESPONSES } from "../src/error-responses.js";
import { McpOAuthError, type McpOAuthErrorCode } from "../src/errors.js";
import { isValidScopeToken } from "../src/scopes.js";
import { parseChallenge } from "../../../test/helpers/challenge-parser.js";

const METADATA = "https://mcp.example.com/.well-known/oauth-protected-resource/mcp";
const CONTEXT = { resourceMetadataUrl: METADATA, requiredScopes: ["mcp:read", "mcp:tools"], retryAfterSeconds: 7 };
const TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzZWNyZXQtdXNlciJ9.c2lnbmF0dXJlLXRoYXQtbXVzdC1uZXZlci1sZWFr";

/**
 * What a value must read as after a round trip: only visible ASCII, space and HTAB kept
 * (Node refuses header characters above U+00FF; control characters would break the header).
 */
function withoutControls(value: string): string {
  // eslint-disable-next-line no-control-regex
  return value.replace(/[^\x09\x20-\x7E]/g, "");
}

/** The challenge's `scope`: only RFC 6749 scope tokens are offered. */
function offeredScope(scopes: string[]): Record<string, string> {
  const valid = scopes.filter(isValidScopeToken);
  return valid.length > 0 ? { scope: valid.join(" ") } : {};
}

// Hand-built stand-in for a property test: quotes, backslashes, separators, header injection
// attempts, every C0 control, DEL, Latin-1 and lookalikes of the syntax.
const NASTY: readonly string[] = [
  "",
  '"',
  "\\",
  '\\"',
  '"\\',
  '""',
  "\\\\",
  'a"b\\c',
  "end with backslash\\",
  '", error="forged"',
  '\\", resource_metadata="https://evil.example/"',
  "a, b=c",
  "a=b",
  "x\r\nSet-Cookie: session=evil",
  "x\nWWW-Authenticate: Basic",
  "\r\n\r\nbody",
  "tab\tinside",
  "\t",
  "nul\x00byte",
  "del\x7Fchar",
  Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).join(""),
  "mcp:read mcp:write",
  "  leading and trailing  ",
  'https://host/path?q="1"&r=\\2#frag',
  "caf\u00e9 \u00ff \u00a0 \u0080",
  "'single' `back` ;semi; <angle>",
  "=",
  ",",
  ";",
  '"""\\\\\\',
];

describe("quoteAuthParam", () => {
  it.each<[string, string]>([
    ["plain", '"plain"'],
    ["", '""'],
    ['a"b', '"a\\"b"'],
    ["a\\b", '"a\\\\b"'],
    ['\\"', '"\\\\\\""'],
    ["a\r\nb", '"ab"'],
    ["a\x00\x1F\x7Fb", '"ab"'],
    ["a\tb", '"a\tb"'],
  ])("quotes %j as %j", (input, expected) => {
    expect(quoteAuthParam(input)).toBe(expected);
  });
});

describe("buildChallenge", () => {
  it("builds the missing-token challenge exactly: no error, quoted resource_metadata and scope", () => {
    const header = buildChallenge({ resourceMetadata: METADATA, scopes: ["mcp:read", "mcp:write"] });
    expect(header).toBe(`Bearer resource_metadata="${METADATA}", scope="mcp:read mcp:write"`);
    expect(parseChallenge(header)).toEqual({
      scheme: "Bearer",
      params: { resource_metadata: METADATA, scope: "mcp:read mcp:write" },
    });
  });

  it("omits the error parameter, and with it error_description, when error is undefined", () => {
    const header = buildChallenge({ resourceMetadata: METADATA, error: undefined, errorDescription: "ignored" });
    expect(header).toBe(`Bearer resource_metadata="${METADATA}"`);
    const { params } = parseChallenge(header);
    expect(Object.keys(params)).toEqual(["resource_metadata"]);
  });

  it("sends error without error_description when no description is given", () => {
    const header = buildChallenge({ resourceMetadata: METADATA, error: "invalid_token" });
    expect(header).toBe(`Bearer error="invalid_token", resource_metadata="${METADATA}"`);
    expect(Object.keys(parseChallenge(header).params)).toEqual(["error", "resource_metadata"]);
  });

  it("omits scope when no scopes are given or the list is empty", () => {
    expect(buildChallenge({ resourceMetadata: METADATA })).toBe(`Bearer resource_metadata="${METADATA}"`);
    expect(buildChallenge({ resourceMetadata: METADATA, scopes: [] })).toBe(`Bearer resource_metadata="${METADATA}"`);
  });

  it("never names offline_access in scope (MCP 2026-07-28: SHOULD NOT), whatever a custom policy returned", () => {
    const header = buildChallenge({ resourceMetadata: METADATA, scopes: ["mcp:read", "offline_access"] });
    expect(header).toContain('scope="mcp:read"');
    expect(header).not.toContain("offline_access");
  });

  it("builds the invalid_token challenge with every value quoted", () => {
    const header = buildChallenge({
      resourceMetadata: METADATA,
      error: "invalid_token",
      errorDescription: "The access token expired",
      scopes: ["mcp:read"],
    });
    expect(header).toBe(
      `Bearer error="invalid_token", resource_metadata="${METADATA}", scope="mcp:read", error_description="The access token expired"`,
    );
  });

  it("escapes quotes and backslashes so the parser reads the original values", () => {
    const header = buildChallenge({
      resourceMetadata: 'https://h/"x"\\y',
      error: 'e"1',
      errorDescription: 'say "hi" \\ bye',
      scopes: ['a"b', "c\\d", "ok"],
    });
    expect(header).toBe(
      'Bearer error="e\\"1", resource_metadata="https://h/\\"x\\"\\\\y", scope="ok", error_description="say \\"hi\\" \\\\ bye"',
    );
    expect(parseChallenge(header).params).toEqual({
      error: 'e"1',
      error_description: 'say "hi" \\ bye',
      resource_metadata: 'https://h/"x"\\y',
      scope: "ok",
    });
  });

  it.each(NASTY.map((s) => [s]))("round-trips the nasty string %j through every parameter", (nasty) => {
    const header = buildChallenge({
      resourceMetadata: `${METADATA}${nasty}`,
      error: nasty,
      errorDescription: `desc ${nasty} desc`,
      scopes: [nasty, "mcp:read", nasty],
    });
    // A header Node would refuse (CR, LF, NUL...) would crash the server at setHeader time.
    expect(() => validateHeaderValue("WWW-Authenticate", header)).not.toThrow();
    const parsed = parseChallenge(header);
    expect(parsed.scheme).toBe("Bearer");
    expect(parsed.params).toEqual({
      error: withoutControls(nasty),
      error_description: withoutControls(`desc ${nasty} desc`),
      resource_metadata: withoutControls(`${METADATA}${nasty}`),
      ...offeredScope([nasty, "mcp:read", nasty]),
    });
  });

  it.each(NASTY.map((s) => [s]))("never lets %j add or forge a parameter when error is absent", (nasty) => {
    const header = buildChallenge({ resourceMetadata: nasty, scopes: [nasty] });
    const { params } = parseChallenge(header);
    expect(Object.keys(params).sort()).toEqual(
      isValidScopeToken(nasty) ? ["resource_metadata", "scope"] : ["resource_metadata"],
    );
    expect(params["resource_metadata"]).toBe(withoutControls(nasty));
  });
});

/** Codes answered with a Bearer challenge: status and the challenge's `error` (none without credentials). */
const CHALLENGED: [McpOAuthErrorCode, number, string | undefined][] = [
  ["token_missing", 401, undefined],
  ["unsupported_scheme", 401, undefined],
  ["dpop_scheme_required", 401, undefined],
  ["malformed_authorization_header", 400, "invalid_request"],
  ["multiple_authorization_headers", 400, "invalid_request"],
  ["token_in_query", 400, "invalid_request"],
  ["token_in_body", 400, "invalid_request"],
  ["token_too_large", 401, "invalid_token"],
  ["token_malformed", 401, "invalid_token"],
  ["token_inactive", 401, "invalid_token"],
  ["algorithm_not_allowed", 401, "invalid_token"],
  ["unsupported_critical_header", 401, "invalid_token"],
  ["invalid_token_type", 401, "invalid_token"],
  ["key_not_found", 401, "invalid_token"],
  ["signature_invalid", 401, "invalid_token"],
  ["token_expired", 401, "invalid_token"],
  ["token_not_yet_valid", 401, "invalid_token"],
  ["token_issued_in_future", 401, "invalid_token"],
  ["claim_missing", 401, "invalid_token"],
  ["claim_invalid", 401, "invalid_token"],
  ["issuer_not_allowed", 401, "invalid_token"],
  ["audience_mismatch", 401, "invalid_token"],
  ["insufficient_scope", 403, "insufficient_scope"],
  ["dpop_proof_missing", 401, "invalid_dpop_proof"],
  ["dpop_multiple_proofs", 401, "invalid_dpop_proof"],
  ["dpop_proof_malformed", 401, "invalid_dpop_proof"],
  ["dpop_proof_type_invalid", 401, "invalid_dpop_proof"],
  ["dpop_algorithm_not_allowed", 401, "invalid_dpop_proof"],
  ["dpop_key_invalid", 401, "invalid_dpop_proof"],
  ["dpop_signature_invalid", 401, "invalid_dpop_proof"],
  ["dpop_claim_missing", 401, "invalid_dpop_proof"],
  ["dpop_claim_invalid", 401, "invalid_dpop_proof"],
  ["dpop_method_mismatch", 401, "invalid_dpop_proof"],
  ["dpop_uri_mismatch", 401, "invalid_dpop_proof"],
  ["dpop_iat_out_of_window", 401, "invalid_dpop_proof"],
  ["dpop_ath_mismatch", 401, "invalid_dpop_proof"],
  ["dpop_proof_replayed", 401, "invalid_dpop_proof"],
  ["dpop_key_mismatch", 401, "invalid_token"],
  ["dpop_token_not_bound", 401, "invalid_token"],
  ["dpop_bound_token_as_bearer", 401, "invalid_token"],
  ["dpop_nonce_required", 401, "use_dpop_nonce"],
  ["dpop_nonce_invalid", 401, "use_dpop_nonce"],
];

/** Codes answered without a challenge: status and body `error`. */
const UNCHALLENGED: [McpOAuthErrorCode, number, string][] = [
  ["origin_not_allowed", 403, "access_denied"],
  ["upstream_unavailable", 503, "temporarily_unavailable"],
  ["body_too_large", 413, "invalid_request"],
  ["body_invalid", 400, "invalid_request"],
  ["unsupported_media_type", 415, "invalid_request"],
  ["internal_error", 500, "server_error"],
  ["dpop_replay_unavailable", 503, "temporarily_unavailable"],
];

describe("answerFor", () => {
  const codes = Object.keys(ERROR_RESPONSES) as McpOAuthErrorCode[];

  it("covers every error code in the two explicit lists", () => {
    expect([...codes].sort()).toEqual([...CHALLENGED, ...UNCHALLENGED].map(([code]) => code).sort());
  });

  it.each(codes.map((code) => [code]))(
    "%s: status, headers and body follow the table and never hold the token",
    (code) => {
      const spec = ERROR_RESPONSES[code];
      const error = new McpOAuthError(code, `refused token ${TOKEN}`, {
        cause: new Error(TOKEN),
        requiredScopes: ["files:write"],
      });
      const answer = answerFor(error, CONTEXT);

      expect(answer.status).toBe(spec.status);
      expect(answer.body).toEqual({ error: spec.error, error_description: spec.description });
      expect(answer.headers["Content-Type"]).toBe("application/json");
      expect(answer.headers["Cache-Control"]).toBe("no-store");
      const serialized = JSON.stringify(answer);
      expect(serialized).not.toContain(TOKEN);
      for (const part of TOKEN.split(".")) expect(serialized).not.toContain(part);
      expect(serialized).not.toContain("refused token");

      if (spec.challenge) {
        const header = answer.headers["WWW-Authenticate"]!;
        expect(typeof header).toBe("string");
        expect(() => validateHeaderValue("WWW-Authenticate", header)).not.toThrow();
        const { scheme, params } = parseChallenge(header);
        expect(scheme).toBe("Bearer");
        expect(params["resource_metadata"]).toBe(METADATA);
        if (spec.challengeError === undefined) {
          expect(params["error"]).toBeUndefined();
          expect(params["error_description"]).toBeUndefined();
        } else {
          expect(params["error"]).toBe(spec.challengeError);
          expect(params["error_description"]).toBe(spec.description);
        }
        expect(params["scope"]).toBe(code === "insufficient_scope" ? "files:write" : "mcp:read mcp:tools");
      } else {
        expect(answer.headers["WWW-Authenticate"]).toBeUndefined();
      }
      if (spec.status === 503) expect(answer.headers["Retry-After"]).toBe("7");
      else expect(answer.headers["Retry-After"]).toBeUndefined();
    },
  );

  it.each(CHALLENGED)("%s answers %i with challenge error %p", (code, status, challengeError) => {
    const answer = answerFor(new McpOAuthError(code, "x"), CONTEXT);
    expect(answer.status).toBe(status);
    expect(answer.headers["WWW-Authenticate"]).toBeDefined();
    expect(parseChallenge(answer.headers["WWW-Authenticate"]!).params["error"]).toBe(challengeError);
  });

  it.each(UNCHALLENGED)("%s answers %i %s without a Bearer challenge", (code, status, error) => {
    const answer = answerFor(new McpOAuthError(code, "x"), CONTEXT);
    expect(answer.status).toBe(status);
    expect(answer.body.error).toBe(error);
    expect(answer.headers["WWW-Authenticate"]).toBeUndefined();
  });

  it("never answers invalid_token when the token could not be checked, and sets Retry-After", () => {
    const answer = answerFor(new McpOAuthError("upstream_unavailable", "jwks down"), CONTEXT);
    expect(answer.body.error).toBe("temporarily_unavailable");
    expect(answer.status).toBe(503);
    expect(answer.headers["Retry-After"]).toBe("7");
  });

  it("prefers the error's own retryAfter on 503", () => {
    const answer = answerFor(new McpOAuthError("upstream_unavailable", "jwks down", { retryAfter: 30 }), CONTEXT);
    expect(answer.headers["Retry-After"]).toBe("30");
  });

  it("builds the exact step-up challenge for insufficient_scope", () => {
    const answer = answerFor(
      new McpOAuthError("insufficient_scope", "x", { requiredScopes: ["mcp:read", "files:write"] }),
      CONTEXT,
    );
    expect(answer.headers["WWW-Authenticate"]).toBe(
      `Bearer error="insufficient_scope", resource_metadata="${METADATA}", scope="mcp:read files:write", error_description="The access token lacks the scope this request needs"`,
    );
  });

  it("falls back to the required scopes for insufficient_scope without its own list", () => {
    const answer = answerFor(new McpOAuthError("insufficient_scope", "x"), CONTEXT);
    expect(parseChallenge(answer.headers["WWW-Authenticate"]!).params["scope"]).toBe("mcp:read mcp:tools");
  });

  it("omits scope from 401 challenges when no scopes are required", () => {
    const answer = answerFor(new McpOAuthError("token_missing", "x"), { ...CONTEXT, requiredScopes: [] });
    expect(answer.headers["WWW-Authenticate"]).toBe(`Bearer resource_metadata="${METADATA}"`);
  });

  it("keeps every error_description short, generic text", () => {
    for (const spec of Object.values(ERROR_RESPONSES)) {
      expect(spec.description).toMatch(/^[A-Za-z ;,.'-]+$/);
      expect(spec.description.length).toBeLessThan(100);
    }
  });
});

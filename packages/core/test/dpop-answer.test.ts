/**
 * DPoP answers (RFC 9449 sections 7.1 and 9): the `DPoP` challenge with `algs`, beside the
 * Bearer one when both schemes are accepted, the error on the right challenge, and
 * `DPoP-Nonce`.
 */
import { describe, expect, it } from "@jest/globals";
import { validateHeaderValue } from "node:http";
import { buildDpopChallenge } from "../src/challenge.js";
import { dpopAnswerFor, ERROR_RESPONSES, type DpopAnswerContext } from "../src/error-responses.js";
import { McpOAuthError, type McpOAuthErrorCode } from "../src/errors.js";
import { parseChallenge } from "../../../test/helpers/challenge-parser.js";
import { splitChallenges } from "../../../test/helpers/dpop.js";

const METADATA = "https://mcp.example.com/.well-known/oauth-protected-resource/mcp";
const CONTEXT = { resourceMetadataUrl: METADATA, requiredScopes: ["mcp:read"], retryAfterSeconds: 7 };
const ALGS = ["ES256", "PS256"];
const NONCE = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-AbCdEfGhIjKl";

const allowed = (scheme: DpopAnswerContext["scheme"], nonce?: string): DpopAnswerContext => ({
  mode: "allowed",
  algorithms: ALGS,
  scheme,
  nonce,
});

/** The challenges of an answer, by scheme. */
function challenges(header: string | undefined): Record<string, Record<string, string>> {
  expect(header).toBeDefined();
  expect(() => validateHeaderValue("WWW-Authenticate", header!)).not.toThrow();
  const byScheme: Record<string, Record<string, string>> = {};
  for (const part of splitChallenges(header!)) {
    const { scheme, params } = parseChallenge(part);
    byScheme[scheme] = params;
  }
  return byScheme;
}

describe("buildDpopChallenge", () => {
  it("carries resource_metadata, scope and algs, as the Bearer challenge does plus algs", () => {
    expect(buildDpopChallenge({ resourceMetadata: METADATA, scopes: ["mcp:read"], algorithms: ALGS })).toBe(
      `DPoP resource_metadata="${METADATA}", scope="mcp:read", algs="ES256 PS256"`,
    );
  });

  it("puts the error first and its description last", () => {
    expect(
      buildDpopChallenge({
        resourceMetadata: METADATA,
        algorithms: ["ES256"],
        error: "invalid_dpop_proof",
        errorDescription: "The DPoP proof signature is invalid",
      }),
    ).toBe(
      `DPoP error="invalid_dpop_proof", resource_metadata="${METADATA}", algs="ES256", error_description="The DPoP proof signature is invalid"`,
    );
  });

  it("leaves out algs with no algorithm, and error_description without a description", () => {
    expect(buildDpopChallenge({ resourceMetadata: METADATA, algorithms: [], error: "invalid_token" })).toBe(
      `DPoP error="invalid_token", resource_metadata="${METADATA}"`,
    );
  });

  it("never names offline_access in scope (MCP 2026-07-28: SHOULD NOT), as the Bearer challenge", () => {
    const header = buildDpopChallenge({
      resourceMetadata: METADATA,
      scopes: ["mcp:read", "offline_access"],
      algorithms: ALGS,
    });
    expect(parseChallenge(header).params["scope"]).toBe("mcp:read");
    expect(header).not.toContain("offline_access");
  });

  it.each(['", error="forged"', "x\r\nSet-Cookie: a=b", 'a\\"b'])("never lets %j forge a parameter", (nasty) => {
    const header = buildDpopChallenge({ resourceMetadata: nasty, scopes: [nasty], algorithms: [nasty] });
    const { scheme, params } = parseChallenge(header);
    expect(scheme).toBe("DPoP");
    expect(Object.keys(params).sort()).toEqual(["algs", "resource_metadata"]);
  });
});

describe("dpopAnswerFor", () => {
  it.each<[McpOAuthErrorCode, string]>([
    ["dpop_iat_out_of_window", "invalid_dpop_proof"],
    ["dpop_nonce_required", "use_dpop_nonce"],
  ])("puts a proof error (%s) on the DPoP challenge whatever scheme the request named", (code, error) => {
    for (const scheme of ["Bearer", undefined] as const) {
      const found = challenges(
        dpopAnswerFor(new McpOAuthError(code, "x"), CONTEXT, allowed(scheme)).headers["WWW-Authenticate"],
      );
      expect(found["DPoP"]!["error"]).toBe(error);
      expect(found["Bearer"]!["error"]).toBeUndefined();
    }
  });

  it("sends no DPoP-Nonce header at all without a nonce", () => {
    const answer = dpopAnswerFor(new McpOAuthError("dpop_nonce_required", "x"), CONTEXT, allowed("DPoP"));
    expect(Object.keys(answer.headers)).not.toContain("DPoP-Nonce");
  });

  it("offers the base scopes for a refusal other than insufficient_scope, whatever scopes the error carries", () => {
    const error = new McpOAuthError("token_expired", "x", { requiredScopes: ["mcp:write"] });
    const found = challenges(dpopAnswerFor(error, CONTEXT, allowed("DPoP")).headers["WWW-Authenticate"]);
    expect(found["DPoP"]!["scope"]).toBe("mcp:read");
    expect(found["Bearer"]!["scope"]).toBe("mcp:read");
  });

  it("offers both schemes, without error, to a request without credentials (allowed)", () => {
    const answer = dpopAnswerFor(new McpOAuthError("token_missing", "x"), CONTEXT, allowed(undefined));
    expect(answer.status).toBe(401);
    expect(answer.headers["WWW-Authenticate"]).toBe(
      `Bearer resource_metadata="${METADATA}", scope="mcp:read", DPoP resource_metadata="${METADATA}", scope="mcp:read", algs="ES256 PS256"`,
    );
    expect(answer.headers["DPoP-Nonce"]).toBeUndefined();
  });

  it("tells a request without credentials, or under another scheme, which schemes this server takes", () => {
    const described = (code: McpOAuthErrorCode, mode: DpopAnswerContext["mode"]): string =>
      dpopAnswerFor(new McpOAuthError(code, "x"), CONTEXT, { mode, algorithms: ALGS, scheme: undefined }).body
        .error_description;
    expect(described("token_missing", "allowed")).toBe("An access token is required, under the Bearer or DPoP scheme");
    expect(described("unsupported_scheme", "allowed")).toBe("Use the Bearer or DPoP authentication scheme");
    expect(described("token_missing", "required")).toBe("A DPoP-bound access token is required, under the DPoP scheme");
    expect(described("unsupported_scheme", "required")).toBe("Use the DPoP authentication scheme");
    // Without DPoP, the table's own words (answerFor).
    expect(ERROR_RESPONSES.token_missing.description).toBe("A bearer token is required");
    expect(ERROR_RESPONSES.unsupported_scheme.description).toBe("Use the Bearer authentication scheme");
  });

  it("puts a proof error on the DPoP challenge only", () => {
    const answer = dpopAnswerFor(new McpOAuthError("dpop_signature_invalid", "x"), CONTEXT, allowed("DPoP"));
    const { Bearer, DPoP } = challenges(answer.headers["WWW-Authenticate"]);
    expect(answer.status).toBe(401);
    expect(answer.body).toEqual({
      error: "invalid_dpop_proof",
      error_description: "The DPoP proof signature is invalid",
    });
    expect(Bearer!["error"]).toBeUndefined();
    expect(DPoP).toEqual({
      error: "invalid_dpop_proof",
      resource_metadata: METADATA,
      scope: "mcp:read",
      algs: "ES256 PS256",
      error_description: "The DPoP proof signature is invalid",
    });
  });

  it("puts a token error on the challenge of the scheme the client used", () => {
    const expired = new McpOAuthError("token_expired", "x");
    const viaDpop = challenges(dpopAnswerFor(expired, CONTEXT, allowed("DPoP")).headers["WWW-Authenticate"]);
    expect(viaDpop["DPoP"]!["error"]).toBe("invalid_token");
    expect(viaDpop["Bearer"]!["error"]).toBeUndefined();
    const viaBearer = challenges(dpopAnswerFor(expired, CONTEXT, allowed("Bearer")).headers["WWW-Authenticate"]);
    expect(viaBearer["Bearer"]!["error"]).toBe("invalid_token");
    expect(viaBearer["DPoP"]!["error"]).toBeUndefined();
  });

  it("refuses a bound token sent as Bearer with invalid_token on the Bearer challenge, offering DPoP", () => {
    const answer = dpopAnswerFor(new McpOAuthError("dpop_bound_token_as_bearer", "x"), CONTEXT, allowed("Bearer"));
    const parsed = challenges(answer.headers["WWW-Authenticate"]);
    expect(answer.status).toBe(401);
    expect(parsed["Bearer"]!["error"]).toBe("invalid_token");
    expect(parsed["DPoP"]!["algs"]).toBe("ES256 PS256");
  });

  it("sends the DPoP challenge alone when DPoP is required, with the error on it", () => {
    const answer = dpopAnswerFor(new McpOAuthError("token_expired", "x"), CONTEXT, {
      mode: "required",
      algorithms: ["ES256"],
      scheme: "Bearer",
    });
    const parsed = challenges(answer.headers["WWW-Authenticate"]);
    expect(Object.keys(parsed)).toEqual(["DPoP"]);
    expect(parsed["DPoP"]!["error"]).toBe("invalid_token");
  });

  it("keeps the step-up challenge for a DPoP token: 403 insufficient_scope with every scope needed", () => {
    const error = new McpOAuthError("insufficient_scope", "x", { requiredScopes: ["mcp:read", "files:write"] });
    const answer = dpopAnswerFor(error, CONTEXT, allowed("DPoP"));
    const parsed = challenges(answer.headers["WWW-Authenticate"]);
    expect(answer.status).toBe(403);
    expect(parsed["DPoP"]!["error"]).toBe("insufficient_scope");
    expect(parsed["DPoP"]!["scope"]).toBe("mcp:read files:write");
  });

  it("asks for a nonce with use_dpop_nonce and DPoP-Nonce (RFC 9449 section 9)", () => {
    const answer = dpopAnswerFor(new McpOAuthError("dpop_nonce_required", "x"), CONTEXT, allowed("DPoP", NONCE));
    expect(answer.status).toBe(401);
    expect(answer.headers["DPoP-Nonce"]).toBe(NONCE);
    expect(answer.body.error).toBe("use_dpop_nonce");
    expect(challenges(answer.headers["WWW-Authenticate"])["DPoP"]!["error"]).toBe("use_dpop_nonce");
  });

  it("answers a full replay store 503 with Retry-After, no challenge, and the nonce if any", () => {
    const error = new McpOAuthError("dpop_replay_unavailable", "x", { retryAfter: 12 });
    const answer = dpopAnswerFor(error, CONTEXT, allowed("DPoP", NONCE));
    expect(answer.status).toBe(503);
    expect(answer.body.error).toBe("temporarily_unavailable");
    expect(answer.headers["Retry-After"]).toBe("12");
    expect(answer.headers["WWW-Authenticate"]).toBeUndefined();
    expect(answer.headers["DPoP-Nonce"]).toBe(NONCE);
  });

  const codes = Object.keys(ERROR_RESPONSES) as McpOAuthErrorCode[];
  it.each(codes.map((code) => [code]))(
    "%s: a DPoP challenge the conformance suite finds whenever the table challenges",
    (code) => {
      const answer = dpopAnswerFor(new McpOAuthError(code, "secret-token"), CONTEXT, allowed("DPoP"));
      expect(answer.status).toBe(ERROR_RESPONSES[code].status);
      expect(JSON.stringify(answer)).not.toContain("secret-token");
      const header = answer.headers["WWW-Authenticate"];
      if (!ERROR_RESPONSES[code].challenge) {
        expect(header).toBeUndefined();
        return;
      }
      // The scenario's own test: a `DPoP` scheme at the start or after a comma.
      expect(header).toMatch(/(?:^|,)\s*dpop(?:\s|$|,)/i);
      const parsed = challenges(header);
      expect(Object.keys(parsed)).toEqual(["Bearer", "DPoP"]);
      expect(parsed["DPoP"]!["error"]).toBe(ERROR_RESPONSES[code].challengeError);
      expect(parsed["Bearer"]!["error"]).toBeUndefined();
    },
  );
});

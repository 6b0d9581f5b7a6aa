/**
 * Header and claim rules of JWT access tokens (RFC 9068, RFC 8725, RFC 7519 section 4.1),
 * against options resolved the way the middlewares resolve them.
 */
import { describe, expect, it } from "@jest/globals";
import { checkClaims, checkHeader, checkIntrospection, checkIssuer } from "../src/claims.js";
import { McpOAuthError, type McpOAuthErrorCode } from "../src/errors.js";
import { resolveOptions, type ValidationOptions, type ResolvedTokenRules } from "../src/options.js";

const RESOURCE = "https://mcp.example.com/mcp";
const ISSUER = "https://auth.example.com";
const NOW = 1_700_000_000;
const SKEW = 60;

function jwtOptions(validation: ValidationOptions = {}): ResolvedTokenRules {
  return resolveOptions({ resource: RESOURCE, authorizationServers: [ISSUER], validation }).tokenRules;
}

const NORMAL = jwtOptions();
const STRICT = jwtOptions({ strict: true });
const NO_SKEW = jwtOptions({ clockToleranceSeconds: 0 });

function codeOf(fn: () => unknown): McpOAuthErrorCode | "ok" {
  try {
    fn();
    return "ok";
  } catch (error) {
    if (error instanceof McpOAuthError) return error.code;
    throw error;
  }
}

function payload(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const base: Record<string, unknown> = {
    iss: ISSUER,
    aud: RESOURCE,
    exp: NOW + 300,
    iat: NOW - 10,
    nbf: NOW - 10,
    sub: "alice",
    client_id: "client-1",
    jti: "jti-1",
    scope: "mcp:read",
  };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete base[key];
    else base[key] = value;
  }
  return base;
}

const claims = (p: Record<string, unknown>, options = NORMAL, now = NOW) => codeOf(() => checkClaims(p, options, now));
const header = (h: Record<string, unknown>, options = NORMAL) => codeOf(() => checkHeader(h, options));

describe("checkHeader: algorithms", () => {
  it("returns the algorithm when it is allowed", () => {
    expect(checkHeader({ alg: "RS256", typ: "at+jwt", kid: "k1" }, NORMAL)).toBe("RS256");
    expect(checkHeader({ alg: "ES384" }, NORMAL)).toBe("ES384");
    expect(checkHeader({ alg: "PS512" }, NORMAL)).toBe("PS512");
  });

  it.each<[string, unknown]>([
    ["none", "none"],
    ["None", "None"],
    ["NONE", "NONE"],
    ["an empty alg", ""],
    ["a missing alg", undefined],
    ["a non-string alg", ["RS256"]],
    ["lowercase rs256", "rs256"],
    ["HS256 without a secret", "HS256"],
    ["EdDSA (not in the allow-list)", "EdDSA"],
  ])("rejects %s as algorithm_not_allowed", (_label, alg) => {
    expect(header({ alg, typ: "at+jwt" })).toBe("algorithm_not_allowed");
  });

  it("rejects none even with a secret configured", () => {
    const withSecret = jwtOptions({ secret: "0123456789abcdef0123456789abcdef" });
    expect(header({ alg: "none" }, withSecret)).toBe("algorithm_not_allowed");
    expect(checkHeader({ alg: "HS256" }, withSecret)).toBe("HS256");
  });

  it("rejects an algorithm outside a configured allow-list", () => {
    const only = jwtOptions({ algorithms: ["ES256"] });
    expect(header({ alg: "RS256" }, only)).toBe("algorithm_not_allowed");
    expect(checkHeader({ alg: "ES256" }, only)).toBe("ES256");
  });
});

describe("checkHeader: crit, typ, kid", () => {
  it.each<[string, unknown]>([
    ["an unknown extension", ["http://example.com/ext"]],
    ["b64", ["b64"]],
    ["an empty list", []],
    ["a non-array", "exp"],
  ])("rejects crit with %s as unsupported_critical_header", (_label, crit) => {
    expect(header({ alg: "RS256", crit, "http://example.com/ext": true })).toBe("unsupported_critical_header");
  });

  it.each([undefined, "at+jwt", "AT+JWT", "application/at+jwt", "Application/AT+JWT", "JWT", "jwt", "application/jwt"])(
    "accepts typ %p in normal mode",
    (typ) => {
      expect(header({ alg: "RS256", ...(typ === undefined ? {} : { typ }) })).toBe("ok");
    },
  );

  it.each<[unknown]>([
    ["dpop+jwt"],
    ["logout+jwt"],
    ["secevent+jwt"],
    ["id_token+jwt"],
    ["JOSE"],
    [""],
    [1],
    [null],
    [["at+jwt"]],
  ])("rejects typ %p in normal mode as invalid_token_type", (typ) => {
    expect(header({ alg: "RS256", typ })).toBe("invalid_token_type");
  });

  it.each(["at+jwt", "AT+JWT", "application/at+jwt"])("accepts typ %s in strict mode", (typ) => {
    expect(checkHeader({ alg: "RS256", typ }, STRICT)).toBe("RS256");
  });

  it.each<[unknown]>([[undefined], ["JWT"], ["application/jwt"], ["dpop+jwt"]])(
    "rejects typ %p in strict mode as invalid_token_type",
    (typ) => {
      expect(header({ alg: "RS256", ...(typ === undefined ? {} : { typ }) }, STRICT)).toBe("invalid_token_type");
    },
  );

  it("rejects a non-string kid as token_malformed", () => {
    expect(header({ alg: "RS256", kid: 1 })).toBe("token_malformed");
    expect(header({ alg: "RS256", kid: { id: "k" } })).toBe("token_malformed");
  });

  it("ignores jku, x5u, jwk and x5c: they are neither used nor a reason to refuse", () => {
    const h = {
      alg: "RS256",
      typ: "at+jwt",
      kid: "k1",
      jku: "https://evil.example/jwks",
      x5u: "https://evil.example/cert",
      jwk: { kty: "RSA" },
      x5c: ["MII"],
    };
    expect(checkHeader(h, NORMAL)).toBe("RS256");
  });
});

describe("checkIssuer", () => {
  it("returns an allowed issuer", () => {
    expect(checkIssuer({ iss: ISSUER }, NORMAL)).toBe(ISSUER);
  });

  it("rejects a missing iss as claim_missing", () => {
    expect(codeOf(() => checkIssuer({}, NORMAL))).toBe("claim_missing");
  });

  it.each([
    ["a trailing-slash variant", `${ISSUER}/`],
    ["an uppercase host", "https://AUTH.example.com"],
    ["another issuer", "https://evil.example.com"],
    ["a prefix", "https://auth.example"],
    ["a longer issuer", `${ISSUER}/tenant`],
    ["http instead of https", "http://auth.example.com"],
  ])("rejects %s as issuer_not_allowed", (_label, iss) => {
    expect(codeOf(() => checkIssuer({ iss }, NORMAL))).toBe("issuer_not_allowed");
  });

  it("compares with a configured trailing slash exactly too", () => {
    const auth0 = resolveOptions({
      resource: RESOURCE,
      authorizationServers: ["https://tenant.auth0.com/"],
    }).tokenRules;
    expect(checkIssuer({ iss: "https://tenant.auth0.com/" }, auth0)).toBe("https://tenant.auth0.com/");
    expect(codeOf(() => checkIssuer({ iss: "https://tenant.auth0.com" }, auth0))).toBe("issuer_not_allowed");
  });

  it("accepts any of several configured issuers", () => {
    const two = jwtOptions({ issuer: [ISSUER, "https://other.example.com"] });
    expect(checkIssuer({ iss: "https://other.example.com" }, two)).toBe("https://other.example.com");
  });
});

describe("checkClaims: exp", () => {
  it("accepts a valid payload", () => {
    expect(claims(payload())).toBe("ok");
  });

  it("requires exp", () => {
    expect(claims(payload({ exp: undefined }))).toBe("claim_missing");
  });

  it.each<[string, unknown]>([
    ["a string", String(NOW + 300)],
    ["null", null],
    ["a boolean", true],
    ["an array", [NOW + 300]],
    ["NaN", Number.NaN],
    ["Infinity", Number.POSITIVE_INFINITY],
  ])("rejects a non-numeric exp (%s) as claim_invalid", (_label, exp) => {
    expect(claims(payload({ exp }))).toBe("claim_invalid");
  });

  it("rejects an expired token as token_expired", () => {
    expect(claims(payload({ exp: NOW - SKEW - 1 }))).toBe("token_expired");
    expect(claims(payload({ exp: NOW - 3600 }))).toBe("token_expired");
  });

  it("applies the tolerance at its exact boundary", () => {
    // Valid while now < exp + tolerance.
    expect(claims(payload({ exp: NOW - SKEW + 1 }))).toBe("ok");
    expect(claims(payload({ exp: NOW - SKEW }))).toBe("token_expired");
  });

  it("with no tolerance, a token is expired at exp itself (RFC 7519 4.1.4)", () => {
    expect(claims(payload({ exp: NOW + 1 }), NO_SKEW)).toBe("ok");
    expect(claims(payload({ exp: NOW }), NO_SKEW)).toBe("token_expired");
  });
});

describe("checkClaims: nbf and iat", () => {
  it("rejects nbf in the future beyond the tolerance as token_not_yet_valid", () => {
    expect(claims(payload({ nbf: NOW + SKEW + 1 }))).toBe("token_not_yet_valid");
    expect(claims(payload({ nbf: NOW + SKEW }))).toBe("ok");
    expect(claims(payload({ nbf: NOW + 1 }), NO_SKEW)).toBe("token_not_yet_valid");
    expect(claims(payload({ nbf: NOW }), NO_SKEW)).toBe("ok");
  });

  it("treats nbf as optional but numeric", () => {
    expect(claims(payload({ nbf: undefined }))).toBe("ok");
    expect(claims(payload({ nbf: "soon" }))).toBe("claim_invalid");
  });

  it("rejects iat in the future beyond the tolerance as token_issued_in_future", () => {
    expect(claims(payload({ iat: NOW + SKEW + 1, nbf: undefined }))).toBe("token_issued_in_future");
    expect(claims(payload({ iat: NOW + SKEW, nbf: undefined }))).toBe("ok");
    expect(claims(payload({ iat: NOW + 1, nbf: undefined }), NO_SKEW)).toBe("token_issued_in_future");
    expect(claims(payload({ iat: NOW, nbf: undefined }), NO_SKEW)).toBe("ok");
  });

  it("treats iat as optional but numeric in normal mode", () => {
    expect(claims(payload({ iat: undefined }))).toBe("ok");
    expect(claims(payload({ iat: "yesterday" }))).toBe("claim_invalid");
  });

  it("uses the configured tolerance", () => {
    const wide = jwtOptions({ clockToleranceSeconds: 300 });
    expect(claims(payload({ exp: NOW - 299 }), wide)).toBe("ok");
    expect(claims(payload({ exp: NOW - 300 }), wide)).toBe("token_expired");
    expect(claims(payload({ nbf: NOW + 300 }), wide)).toBe("ok");
    expect(claims(payload({ nbf: NOW + 301 }), wide)).toBe("token_not_yet_valid");
  });
});

describe("checkClaims: iss and aud", () => {
  it("rejects a trailing-slash variant of the issuer", () => {
    expect(claims(payload({ iss: `${ISSUER}/` }))).toBe("issuer_not_allowed");
  });

  it("requires iss", () => {
    expect(claims(payload({ iss: undefined }))).toBe("claim_missing");
  });

  it("rejects a missing aud as audience_mismatch", () => {
    expect(claims(payload({ aud: undefined }))).toBe("audience_mismatch");
  });

  it.each<[string, unknown]>([
    ["another resource", "https://other.example.com/mcp"],
    ["another path on the same host", "https://mcp.example.com/other"],
    ["two trailing slashes", `${RESOURCE}//`],
    ["an array without us", ["https://other.example.com/mcp", "api://default"]],
    ["an empty array", []],
    ["an empty string", ""],
    ["a number", 42],
    ["null", null],
  ])("rejects aud with %s as audience_mismatch", (_label, aud) => {
    expect(claims(payload({ aud }))).toBe("audience_mismatch");
  });

  it.each<[string, unknown]>([
    ["the resource", RESOURCE],
    ["an uppercase scheme and host", "HTTPS://MCP.EXAMPLE.COM/mcp"],
    ["one trailing slash", `${RESOURCE}/`],
    ["an array with us", ["https://other.example.com/mcp", RESOURCE]],
  ])("accepts aud with %s", (_label, aud) => {
    expect(claims(payload({ aud }))).toBe("ok");
  });

  it.each<[string, unknown]>([
    ["userinfo", "https://evil@mcp.example.com/mcp"],
    ["our host as the userinfo", "https://mcp.example.com@evil.example.com/mcp"],
    ["a fragment", `${RESOURCE}#x`],
    ["userinfo in an array", ["https://other.example.com/mcp", "https://evil@mcp.example.com/mcp"]],
  ])("rejects aud with %s as audience_mismatch", (_label, aud) => {
    expect(claims(payload({ aud }))).toBe("audience_mismatch");
  });

  it("uses a configured audience instead of the resource", () => {
    const custom = jwtOptions({ audience: "api://default" });
    expect(claims(payload({ aud: "api://default" }), custom)).toBe("ok");
    expect(claims(payload({ aud: RESOURCE }), custom)).toBe("audience_mismatch");
  });
});

describe("checkClaims: claim types and strict mode", () => {
  it.each(["sub", "client_id", "azp", "scope"])("rejects a non-string %s as claim_invalid", (claim) => {
    expect(claims(payload({ [claim]: 123 }))).toBe("claim_invalid");
  });

  it("does not require sub, client_id, jti or iat in normal mode", () => {
    expect(claims(payload({ sub: undefined, client_id: undefined, jti: undefined, iat: undefined }))).toBe("ok");
  });

  it("accepts a complete RFC 9068 payload in strict mode", () => {
    expect(claims(payload(), STRICT)).toBe("ok");
  });

  it.each(["sub", "client_id", "jti", "iat"])("requires %s in strict mode (claim_missing)", (claim) => {
    expect(claims(payload({ [claim]: undefined }), STRICT)).toBe("claim_missing");
  });

  it.each(["sub", "client_id", "jti"])("rejects an empty or non-string %s in strict mode (claim_invalid)", (claim) => {
    expect(claims(payload({ [claim]: "" }), STRICT)).toBe("claim_invalid");
    expect(claims(payload({ [claim]: 7 }), STRICT)).toBe("claim_invalid");
  });

  it("still requires exp, iss and aud in strict mode", () => {
    expect(claims(payload({ exp: undefined }), STRICT)).toBe("claim_missing");
    expect(claims(payload({ iss: undefined }), STRICT)).toBe("claim_missing");
    expect(claims(payload({ aud: undefined }), STRICT)).toBe("audience_mismatch");
  });
});

describe("checkClaims and checkIntrospection: scope claims (RFC 6749 section 3.3)", () => {
  const ROLES = jwtOptions({ scopeClaims: ["scope", "scp", "roles"] });
  const introspected = (overrides: Record<string, unknown>, rules = NORMAL) =>
    codeOf(() =>
      checkIntrospection({ active: true, iss: ISSUER, aud: RESOURCE, exp: NOW + 600, ...overrides }, rules, NOW),
    );

  it.each<[string, unknown]>([
    ["a space", ["mcp:read mcp:write"]],
    ["a tab", ["mcp:read", "mcp:read\tmcp:write"]],
    ["a newline", ["mcp:read\n"]],
    ["a no-break space", ["mcp:read\u00a0mcp:write"]],
  ])("refuses an scp array entry with %s as claim_invalid", (_label, scp) => {
    expect(claims(payload({ scp }))).toBe("claim_invalid");
    expect(introspected({ scp })).toBe("claim_invalid");
  });

  it("reads every configured scope claim, and only those", () => {
    expect(claims(payload({ roles: ["mcp admin"] }), ROLES)).toBe("claim_invalid");
    expect(introspected({ roles: ["mcp admin"] }, ROLES)).toBe("claim_invalid");
    expect(claims(payload({ roles: ["mcp admin"] }))).toBe("ok");
    expect(claims(payload({ groups: ["Domain Users"] }), ROLES)).toBe("ok");
  });

  it("accepts space-separated strings, and arrays of scope tokens with entries it skips anyway", () => {
    expect(claims(payload({ scope: "mcp:read mcp:write", scp: "a  b" }))).toBe("ok");
    expect(claims(payload({ scp: ["mcp:read", "", 7, null, { a: "b c" }] }))).toBe("ok");
    expect(introspected({ scope: "mcp:read mcp:write", scp: ["mcp:read", 7] })).toBe("ok");
  });
});

describe("checkIntrospection: aud and resource (RFC 7662 section 2.2, RFC 8707)", () => {
  const answer = (overrides: Record<string, unknown>): Record<string, unknown> =>
    Object.fromEntries(
      Object.entries({ active: true, iss: ISSUER, exp: NOW + 600, ...overrides }).filter(([, v]) => v !== undefined),
    );
  const introspect = (a: Record<string, unknown>) => codeOf(() => checkIntrospection(a, NORMAL, NOW));

  it.each(["aud", "resource"])(
    "accepts the resource in %s, also with an uppercase host and one trailing slash",
    (claim) => {
      expect(introspect(answer({ [claim]: RESOURCE }))).toBe("ok");
      expect(introspect(answer({ [claim]: "https://MCP.EXAMPLE.COM/mcp/" }))).toBe("ok");
    },
  );

  it.each<[string, unknown]>([
    ["another resource", "https://other.example"],
    ["another resource in an array", ["https://other.example"]],
    ["an empty array", []],
    ["null", null],
  ])("refuses aud naming %s even when resource names ours (an explicit audience decides)", (_label, aud) => {
    expect(introspect(answer({ aud, resource: RESOURCE }))).toBe("audience_mismatch");
  });

  it("accepts aud naming ours whatever resource says, and resource alone when aud is absent", () => {
    expect(introspect(answer({ aud: RESOURCE, resource: "https://other.example" }))).toBe("ok");
    expect(introspect(answer({ aud: ["https://other.example", RESOURCE] }))).toBe("ok");
    expect(introspect(answer({ resource: RESOURCE }))).toBe("ok");
    expect(introspect(answer({ resource: "https://other.example" }))).toBe("audience_mismatch");
    expect(introspect(answer({}))).toBe("audience_mismatch");
  });

  it.each<[string, string, unknown]>([
    ["aud", "userinfo", "https://evil@mcp.example.com/mcp"],
    ["aud", "a fragment", `${RESOURCE}#x`],
    ["aud", "userinfo in an array", ["https://evil@mcp.example.com/mcp"]],
    ["resource", "userinfo", "https://evil@mcp.example.com/mcp"],
    ["resource", "a fragment", `${RESOURCE}#x`],
    ["resource", "an empty userinfo and a fragment", "https://@mcp.example.com/mcp#"],
  ])("rejects %s with %s as audience_mismatch", (claim, _label, value) => {
    expect(introspect(answer({ [claim]: value }))).toBe("audience_mismatch");
  });
});

describe("client_id as the audience (explicit opt-in, Cognito access tokens carry no aud)", () => {
  const COGNITO = jwtOptions({ clientIdAsAudience: ["client-1"] });

  it("accepts a token without any audience whose client_id is listed", () => {
    expect(claims(payload({ aud: undefined }), COGNITO)).toBe("ok");
    expect(
      codeOf(() =>
        checkIntrospection({ active: true, iss: ISSUER, exp: NOW + 600, client_id: "client-1" }, COGNITO, NOW),
      ),
    ).toBe("ok");
  });

  it("refuses a token whose aud names another resource, even with a listed client_id", () => {
    // The fallback is for tokens without an audience only: an aud that names someone else
    // says the token was issued for that resource (RFC 8707 section 2).
    expect(claims(payload({ aud: "https://other.example.com/mcp" }), COGNITO)).toBe("audience_mismatch");
    expect(claims(payload({ aud: [] }), COGNITO)).toBe("audience_mismatch");
    expect(
      codeOf(() =>
        checkIntrospection(
          { active: true, exp: NOW + 600, client_id: "client-1", resource: "https://other.example.com/mcp" },
          COGNITO,
          NOW,
        ),
      ),
    ).toBe("audience_mismatch");
  });

  it("refuses a token without an audience whose client_id is not listed, missing or not a string", () => {
    expect(claims(payload({ aud: undefined, client_id: "client-2" }), COGNITO)).toBe("audience_mismatch");
    expect(claims(payload({ aud: undefined, client_id: undefined }), COGNITO)).toBe("audience_mismatch");
    expect(claims(payload({ aud: undefined, client_id: ["client-1"] }), COGNITO)).toBe("audience_mismatch");
  });

  it("is off by default: a listed-looking client_id is no audience", () => {
    expect(claims(payload({ aud: undefined, client_id: "client-1" }))).toBe("audience_mismatch");
  });
});

describe("validation.requiredClaims", () => {
  const REQUIRED = jwtOptions({ requiredClaims: { tenant: ["t1", "t2"], tier: "gold" } });

  it("accepts a token carrying every required claim with an accepted value", () => {
    expect(claims(payload({ tenant: "t2", tier: "gold" }), REQUIRED)).toBe("ok");
  });

  it("refuses a missing required claim as claim_missing", () => {
    expect(claims(payload({ tier: "gold" }), REQUIRED)).toBe("claim_missing");
    expect(claims(payload({ tenant: "t1" }), REQUIRED)).toBe("claim_missing");
  });

  it.each<[string, unknown]>([
    ["another value", "t3"],
    ["a case variant", "T1"],
    ["an array holding an accepted value", ["t1"]],
    ["a number", 1],
  ])("refuses %s as claim_invalid", (_label, tenant) => {
    expect(claims(payload({ tenant, tier: "gold" }), REQUIRED)).toBe("claim_invalid");
  });

  it("applies to introspection answers too", () => {
    const answer = { active: true, iss: ISSUER, aud: RESOURCE, exp: NOW + 600, tier: "gold" };
    expect(codeOf(() => checkIntrospection({ ...answer, tenant: "t1" }, REQUIRED, NOW))).toBe("ok");
    expect(codeOf(() => checkIntrospection(answer, REQUIRED, NOW))).toBe("claim_missing");
  });
});

describe("checkIntrospection: active, token_type, iss (RFC 7662 section 2.2)", () => {
  const answer = (overrides: Record<string, unknown> = {}): Record<string, unknown> =>
    Object.fromEntries(
      Object.entries({ active: true, iss: ISSUER, aud: RESOURCE, exp: NOW + 600, ...overrides }).filter(
        ([, v]) => v !== undefined,
      ),
    );
  const introspect = (a: Record<string, unknown>) => codeOf(() => checkIntrospection(a, NORMAL, NOW));

  it("accepts an active answer for us, with or without iss", () => {
    expect(introspect(answer())).toBe("ok");
    expect(introspect(answer({ iss: undefined }))).toBe("ok");
  });

  it.each<[string, unknown]>([
    ["false", false],
    ["the string true", "true"],
    ["1", 1],
    ["missing", undefined],
  ])("refuses active %s as token_inactive", (_label, active) => {
    expect(introspect(answer({ active }))).toBe("token_inactive");
  });

  it.each(["Bearer", "bearer", "access_token", "urn:ietf:params:oauth:token-type:access_token"])(
    "accepts token_type %s",
    (tokenType) => {
      expect(introspect(answer({ token_type: tokenType }))).toBe("ok");
    },
  );

  it.each<[string, unknown]>([
    ["refresh_token", "refresh_token"],
    ["N_A", "N_A"],
    ["DPoP", "DPoP"],
    ["a number", 1],
    ["an array", ["Bearer"]],
  ])("refuses token_type %s as invalid_token_type", (_label, tokenType) => {
    expect(introspect(answer({ token_type: tokenType }))).toBe("invalid_token_type");
  });

  it("refuses an iss that is present and not allowed", () => {
    expect(introspect(answer({ iss: "https://other.example.com" }))).toBe("issuer_not_allowed");
    expect(introspect(answer({ iss: 42 }))).toBe("claim_missing");
  });
});

/**
 * The attack corpus (JWT BCP, RFC 8725; OAuth security BCP, RFC 9700; RFC 6750): one table,
 * every row sent over a real socket to an Express app protected by `mcpOAuth`, with tokens
 * signed by the real oidc-provider authorization server's own key unless the row is about
 * another key. Each row names the exact status, challenge `error` and JSON body; no row may
 * get a 5xx (save the 503 an unknown `kid` gets while the key set may not be read again),
 * reach the route, or see its token echoed.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import express from "express";
import {
  createHmac,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  randomBytes,
  sign,
  type JsonWebKey,
} from "node:crypto";
import { createServer } from "node:http";
import { connect } from "node:net";
import { ERROR_RESPONSES, type McpOAuthErrorCode } from "@mcp-oauth/core";
import { mcpOAuth, type McpOAuthMiddlewareOptions } from "@mcp-oauth/express";
import { generateSigningKey, type PrivateJwk } from "@mcp-oauth/local-authorization-server";
import { startTestAuthorizationServer, type TestAuthorizationServer } from "../helpers/authorization-server.js";
import { parseChallenge } from "../helpers/challenge-parser.js";
import { nowSeconds, publicPem, signJwt, unsignedJwt } from "../helpers/jwt.js";
import { rawRequest, type RawResponse } from "../helpers/raw-request.js";
import { json, startStubServer, type StubServer } from "../helpers/stub-server.js";
import { listen, type Listening } from "../helpers/listen.js";

const RESOURCE = "http://127.0.0.1:4444/mcp";
const METADATA_URL = "http://127.0.0.1:4444/.well-known/oauth-protected-resource/mcp";

const b64 = (value: unknown): string =>
  Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");

/** A compact JWS over arbitrary header and payload parts, signed RS256 with `key`: for payloads that are not JSON objects. */
function signParts(headerPart: string, payloadPart: string, key: JsonWebKey): string {
  const input = `${headerPart}.${payloadPart}`;
  return `${input}.${sign("sha256", Buffer.from(input), createPrivateKey({ key, format: "jwk" })).toString("base64url")}`;
}

/** An app whose route says it was reached: a refusal must never get there. */
async function protectedApp(options: McpOAuthMiddlewareOptions): Promise<Listening> {
  const app = express();
  app.disable("x-powered-by");
  app.use(mcpOAuth(options));
  app.all("/mcp", (req, res) => {
    res.json({ reached: true, sub: (req.auth?.extra as { sub?: string } | undefined)?.sub });
  });
  return listen(createServer(app));
}

/**
 * One request over a fresh socket with the Authorization line given as bytes: for what no
 * HTTP client sends (control characters, UTF-8 in a header).
 */
function socketRequest(port: number, authorization: Buffer): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", reject);
    socket.on("end", () => {
      const text = Buffer.concat(chunks).toString("latin1");
      const split = text.indexOf("\r\n\r\n");
      const [statusLine, ...lines] = text.slice(0, split).split("\r\n");
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(":");
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({
        status: Number(statusLine!.split(" ")[1]),
        headers,
        body: Buffer.from(text.slice(split + 4), "latin1").toString("utf8"),
      });
    });
    socket.end(
      Buffer.concat([
        Buffer.from("GET /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nAuthorization: "),
        authorization,
        Buffer.from("\r\n\r\n"),
      ]),
    );
  });
}

/** What a row sends. */
interface Attack {
  authorization?: string | string[];
  /** The Authorization value as raw bytes on the wire. */
  rawAuthorization?: Buffer;
  path?: string;
  contentType?: string;
  body?: string;
  /** Strings that must not appear anywhere in the answer (default: each token sent). */
  secrets?: string[];
}

type Outcome =
  | { kind: "reached" }
  | { kind: "refused"; status: number; error: string; challenge: string | null; code: McpOAuthErrorCode }
  /** Refused by Node's HTTP parser before any application code runs (RFC 9110 field-value grammar). */
  | { kind: "parser" }
  /**
   * A `kid` the key set lacks: 401 `key_not_found` when the request waited on a read of the
   * set, else (inside the refetch cooldown, where a key rotated in a moment ago looks the
   * same) 503 with `Retry-After`. Never accepted either way.
   */
  | { kind: "unknownKey" };

const reached: Outcome = { kind: "reached" };
const parser: Outcome = { kind: "parser" };
const unknownKey: Outcome = { kind: "unknownKey" };
/** 401 invalid_token (RFC 6750 section 3.1), for the reason `code`. */
const invalidToken = (code: McpOAuthErrorCode): Outcome => ({
  kind: "refused",
  status: 401,
  error: "invalid_token",
  challenge: "invalid_token",
  code,
});
/** 400 invalid_request. */
const invalidRequest = (code: McpOAuthErrorCode): Outcome => ({
  kind: "refused",
  status: 400,
  error: "invalid_request",
  challenge: "invalid_request",
  code,
});
/** 401 without an `error` in the challenge: no usable credentials were sent (RFC 6750 section 3.1). */
const noCredentials = (code: McpOAuthErrorCode): Outcome => ({
  kind: "refused",
  status: 401,
  error: "unauthorized",
  challenge: null,
  code,
});

type Row = [name: string, attack: () => Attack, outcome: Outcome];

/** Sends a row and checks everything every answer owes, whatever the row. */
async function run(target: Listening, attack: Attack, outcome: Outcome, answered?: RawResponse): Promise<RawResponse> {
  const headers: Record<string, string | string[]> = {};
  if (attack.authorization !== undefined) headers["authorization"] = attack.authorization;
  if (attack.contentType !== undefined) headers["content-type"] = attack.contentType;
  const res =
    answered ??
    (attack.rawAuthorization !== undefined
      ? await socketRequest(target.port, attack.rawAuthorization)
      : await rawRequest(`${target.url}${attack.path ?? "/mcp"}`, {
          method: attack.body === undefined ? "GET" : "POST",
          headers,
          ...(attack.body !== undefined ? { body: attack.body } : {}),
        }));

  // Never a 5xx, except the 503 an unknown kid gets inside the refetch cooldown.
  if (outcome.kind !== "unknownKey" || res.status !== 503) expect(res.status).toBeLessThan(500);
  const sent = [attack.authorization ?? [], attack.rawAuthorization?.toString("latin1") ?? []].flat();
  const secrets =
    attack.secrets ?? sent.map((value) => value.replace(/^\S+\s+/, "")).filter((token) => token.length >= 16);
  const everything = `${res.body}\n${JSON.stringify(res.headers)}`;
  for (const secret of secrets) {
    expect(everything).not.toContain(secret);
    // Nor any long piece of it (a JWT's payload or signature).
    for (const piece of secret.split(".")) if (piece.length >= 16) expect(everything).not.toContain(piece);
  }

  if (outcome.kind === "reached") {
    expect({ status: res.status, body: JSON.parse(res.body).reached }).toEqual({ status: 200, body: true });
    return res;
  }
  expect(res.body).not.toContain("reached");
  if (outcome.kind === "parser") {
    expect(res.status).toBe(400);
    expect(res.headers["www-authenticate"]).toBeUndefined();
    return res;
  }
  if (outcome.kind === "unknownKey") {
    if (res.status !== 503) return run(target, attack, invalidToken("key_not_found"), res);
    expect(Number(res.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    expect(res.headers["www-authenticate"]).toBeUndefined();
    expect(res.headers["cache-control"]).toBe("no-store");
    expect(JSON.parse(res.body)).toEqual({
      error: "temporarily_unavailable",
      error_description: ERROR_RESPONSES.upstream_unavailable.description,
    });
    return res;
  }
  expect(res.status).toBe(outcome.status);
  expect(res.headers["content-type"]).toMatch(/^application\/json(;|$)/);
  expect(res.headers["cache-control"]).toBe("no-store");
  expect(JSON.parse(res.body)).toEqual({
    error: outcome.error,
    error_description: ERROR_RESPONSES[outcome.code].description,
  });
  const { scheme, params } = parseChallenge(res.headers["www-authenticate"] as string);
  expect(scheme).toBe("Bearer");
  expect(params["resource_metadata"]).toBe(METADATA_URL);
  expect(params["scope"]).toBe("mcp:read");
  if (outcome.challenge === null) {
    expect(params["error"]).toBeUndefined();
    expect(params["error_description"]).toBeUndefined();
  } else {
    expect(params["error"]).toBe(outcome.challenge);
    expect(params["error_description"]).toBe(ERROR_RESPONSES[outcome.code].description);
  }
  return res;
}

let as: TestAuthorizationServer;
let attacker: StubServer;
let app: Listening;
let strictApp: Listening;
const attackerKey: PrivateJwk = generateSigningKey("RS256", "attacker-key");
const attackerPublicJwk = {
  ...createPublicKey({ key: attackerKey, format: "jwk" }).export({ format: "jwk" }),
  kid: attackerKey.kid,
  alg: "RS256",
  use: "sig",
};

/** Valid claims for RESOURCE, overridable; `undefined` removes a claim. */
function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = nowSeconds();
  return Object.fromEntries(
    Object.entries({
      iss: as.issuer,
      sub: "mallory",
      aud: RESOURCE,
      client_id: "c",
      scope: "mcp:read",
      iat: now,
      exp: now + 600,
      jti: randomBytes(8).toString("hex"),
      ...overrides,
    }).filter(([, v]) => v !== undefined),
  );
}
const bearer = (token: string): Attack => ({ authorization: `Bearer ${token}` });
/** A token signed by the real key with these header fields (kid and typ kept unless overridden). */
const withHeader = (header: Record<string, unknown>): Attack => bearer(as.mint(RESOURCE, {}, header));
const withClaims = (overrides: Record<string, unknown>): Attack => bearer(as.mint(RESOURCE, overrides));

beforeAll(async () => {
  as = await startTestAuthorizationServer();
  attacker = await startStubServer();
  attacker.handle("/jwks", json({ keys: [attackerPublicJwk] }));
  attacker.handle("/cert", json({}));
  app = await protectedApp({ resource: RESOURCE, authorizationServers: [as.issuer], scopes: ["mcp:read"] });
  strictApp = await protectedApp({
    resource: RESOURCE,
    authorizationServers: [as.issuer],
    scopes: ["mcp:read"],
    validation: { strict: true },
  });
  // Load the key set once, so that the rows below measure refetches only.
  await run(app, bearer(as.mint(RESOURCE)), reached);
});

afterAll(async () => {
  await Promise.all([app?.close(), strictApp?.close(), attacker?.close()]);
  await as?.close();
});

describe("controls: the same setup lets a valid token through", () => {
  it.each<Row>([
    ["a valid token", () => bearer(as.mint(RESOURCE)), reached],
    ["lowercase scheme and several spaces (1*SP)", () => ({ authorization: `bearer   ${as.mint(RESOURCE)}` }), reached],
    [
      "whitespace around the field value (not part of it, RFC 9110 section 5.5)",
      () => ({ authorization: `  Bearer ${as.mint(RESOURCE)}\t ` }),
      reached,
    ],
    [
      "a token in a JSON body next to a valid header (not a token method at all)",
      () => ({
        ...bearer(as.mint(RESOURCE)),
        contentType: "application/json",
        body: JSON.stringify({ access_token: "x" }),
      }),
      reached,
    ],
  ])("%s", async (_name, attack, outcome) => {
    await run(app, attack(), outcome);
  });
});

describe("alg none and algorithm confusion (RFC 8725 sections 2.1, 3.1)", () => {
  it.each<Row>([
    ["alg none, empty signature", () => bearer(unsignedJwt(claims())), invalidToken("token_malformed")],
    [
      "alg none with the server's kid",
      () => bearer(unsignedJwt(claims(), { alg: "none", typ: "at+jwt", kid: as.key.kid })),
      invalidToken("token_malformed"),
    ],
    [
      "alg none with a signature part",
      () => bearer(`${unsignedJwt(claims())}c2lnbmF0dXJl`),
      invalidToken("algorithm_not_allowed"),
    ],
    [
      "alg NONE (case variant) with a signature part",
      () => bearer(`${unsignedJwt(claims(), { alg: "NONE" })}c2lnbmF0dXJl`),
      invalidToken("algorithm_not_allowed"),
    ],
    [
      "HS256 signed with the RSA public key PEM",
      () =>
        bearer(
          signJwt(
            { alg: "HS256", typ: "at+jwt", kid: as.key.kid },
            claims(),
            createSecretKey(Buffer.from(publicPem(as.key))),
          ),
        ),
      invalidToken("algorithm_not_allowed"),
    ],
    [
      "HS256 signed with the RSA public key DER",
      () => {
        const der = createPublicKey({ key: as.key, format: "jwk" }).export({ format: "der", type: "spki" });
        const input = `${b64({ alg: "HS256", typ: "at+jwt", kid: as.key.kid })}.${b64(claims())}`;
        return bearer(`${input}.${createHmac("sha256", der).update(input).digest("base64url")}`);
      },
      invalidToken("algorithm_not_allowed"),
    ],
    [
      "alg missing",
      () => bearer(signParts(b64({ typ: "at+jwt", kid: as.key.kid }), b64(claims()), as.key)),
      invalidToken("algorithm_not_allowed"),
    ],
  ])("%s", async (_name, attack, outcome) => {
    await run(app, attack(), outcome);
  });
});

describe("kid values that are paths, URLs or SQL (RFC 8725 section 3.10)", () => {
  let before: number;
  beforeAll(() => {
    before = as.requestCounts.get("/jwks") ?? 0;
  });

  it.each<Row>([
    ["a relative path", () => withHeader({ kid: "../../../../../../etc/passwd" }), unknownKey],
    ["an absolute path", () => withHeader({ kid: "/dev/null" }), unknownKey],
    ["a Windows path", () => withHeader({ kid: "C:\\Windows\\win.ini" }), unknownKey],
    ["a file URL", () => withHeader({ kid: "file:///etc/passwd" }), unknownKey],
    ["an http URL to the attacker's key set", () => withHeader({ kid: `${attacker.url}/jwks` }), unknownKey],
    ["SQL injection", () => withHeader({ kid: "' OR '1'='1' --" }), unknownKey],
    ["SQL stacked query", () => withHeader({ kid: "x'; DROP TABLE keys; --" }), unknownKey],
    ["a NUL byte", () => withHeader({ kid: `${as.key.kid}\u0000` }), unknownKey],
    ["__proto__", () => withHeader({ kid: "__proto__" }), unknownKey],
    ["empty", () => withHeader({ kid: "" }), unknownKey],
    ["4 kB long", () => withHeader({ kid: "k".repeat(4096) }), unknownKey],
    ["a number", () => withHeader({ kid: 1 }), invalidToken("token_malformed")],
    ["an object", () => withHeader({ kid: { $ne: null } }), invalidToken("token_malformed")],
  ])("%s", async (_name, attack, outcome) => {
    await run(app, attack(), outcome);
  });

  it("fetch the key set at most once per cooldown, even under a flood of 100 more unknown kids", async () => {
    const flood = await Promise.all(
      Array.from({ length: 100 }, (_, i) => run(app, withHeader({ kid: `flood-${i}` }), unknownKey)),
    );
    expect(flood).toHaveLength(100);
    // Default 10 fetches per minute: one refetch per 6 s cooldown. The rows above take well
    // under that, so at most one; two tolerates a slow machine crossing one boundary.
    expect((as.requestCounts.get("/jwks") ?? 0) - before).toBeLessThanOrEqual(2);
  });
});

describe("key material in the token header is never used (jku, x5u, jwk, x5c; RFC 8725 section 3.10)", () => {
  it.each<Row>([
    [
      "jku pointing at the attacker's key set, signed by the attacker",
      () =>
        bearer(
          signJwt(
            { alg: "RS256", typ: "at+jwt", kid: attackerKey.kid, jku: `${attacker.url}/jwks` },
            claims(),
            attackerKey,
          ),
        ),
      unknownKey,
    ],
    [
      "jku with the server's kid, signed by the attacker",
      () =>
        bearer(
          signJwt({ alg: "RS256", typ: "at+jwt", kid: as.key.kid, jku: `${attacker.url}/jwks` }, claims(), attackerKey),
        ),
      invalidToken("signature_invalid"),
    ],
    [
      "x5u pointing at the attacker",
      () =>
        bearer(
          signJwt(
            { alg: "RS256", typ: "at+jwt", kid: attackerKey.kid, x5u: `${attacker.url}/cert` },
            claims(),
            attackerKey,
          ),
        ),
      unknownKey,
    ],
    [
      "an embedded jwk, signed by it",
      () =>
        bearer(
          signJwt({ alg: "RS256", typ: "at+jwt", kid: attackerKey.kid, jwk: attackerPublicJwk }, claims(), attackerKey),
        ),
      unknownKey,
    ],
    [
      "an embedded jwk under the server's kid",
      () =>
        bearer(
          signJwt({ alg: "RS256", typ: "at+jwt", kid: as.key.kid, jwk: attackerPublicJwk }, claims(), attackerKey),
        ),
      invalidToken("signature_invalid"),
    ],
    [
      "an x5c chain without kid",
      () =>
        bearer(
          signJwt({ alg: "RS256", typ: "at+jwt", x5c: [randomBytes(600).toString("base64")] }, claims(), attackerKey),
        ),
      invalidToken("signature_invalid"),
    ],
  ])("%s", async (_name, attack, outcome) => {
    await run(app, attack(), outcome);
  });

  it("never fetched anything from the URLs in those headers", () => {
    expect([...attacker.hits.entries()]).toEqual([]);
  });
});

describe("unknown crit (RFC 7515 section 4.1.11)", () => {
  it.each<Row>([
    [
      "an unknown extension",
      () => withHeader({ crit: ["urn:example:never"], "urn:example:never": true }),
      invalidToken("unsupported_critical_header"),
    ],
    [
      "b64: false (RFC 7797)",
      () => withHeader({ crit: ["b64"], b64: false }),
      invalidToken("unsupported_critical_header"),
    ],
    ["an empty crit list", () => withHeader({ crit: [] }), invalidToken("unsupported_critical_header")],
    [
      "crit naming a registered claim",
      () => withHeader({ crit: ["exp"] }),
      invalidToken("unsupported_critical_header"),
    ],
  ])("%s", async (_name, attack, outcome) => {
    await run(app, attack(), outcome);
  });
});

describe("stripped, truncated or swapped signatures", () => {
  it.each<Row>([
    [
      "signature stripped, trailing dot kept",
      () => bearer(as.mint(RESOURCE).replace(/[^.]+$/, "")),
      invalidToken("token_malformed"),
    ],
    [
      "signature and its dot stripped",
      () => bearer(as.mint(RESOURCE).replace(/\.[^.]+$/, "")),
      invalidToken("token_malformed"),
    ],
    [
      // RS256: 342 characters; 328 left are whole 4-character groups, so canonical base64url.
      "signature truncated by 14 characters",
      () => bearer(as.mint(RESOURCE).slice(0, -14)),
      invalidToken("signature_invalid"),
    ],
    [
      // One character past a multiple of 4 is no base64url at all.
      "signature truncated to one character",
      () => bearer(as.mint(RESOURCE).replace(/\.([^.])[^.]*$/, ".$1")),
      invalidToken("token_malformed"),
    ],
    [
      "signature respelled: the same bytes with an unused bit of its last character set",
      () => {
        const token = as.mint(RESOURCE);
        const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        return bearer(`${token.slice(0, -1)}${alphabet[alphabet.indexOf(token.at(-1)!) | 1]}`);
      },
      invalidToken("token_malformed"),
    ],
    [
      "signature taken from another valid token",
      () => {
        const [h, p] = as.mint(RESOURCE, { sub: "mallory" }).split(".");
        return bearer(`${h}.${p}.${as.mint(RESOURCE, { sub: "alice" }).split(".")[2]}`);
      },
      invalidToken("signature_invalid"),
    ],
    ["signature with base64 padding", () => bearer(`${as.mint(RESOURCE)}==`), invalidToken("token_malformed")],
  ])("%s", async (_name, attack, outcome) => {
    await run(app, attack(), outcome);
  });
});

describe("JWE and nested tokens", () => {
  const jweHeader = (): string => b64({ alg: "RSA-OAEP-256", enc: "A256GCM", kid: as.key.kid, typ: "at+jwt" });
  it.each<Row>([
    [
      "a five-part JWE",
      () => bearer([jweHeader(), ...[256, 12, 200, 16].map((n) => randomBytes(n).toString("base64url"))].join(".")),
      invalidToken("token_malformed"),
    ],
    [
      "a five-part JWE with direct encryption (empty key part)",
      () =>
        bearer(
          [
            jweHeader(),
            "",
            randomBytes(12).toString("base64url"),
            randomBytes(100).toString("base64url"),
            randomBytes(16).toString("base64url"),
          ].join("."),
        ),
      invalidToken("token_malformed"),
    ],
    [
      "a nested JWT (cty JWT): the payload is a valid token, outer signed by the real key",
      () =>
        bearer(
          signParts(b64({ alg: "RS256", typ: "at+jwt", kid: as.key.kid, cty: "JWT" }), b64(as.mint(RESOURCE)), as.key),
        ),
      invalidToken("token_malformed"),
    ],
    [
      "the payload is a JSON string holding a valid token, signed by the real key",
      () =>
        bearer(
          signParts(
            b64({ alg: "RS256", typ: "at+jwt", kid: as.key.kid }),
            b64(JSON.stringify(as.mint(RESOURCE))),
            as.key,
          ),
        ),
      invalidToken("token_malformed"),
    ],
    [
      "the signature part is a valid token",
      () => {
        const [h, p] = as.mint(RESOURCE).split(".");
        return bearer(`${h}.${p}.${as.mint(RESOURCE)}`);
      },
      invalidToken("token_malformed"),
    ],
    [
      "the signature part is a valid token, base64url-encoded",
      () => {
        const [h, p] = as.mint(RESOURCE).split(".");
        return bearer(`${h}.${p}.${b64(as.mint(RESOURCE))}`);
      },
      invalidToken("signature_invalid"),
    ],
    [
      "a valid token, base64url-encoded as a whole",
      () => bearer(b64(as.mint(RESOURCE))),
      invalidToken("token_malformed"),
    ],
    [
      "two valid tokens joined by a dot",
      () => bearer(`${as.mint(RESOURCE)}.${as.mint(RESOURCE)}`),
      invalidToken("token_malformed"),
    ],
    [
      "a token inside the token string: Bearer Bearer <valid>",
      () => ({ authorization: `Bearer Bearer ${as.mint(RESOURCE)}` }),
      invalidRequest("malformed_authorization_header"),
    ],
  ])("%s", async (_name, attack, outcome) => {
    await run(app, attack(), outcome);
  });
});

describe("exp, nbf and iat (RFC 7519 section 4.1; 60 s clock tolerance)", () => {
  it.each<Row>([
    ["exp missing", () => withClaims({ exp: undefined }), invalidToken("claim_missing")],
    ["exp a numeric string", () => withClaims({ exp: String(nowSeconds() + 600) }), invalidToken("claim_invalid")],
    ["exp null", () => withClaims({ exp: null }), invalidToken("claim_invalid")],
    ["exp true", () => withClaims({ exp: true }), invalidToken("claim_invalid")],
    ["exp an object", () => withClaims({ exp: { $gt: 0 } }), invalidToken("claim_invalid")],
    [
      "expired an hour ago",
      () => withClaims({ iat: nowSeconds() - 7200, exp: nowSeconds() - 3600 }),
      invalidToken("token_expired"),
    ],
    [
      "expired just past the clock tolerance",
      () => withClaims({ exp: nowSeconds() - 120 }),
      invalidToken("token_expired"),
    ],
    ["nbf an hour in the future", () => withClaims({ nbf: nowSeconds() + 3600 }), invalidToken("token_not_yet_valid")],
    ["nbf a string", () => withClaims({ nbf: "0" }), invalidToken("claim_invalid")],
    [
      "iat an hour in the future",
      () => withClaims({ iat: nowSeconds() + 3600 }),
      invalidToken("token_issued_in_future"),
    ],
  ])("%s", async (_name, attack, outcome) => {
    await run(app, attack(), outcome);
  });
});

describe("aud (RFC 8707, RFC 9068 section 4)", () => {
  it.each<Row>([
    ["missing", () => withClaims({ aud: undefined }), invalidToken("audience_mismatch")],
    ["another API", () => withClaims({ aud: "https://api.example.com" }), invalidToken("audience_mismatch")],
    [
      "an array without us",
      () => withClaims({ aud: ["https://api.example.com", "http://127.0.0.1:4444/other"] }),
      invalidToken("audience_mismatch"),
    ],
    ["an empty array", () => withClaims({ aud: [] }), invalidToken("audience_mismatch")],
    [
      "our URL with another path",
      () => withClaims({ aud: "http://127.0.0.1:4444/mcp2" }),
      invalidToken("audience_mismatch"),
    ],
    [
      "our URL with a sub-path",
      () => withClaims({ aud: "http://127.0.0.1:4444/mcp/admin" }),
      invalidToken("audience_mismatch"),
    ],
    [
      "our URL with another port",
      () => withClaims({ aud: "http://127.0.0.1:4445/mcp" }),
      invalidToken("audience_mismatch"),
    ],
    [
      "our URL with the default port",
      () => withClaims({ aud: "http://127.0.0.1/mcp" }),
      invalidToken("audience_mismatch"),
    ],
    ["our URL over https", () => withClaims({ aud: "https://127.0.0.1:4444/mcp" }), invalidToken("audience_mismatch")],
    ["our URL with a query", () => withClaims({ aud: `${RESOURCE}?x=1` }), invalidToken("audience_mismatch")],
    ["an object", () => withClaims({ aud: { url: RESOURCE } }), invalidToken("audience_mismatch")],
    [
      "our URL with userinfo",
      () => withClaims({ aud: "http://evil@127.0.0.1:4444/mcp" }),
      invalidToken("audience_mismatch"),
    ],
    [
      "our host:port as the userinfo of another host",
      () => withClaims({ aud: "http://127.0.0.1:4444@evil.example/mcp" }),
      invalidToken("audience_mismatch"),
    ],
    ["our URL with a fragment", () => withClaims({ aud: `${RESOURCE}#x` }), invalidToken("audience_mismatch")],
    [
      "our URL with userinfo in an array",
      () => withClaims({ aud: ["https://api.example.com", "http://evil:pw@127.0.0.1:4444/mcp/"] }),
      invalidToken("audience_mismatch"),
    ],
  ])("%s", async (_name, attack, outcome) => {
    await run(app, attack(), outcome);
  });
});

describe("iss (exact match, RFC 9068 section 4)", () => {
  it.each<Row>([
    ["another issuer", () => withClaims({ iss: "https://evil.example.com" }), invalidToken("issuer_not_allowed")],
    [
      "our issuer with a trailing slash",
      () => withClaims({ iss: `${as.issuer}/` }),
      invalidToken("issuer_not_allowed"),
    ],
    [
      "our issuer with an uppercase scheme",
      () => withClaims({ iss: as.issuer.replace("http:", "HTTP:") }),
      invalidToken("issuer_not_allowed"),
    ],
    ["our issuer with a path", () => withClaims({ iss: `${as.issuer}/tenant` }), invalidToken("issuer_not_allowed")],
    ["missing", () => withClaims({ iss: undefined }), invalidToken("claim_missing")],
  ])("%s", async (_name, attack, outcome) => {
    await run(app, attack(), outcome);
  });
});

describe("typ under strict mode (RFC 9068 section 2.1, RFC 8725 section 3.11)", () => {
  it.each<Row>([
    ["at+jwt (control)", () => withHeader({ typ: "at+jwt" }), reached],
    ["application/at+jwt (control)", () => withHeader({ typ: "application/at+jwt" }), reached],
    ["JWT", () => withHeader({ typ: "JWT" }), invalidToken("invalid_token_type")],
    ["missing", () => withHeader({ typ: undefined }), invalidToken("invalid_token_type")],
    ["an ID token type", () => withHeader({ typ: "id_token+jwt" }), invalidToken("invalid_token_type")],
    ["a number", () => withHeader({ typ: 1 }), invalidToken("invalid_token_type")],
  ])("%s", async (_name, attack, outcome) => {
    await run(strictApp, attack(), outcome);
  });
});

describe("huge tokens are refused before any signature work", () => {
  let fresh: TestAuthorizationServer;
  let freshApp: Listening;
  const total = (): number => [...fresh.requestCounts.values()].reduce((a, b) => a + b, 0);
  beforeAll(async () => {
    // A server of its own, never asked for anything: any discovery or key-set fetch shows.
    fresh = await startTestAuthorizationServer();
    freshApp = await protectedApp({ resource: RESOURCE, authorizationServers: [fresh.issuer], scopes: ["mcp:read"] });
  });
  afterAll(async () => {
    await freshApp?.close();
    await fresh?.close();
  });

  /** A validly signed token whose length is within [min, max]: padding grows it about 4/3 characters per byte. */
  function signedTokenOfLength(min: number, max: number): string {
    const base = fresh.mint(RESOURCE, { pad: "" }).length;
    for (let n = Math.floor(((min - base) * 3) / 4) - 8; ; n++) {
      const token = fresh.mint(RESOURCE, { pad: "x".repeat(n) });
      if (token.length >= min && token.length <= max) return token;
      if (token.length > max) throw new Error("no token length in range");
    }
  }

  it.each<Row>([
    // Header within limit + 64, token just over 8192: the token-length check.
    [
      "just over the 8192-character limit, validly signed",
      () => bearer(signedTokenOfLength(8193, 8220)),
      invalidToken("token_too_large"),
    ],
    // The whole header over the limit: refused before the header is even parsed.
    [
      "12 kB, validly signed",
      () => bearer(fresh.mint(RESOURCE, { pad: "x".repeat(9000) })),
      invalidToken("token_too_large"),
    ],
    ["12 kB of garbage", () => bearer("a".repeat(12_000)), invalidToken("token_too_large")],
    [
      "12 kB of spaces after a short token",
      () => ({ authorization: `Bearer abc${" ".repeat(12_000)}x`, secrets: [] }),
      invalidToken("token_too_large"),
    ],
  ])("%s", async (_name, attack, outcome) => {
    const sent = attack();
    expect((sent.authorization as string).length).toBeGreaterThan("Bearer ".length + 8192);
    await run(freshApp, sent, outcome);
    expect(total()).toBe(0);
  });

  it("beyond Node's header size limit gets Node's 431, not a 5xx", async () => {
    const res = await rawRequest(`${freshApp.url}/mcp`, {
      headers: { authorization: `Bearer ${"a".repeat(64 * 1024)}` },
    });
    expect(res.status).toBe(431);
    expect(total()).toBe(0);
  });

  it("control: a normal-sized token makes the same server fetch its key set", async () => {
    await run(freshApp, bearer(fresh.mint(RESOURCE)), reached);
    expect(fresh.requestCounts.get("/jwks")).toBe(1);
  });
});

describe("whitespace, control and non-ASCII characters", () => {
  const raw = (...parts: (string | Buffer)[]): Attack => ({
    rawAuthorization: Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "latin1") : p))),
  });
  it.each<Row>([
    [
      "a tab between scheme and token",
      () => ({ authorization: `Bearer\t${as.mint(RESOURCE)}` }),
      invalidRequest("malformed_authorization_header"),
    ],
    [
      "a tab inside the token",
      () => {
        const t = as.mint(RESOURCE);
        return { authorization: `Bearer ${t.slice(0, 20)}\t${t.slice(20)}`, secrets: [t.slice(20)] };
      },
      invalidRequest("malformed_authorization_header"),
    ],
    [
      "a space inside the token",
      () => {
        const t = as.mint(RESOURCE);
        return { authorization: `Bearer ${t.slice(0, 20)} ${t.slice(20)}`, secrets: [t.slice(20)] };
      },
      invalidRequest("malformed_authorization_header"),
    ],
    [
      "a second word after the token",
      () => ({ authorization: `Bearer ${as.mint(RESOURCE)} extra` }),
      invalidRequest("malformed_authorization_header"),
    ],
    [
      "a no-break space between scheme and token",
      () => raw("Bearer\u00a0", as.mint(RESOURCE)),
      invalidRequest("malformed_authorization_header"),
    ],
    [
      "a Latin-1 letter in the token",
      () => raw("Bearer ", as.mint(RESOURCE), "\u00e9"),
      invalidRequest("malformed_authorization_header"),
    ],
    [
      "UTF-8 (euro sign) in the token",
      () => raw("Bearer ", as.mint(RESOURCE), Buffer.from("\u20ac", "utf8")),
      invalidRequest("malformed_authorization_header"),
    ],
    [
      "a full-width B in the scheme (UTF-8)",
      () => raw(Buffer.from("\uff22earer ", "utf8"), as.mint(RESOURCE)),
      invalidRequest("malformed_authorization_header"),
    ],
    [
      "a Cyrillic lookalike scheme (UTF-8)",
      () => raw(Buffer.from("\u0412earer ", "utf8"), as.mint(RESOURCE)),
      invalidRequest("malformed_authorization_header"),
    ],
    ["a NUL byte in the token", () => raw("Bearer ", as.mint(RESOURCE), "\u0000"), parser],
    ["SOH in the token", () => raw("Bearer abc\u0001def"), parser],
    ["a vertical tab after the scheme", () => raw("Bearer\u000b", as.mint(RESOURCE)), parser],
    ["DEL in the token", () => raw("Bearer ", as.mint(RESOURCE), "\u007f"), parser],
    ["a bare CR in the token", () => raw("Bearer abc\rdef"), parser],
  ])("%s", async (_name, attack, outcome) => {
    await run(app, attack(), outcome);
  });
});

describe("schemes, duplicates and empty credentials (RFC 6750 sections 2.1, 3.1)", () => {
  it.each<Row>([
    [
      "two Authorization headers, both valid",
      () => ({ authorization: [`Bearer ${as.mint(RESOURCE)}`, `Bearer ${as.mint(RESOURCE)}`] }),
      invalidRequest("multiple_authorization_headers"),
    ],
    [
      "two Authorization headers, one valid and one empty",
      () => ({ authorization: [`Bearer ${as.mint(RESOURCE)}`, ""] }),
      invalidRequest("multiple_authorization_headers"),
    ],
    [
      "two Authorization headers, Basic and Bearer",
      () => ({ authorization: ["Basic dXNlcjpwYXNz", `Bearer ${as.mint(RESOURCE)}`] }),
      invalidRequest("multiple_authorization_headers"),
    ],
    ["Basic", () => ({ authorization: "Basic dXNlcjpwYXNzd29yZA==" }), noCredentials("unsupported_scheme")],
    [
      "Basic carrying a valid JWT",
      () => ({ authorization: `Basic ${as.mint(RESOURCE)}` }),
      noCredentials("unsupported_scheme"),
    ],
    [
      "another scheme (Token) with a valid JWT",
      () => ({ authorization: `Token ${as.mint(RESOURCE)}` }),
      noCredentials("unsupported_scheme"),
    ],
    ["Bearer with no token", () => ({ authorization: "Bearer" }), invalidRequest("malformed_authorization_header")],
    [
      "Bearer and a space, no token",
      () => ({ authorization: "Bearer " }),
      invalidRequest("malformed_authorization_header"),
    ],
    ["an empty Authorization header", () => ({ authorization: "" }), noCredentials("token_missing")],
    ["no Authorization header", () => ({}), noCredentials("token_missing")],
  ])("%s", async (_name, attack, outcome) => {
    await run(app, attack(), outcome);
  });
});

describe("tokens outside the Authorization header (MCP authorization, RFC 6750 section 2)", () => {
  it.each<Row>([
    [
      "in the query string alongside a valid header",
      () => {
        const t = as.mint(RESOURCE);
        return { ...bearer(as.mint(RESOURCE)), path: `/mcp?access_token=${t}`, secrets: [t] };
      },
      invalidRequest("token_in_query"),
    ],
    [
      "in the query string alone",
      () => {
        const t = as.mint(RESOURCE);
        return { path: `/mcp?x=1&access_token=${t}`, secrets: [t] };
      },
      invalidRequest("token_in_query"),
    ],
    [
      "in a form body alongside a valid header",
      () => {
        const t = as.mint(RESOURCE);
        return {
          ...bearer(as.mint(RESOURCE)),
          contentType: "application/x-www-form-urlencoded",
          body: `access_token=${t}`,
          secrets: [t],
        };
      },
      invalidRequest("token_in_body"),
    ],
    // Without an Authorization header there is nothing to authenticate: the body is not even read.
    [
      "in a form body alone",
      () => {
        const t = as.mint(RESOURCE);
        return {
          contentType: "application/x-www-form-urlencoded; charset=utf-8",
          body: `a=1&access_token=${t}`,
          secrets: [t],
        };
      },
      noCredentials("token_missing"),
    ],
    [
      "the same valid token in header and form body",
      () => {
        const t = as.mint(RESOURCE);
        return { ...bearer(t), contentType: "application/x-www-form-urlencoded", body: `access_token=${t}` };
      },
      invalidRequest("token_in_body"),
    ],
  ])("%s", async (_name, attack, outcome) => {
    await run(app, attack(), outcome);
  });
});

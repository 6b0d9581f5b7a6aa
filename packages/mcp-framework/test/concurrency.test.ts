/**
 * getAuthError() takes no request, so the provider queues its refusals in the order
 * authenticate() settles. Many refusals of different kinds in flight at once must each get
 * their own status and challenge, on both transports.
 *
 * The key set is served slowly (a stub in front of the real one), so on a cold server the
 * JWT requests all wait for the same key-set load and then settle in one burst, several
 * refusals of different kinds queued at the same moment: the case a LIFO or single-slot
 * getAuthError() gets wrong. Later rounds run with the key set warm.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { startTestAuthorizationServer, type TestAuthorizationServer } from "../../../test/helpers/authorization-server.js";
import { startStubServer, type StubServer } from "../../../test/helpers/stub-server.js";
import { bearerChallenge, DESCRIPTIONS, INITIALIZE, nowSeconds, postJson, rawRequest, startExample, type RawResponse, type RunningExample } from "./support.js";

const JWKS_DELAY_MS = 250;

let as: TestAuthorizationServer;
let slowJwks: StubServer;

beforeAll(async () => {
  [as, slowJwks] = await Promise.all([startTestAuthorizationServer(), startStubServer()]);
  slowJwks.handle("/jwks", (_req, res) => {
    setTimeout(() => {
      fetch(as.jwksUri).then((r) => r.text()).then((body) => {
        res.setHeader("content-type", "application/json");
        res.end(body);
      }, () => {
        res.statusCode = 502;
        res.end();
      });
    }, JWKS_DELAY_MS);
  });
});
afterAll(async () => {
  await Promise.all([as.close(), slowJwks.close()]);
});

interface Case {
  kind: string;
  authorization: string | undefined;
  query?: string;
  status: number;
  /** The challenge's error and error_description; undefined: no error parameter. */
  error: [string, string] | undefined;
}

/** A deterministic shuffle, so every run interleaves kinds the same way. */
function shuffle<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function cases(resource: string, round: number, withValid: boolean): Case[] {
  const list: Case[] = [];
  const now = nowSeconds();
  for (let i = 0; i < 3; i++) {
    const n = `${round}-${i}`;
    const mint = (claims: Record<string, unknown>): string => `Bearer ${as.mint(resource, { jti: `${n}-${Math.random()}`, ...claims })}`;
    list.push({ kind: `missing-${n}`, authorization: undefined, status: 401, error: undefined });
    list.push({ kind: `malformed-${n}`, authorization: `Bearer garbage-${n}`, status: 401, error: ["invalid_token", DESCRIPTIONS.malformed] });
    // Distinct JWTs of different faults: all need the key set before they fail.
    list.push({ kind: `expired-${n}`, authorization: mint({ iat: now - 7200, exp: now - 60 }), status: 401, error: ["invalid_token", DESCRIPTIONS.expired] });
    list.push({ kind: `not-yet-valid-${n}`, authorization: mint({ nbf: now + 3600 }), status: 401, error: ["invalid_token", DESCRIPTIONS.notYetValid] });
    list.push({ kind: `wrong-audience-${n}`, authorization: mint({ aud: `${resource}/other` }), status: 401, error: ["invalid_token", DESCRIPTIONS.audience] });
    list.push({ kind: `tampered-${n}`, authorization: `${mint({}).slice(0, -8)}AAAAAAAA`, status: 401, error: ["invalid_token", DESCRIPTIONS.signature] });
    list.push({ kind: `insufficient-scope-${n}`, authorization: mint({ scope: "mcp:write" }), status: 403, error: ["insufficient_scope", DESCRIPTIONS.scope] });
    if (withValid) list.push({ kind: `valid-${n}`, authorization: mint({}), status: 200, error: undefined });
  }
  list.push({ kind: "basic-scheme", authorization: "Basic dXNlcjpwYXNz", status: 401, error: undefined });
  list.push({ kind: "bearer-without-token", authorization: "Bearer", status: 400, error: ["invalid_request", DESCRIPTIONS.malformedHeader] });
  list.push({ kind: "token-in-query", authorization: undefined, query: "?access_token=abc", status: 400, error: ["invalid_request", DESCRIPTIONS.queryToken] });
  return shuffle(list, round + 7);
}

function expectOwnAnswer(c: Case, res: RawResponse, rootMetadata: string): void {
  // `kind` is in the compared object so a failure names the request that got a wrong answer.
  const got = { kind: c.kind, status: res.status, challenge: res.status === 200 ? undefined : bearerChallenge(res.headers["www-authenticate"]) };
  const expected = {
    kind: c.kind,
    status: c.status,
    challenge: c.status === 200 ? undefined : {
      ...(c.error ? { error: c.error[0], error_description: c.error[1] } : {}),
      resource_metadata: rootMetadata,
      scope: "mcp:read",
    },
  };
  expect(got).toEqual(expected);
  if (c.status !== 200) expect(JSON.parse(res.body)).toEqual({ error: c.error?.[1] ?? expect.any(String), status: c.status, type: "authentication_error" });
}

// Key sources are shared per jwks URI across providers; a query per server keeps each one cold.
const env = (transport: string): Record<string, string> => ({
  MCP_TRANSPORT: transport, MCP_RESPONSE_MODE: "batch", OAUTH_SCOPES: "mcp:read",
  OAUTH_AUTHORIZATION_SERVER: as.issuer, OAUTH_JWKS_URI: `${slowJwks.url}/jwks?for=${transport}`,
});

describe("HTTP Stream: concurrent refusals of mixed kinds", () => {
  let ex: RunningExample;
  beforeAll(async () => {
    ex = await startExample(env("http-stream"));
  });
  afterAll(() => ex.stop());

  it.each([
    [1, "cold key set"],
    [2, "warm key set"],
    [3, "warm key set"],
  ])("round %i (%s): every response matches its own request", async (round) => {
    const list = cases(ex.url, round, true);
    expect(list.length).toBeGreaterThanOrEqual(20);
    const responses = await Promise.all(list.map((c) => postJson(`${ex.url}${c.query ?? ""}`, INITIALIZE, c.authorization ? { authorization: c.authorization } : {})));
    list.forEach((c, i) => expectOwnAnswer(c, responses[i]!, `${ex.origin}/.well-known/oauth-protected-resource`));
  });
});

describe("SSE: concurrent refusals of mixed kinds on the stream endpoint", () => {
  let ex: RunningExample;
  beforeAll(async () => {
    ex = await startExample(env("sse"));
  });
  afterAll(() => ex.stop());

  it.each([
    [1, "cold key set"],
    [2, "warm key set"],
  ])("round %i (%s): every refusal matches its own request", async (round) => {
    // Refusals only: a valid token would open an endless event stream.
    const list = cases(ex.url, round, false);
    expect(list.length).toBeGreaterThanOrEqual(20);
    const responses = await Promise.all(list.map((c) => rawRequest(`${ex.url}${c.query ?? ""}`, {
      headers: { accept: "text/event-stream", ...(c.authorization ? { authorization: c.authorization } : {}) },
    })));
    list.forEach((c, i) => expectOwnAnswer(c, responses[i]!, `${ex.origin}/.well-known/oauth-protected-resource`));
  });
});

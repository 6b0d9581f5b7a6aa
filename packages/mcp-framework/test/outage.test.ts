/**
 * A failure inside validation (authorization server down, key set or introspection
 * endpoint answering 500) never becomes a 500 and never `invalid_token`: the provider
 * reports 503 through `getAuthError()`.
 *
 * What mcp-framework 0.2.22 allows for that answer (transports/utils/auth-handler.js):
 * - the status is ours (getAuthError().status), the body is the framework's own
 *   `{ error: <message>, status, type: "authentication_error" }`, not the library's
 *   `{ error: "temporarily_unavailable", error_description }`;
 * - it sets no other header than WWW-Authenticate, so there is NO `Retry-After` (the core
 *   computes one; the framework cannot send it);
 * - it always sets WWW-Authenticate for an OAuthAuthProvider: the bridge then sends the
 *   plain challenge without an `error`, so clients do not discard their token.
 * Running the Express middlewares in front (express-front.test.ts) gives the full answer.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { startTestAuthorizationServer, type TestAuthorizationServer } from "../../../test/helpers/authorization-server.js";
import { json, startStubServer, type StubServer } from "../../../test/helpers/stub-server.js";
import { bearerChallenge, DESCRIPTIONS, freePort, frameworkErrorBody, INITIALIZE, postJson, startExample, type RunningExample } from "./support.js";

let as: TestAuthorizationServer;
let stub: StubServer;

beforeAll(async () => {
  [as, stub] = await Promise.all([startTestAuthorizationServer(), startStubServer()]);
  for (const path of ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration", "/jwks", "/introspect"]) {
    stub.handle(path, json({ error: "server_error" }, 500));
  }
});
afterAll(async () => {
  await Promise.all([as.close(), stub.close()]);
});

function expectOutageAnswer(res: { status: number; headers: Record<string, string | string[] | undefined>; body: string }, rootMetadata: string): void {
  expect(res.status).toBe(503);
  expect(res.headers["retry-after"]).toBeUndefined();
  expect(JSON.parse(res.body)).toEqual(frameworkErrorBody(503, DESCRIPTIONS.outage));
  // Never invalid_token: the plain challenge, without an error.
  expect(bearerChallenge(res.headers["www-authenticate"])).toEqual({ resource_metadata: rootMetadata, scope: "mcp:read" });
}

describe.each([
  ["authorization server at a closed port (JWT)", async () => {
    const issuer = `http://127.0.0.1:${await freePort()}`;
    return { env: { OAUTH_AUTHORIZATION_SERVER: issuer }, token: (resource: string) => as.mint(resource, { iss: issuer }), hits: undefined };
  }],
  ["key set answering 500 (JWT)", async () => {
    const before = stub.hits.get("/jwks") ?? 0;
    return {
      env: { OAUTH_AUTHORIZATION_SERVER: stub.url, OAUTH_JWKS_URI: `${stub.url}/jwks` },
      token: (resource: string) => as.mint(resource, { iss: stub.url }),
      hits: () => (stub.hits.get("/jwks") ?? 0) - before,
    };
  }],
  ["introspection endpoint answering 500 (opaque token)", async () => {
    const before = stub.hits.get("/introspect") ?? 0;
    return {
      env: {
        OAUTH_AUTHORIZATION_SERVER: stub.url, OAUTH_VALIDATION: "introspection",
        OAUTH_INTROSPECTION_ENDPOINT: `${stub.url}/introspect`, OAUTH_CLIENT_ID: "rs", OAUTH_CLIENT_SECRET: "secret",
      },
      token: () => "opaque-token-0123456789abcdef",
      hits: () => (stub.hits.get("/introspect") ?? 0) - before,
    };
  }],
])("%s", (_name, setup) => {
  let ex: RunningExample;
  let token: (resource: string) => string;
  let hits: (() => number) | undefined;

  beforeAll(async () => {
    const s = await setup();
    token = s.token;
    hits = s.hits;
    ex = await startExample({ MCP_TRANSPORT: "http-stream", OAUTH_SCOPES: "mcp:read", ...s.env });
  });
  afterAll(() => ex.stop());

  it("answers 503, not 500 and not invalid_token, and keeps doing so on retry", async () => {
    const rootMetadata = `${ex.origin}/.well-known/oauth-protected-resource`;
    const first = await postJson(ex.url, INITIALIZE, { authorization: `Bearer ${token(ex.url)}` });
    expectOutageAnswer(first, rootMetadata);
    // The stub really was asked (the 503 comes from the outage path, not elsewhere).
    if (hits) expect(hits()).toBeGreaterThan(0);
    const again = await postJson(ex.url, INITIALIZE, { authorization: `Bearer ${token(ex.url)}` });
    expectOutageAnswer(again, rootMetadata);
  });

  it("a request without a token still gets the 401 challenge during the outage", async () => {
    const res = await postJson(ex.url, INITIALIZE);
    expect(res.status).toBe(401);
    expect(bearerChallenge(res.headers["www-authenticate"])).toEqual({ resource_metadata: `${ex.origin}/.well-known/oauth-protected-resource`, scope: "mcp:read" });
  });
});

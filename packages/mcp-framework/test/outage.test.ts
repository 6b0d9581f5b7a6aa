/**
 * A failure inside validation (authorization server down, key set or introspection
 * endpoint answering 500) never becomes a 500 and never `invalid_token`: on the framework's
 * own transports the bridge sends the library's 503 answer, as the Express side does, with
 * `Retry-After` and the `temporarily_unavailable` body.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { McpOAuthError } from "@mcp-oauth/core";
import {
  startTestAuthorizationServer,
  type TestAuthorizationServer,
} from "../../../test/helpers/authorization-server.js";
import { json, startStubServer, type StubServer } from "../../../test/helpers/stub-server.js";
import {
  bearerChallenge,
  DESCRIPTIONS,
  freePort,
  errorBody,
  INITIALIZE,
  postJson,
  startExample,
  type RunningExample,
} from "./support.js";

let as: TestAuthorizationServer;
let stub: StubServer;

beforeAll(async () => {
  [as, stub] = await Promise.all([startTestAuthorizationServer(), startStubServer()]);
  for (const path of [
    "/.well-known/oauth-authorization-server",
    "/.well-known/openid-configuration",
    "/jwks",
    "/introspect",
  ]) {
    stub.handle(path, json({ error: "server_error" }, 500));
  }
});
afterAll(async () => {
  await Promise.all([as.close(), stub.close()]);
});

function expectOutageAnswer(
  ex: RunningExample,
  res: { status: number; headers: Record<string, string | string[] | undefined>; body: string },
): void {
  const answer = ex.provider.resourceServer.answer(new McpOAuthError("upstream_unavailable", "test"));
  expect(res.status).toBe(503);
  // Seconds until the next upstream attempt (RFC 9110 section 10.2.3); it depends on the backoff.
  expect(res.headers["retry-after"]).toMatch(/^[1-9]\d*$/);
  expect(JSON.parse(res.body)).toEqual(errorBody(503, DESCRIPTIONS.outage));
  for (const [name, value] of Object.entries(answer.headers))
    if (name !== "Retry-After") expect(res.headers[name.toLowerCase()]).toBe(value);
  // Never invalid_token: no challenge that would make the client discard its token.
  expect(res.headers["www-authenticate"]).toBeUndefined();
}

describe.each([
  [
    "authorization server at a closed port (JWT)",
    async () => {
      const issuer = `http://127.0.0.1:${await freePort()}`;
      return {
        env: { OAUTH_AUTHORIZATION_SERVER: issuer },
        token: (resource: string) => as.mint(resource, { iss: issuer }),
        hits: undefined,
      };
    },
  ],
  [
    "key set answering 500 (JWT)",
    async () => {
      const before = stub.hits.get("/jwks") ?? 0;
      return {
        env: { OAUTH_AUTHORIZATION_SERVER: stub.url, OAUTH_JWKS_URI: `${stub.url}/jwks` },
        token: (resource: string) => as.mint(resource, { iss: stub.url }),
        hits: () => (stub.hits.get("/jwks") ?? 0) - before,
      };
    },
  ],
  [
    "introspection endpoint answering 500 (opaque token)",
    async () => {
      const before = stub.hits.get("/introspect") ?? 0;
      return {
        env: {
          OAUTH_AUTHORIZATION_SERVER: stub.url,
          OAUTH_VALIDATION: "introspection",
          OAUTH_INTROSPECTION_ENDPOINT: `${stub.url}/introspect`,
          OAUTH_CLIENT_ID: "rs",
          OAUTH_CLIENT_SECRET: "secret",
        },
        token: () => "opaque-token-0123456789abcdef",
        hits: () => (stub.hits.get("/introspect") ?? 0) - before,
      };
    },
  ],
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
    const first = await postJson(ex.url, INITIALIZE, { authorization: `Bearer ${token(ex.url)}` });
    expectOutageAnswer(ex, first);
    // The stub really was asked (the 503 comes from the outage path, not elsewhere).
    if (hits) expect(hits()).toBeGreaterThan(0);
    const again = await postJson(ex.url, INITIALIZE, { authorization: `Bearer ${token(ex.url)}` });
    expectOutageAnswer(ex, again);
  });

  it("a request without a token still gets the 401 challenge during the outage", async () => {
    const res = await postJson(ex.url, INITIALIZE);
    expect(res.status).toBe(401);
    expect(bearerChallenge(res.headers["www-authenticate"])).toEqual({
      resource_metadata: `${ex.origin}/.well-known/oauth-protected-resource/mcp`,
      scope: "mcp:read",
    });
  });
});

/**
 * requireBearer(): one Bearer token from the Authorization header, verified against the
 * real oidc-provider authorization server, or an RFC 6750 answer.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import express, { type Express } from "express";
import { createSecretKey } from "node:crypto";
import { createServer } from "node:http";
import request from "supertest";
import { requireBearer, type McpOAuthOptions } from "@mcp-oauth/express";
import { generateSigningKey, obtainAccessToken } from "@mcp-oauth/local-authorization-server";
import {
  startTestAuthorizationServer,
  type TestAuthorizationServer,
} from "../../../test/helpers/authorization-server.js";
import { publicPem, signJwt, unsignedJwt } from "../../../test/helpers/jwt.js";
import { rawSocketRequest } from "../../../test/helpers/raw-socket.js";
import { FORM_BODY_LIMIT_BYTES } from "../src/read-body.js";
import { bearerChallenge, listen, nowSeconds, rawRequest, type Listening, serverFor } from "./support.js";

const RESOURCE = "http://127.0.0.1:4444/mcp";
const METADATA_URL = "http://127.0.0.1:4444/.well-known/oauth-protected-resource/mcp";

let as: TestAuthorizationServer;
let options: McpOAuthOptions;
let app: Express;

function appFor(opts: McpOAuthOptions, before: express.RequestHandler[] = []): Express {
  const a = express();
  for (const handler of before) a.use(handler);
  a.use(requireBearer(serverFor(opts)));
  a.post("/mcp", (req, res) => {
    res.json(req.auth);
  });
  a.get("/mcp", (req, res) => {
    res.json(req.auth);
  });
  a.options("/mcp", (_req, res) => {
    res.status(204).set("X-Reached", "route").end();
  });
  return a;
}

beforeAll(async () => {
  as = await startTestAuthorizationServer();
  options = { resource: RESOURCE, authorizationServers: [as.issuer] };
  app = appFor(options);
});
afterAll(() => as.close());

/** The checks every refusal shares: JSON body, no-store, and the token never echoed. */
function expectRefusal(res: request.Response, status: number, error: string, token?: string): void {
  expect(res.status).toBe(status);
  expect(res.headers["content-type"]).toMatch(/^application\/json(;|$)/);
  expect(res.headers["cache-control"]).toBe("no-store");
  expect(res.body).toEqual({ error, error_description: expect.any(String) });
  expect((res.body as { error_description: string }).error_description.length).toBeGreaterThan(0);
  if (token !== undefined) {
    const signature = token.split(".")[2] ?? "";
    for (const piece of [token, token.split(".")[1] ?? token, ...(signature.length > 8 ? [signature] : [])]) {
      expect(res.text).not.toContain(piece);
      expect(res.headers["www-authenticate"] ?? "").not.toContain(piece);
    }
  }
}

describe("a valid token", () => {
  it("from the real authorization-code flow reaches the route with req.auth in the SDK's AuthInfo shape", async () => {
    const { access_token: token, client_id: clientId } = await obtainAccessToken(as.issuer, {
      resource: RESOURCE,
      scope: "mcp:read mcp:write",
      login: "carol",
    });
    const before = nowSeconds();
    const res = await request(app)
      .post("/mcp")
      .set("Authorization", `Bearer ${token}`)
      .send({ jsonrpc: "2.0", id: 1, method: "ping" });
    expect(res.status).toBe(200);
    const auth = res.body as Record<string, unknown> & {
      extra: Record<string, unknown> & { claims: Record<string, unknown> };
    };
    expect(auth.token).toBe(token);
    expect(auth.clientId).toBe(clientId);
    expect([...(auth.scopes as string[])].sort()).toEqual(["mcp:read", "mcp:write"]);
    expect(Number.isInteger(auth.expiresAt)).toBe(true);
    // Seconds, not milliseconds: the AS issues one-hour tokens.
    expect(auth.expiresAt as number).toBeGreaterThan(before);
    expect(auth.expiresAt as number).toBeLessThanOrEqual(before + 3600 + 5);
    expect(auth.resource).toBe(RESOURCE);
    expect(auth.extra.sub).toBe("carol");
    expect(auth.extra.iss).toBe(as.issuer);
    expect(auth.extra.aud).toBe(RESOURCE);
    expect(auth.extra.claims).toMatchObject({
      sub: "carol",
      iss: as.issuer,
      aud: RESOURCE,
      client_id: clientId,
      exp: auth.expiresAt,
    });
    expect(typeof auth.extra.claims["jti"]).toBe("string");
  });

  it.each(["Bearer", "bearer", "BEARER", "BeArEr"])("is accepted with the scheme spelled %s", async (scheme) => {
    const token = as.mint(RESOURCE, { sub: "dave" });
    const res = await request(app).post("/mcp").set("Authorization", `${scheme} ${token}`);
    expect(res.status).toBe(200);
    expect(res.body.extra.sub).toBe("dave");
  });

  it("is accepted on GET too", async () => {
    const res = await request(app)
      .get("/mcp")
      .set("Authorization", `Bearer ${as.mint(RESOURCE)}`);
    expect(res.status).toBe(200);
    expect(res.body.token).toEqual(expect.any(String));
  });

  it("sets req.auth with the minted claims (scope string, client_id)", async () => {
    const token = as.mint(RESOURCE, { scope: "mcp:read  mcp:tools", client_id: "my-client", sub: "erin" });
    const res = await request(app).post("/mcp").set("Authorization", `Bearer ${token}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      token,
      clientId: "my-client",
      scopes: ["mcp:read", "mcp:tools"],
      resource: RESOURCE,
      extra: { sub: "erin", iss: as.issuer, aud: RESOURCE },
    });
  });
});

describe("headers the core adds to an accepted answer", () => {
  it("are set on the answer the route sends (a fresh DPoP-Nonce, RFC 9449 section 8.2), and none when it adds none", async () => {
    const server = serverFor(options);
    // The core decides when a nonce is due (dpop-resource-server.test.ts); the adapter's part is
    // to carry what it returns.
    const headers = jest.spyOn(server, "successHeaders").mockReturnValueOnce({ "DPoP-Nonce": "fresh-nonce" });
    const a = express();
    a.use(requireBearer(server));
    a.post("/mcp", (_req, res) => void res.json({}));
    const token = as.mint(RESOURCE);
    const first = await request(a).post("/mcp").set("Authorization", `Bearer ${token}`);
    expect(first.status).toBe(200);
    expect(first.headers["dpop-nonce"]).toBe("fresh-nonce");
    const second = await request(a).post("/mcp").set("Authorization", `Bearer ${token}`);
    expect(second.status).toBe(200);
    expect(second.headers["dpop-nonce"]).toBeUndefined();
    expect(headers).toHaveBeenCalledTimes(2);
  });
});

describe("the audience", () => {
  it.each([
    ["exactly the resource", RESOURCE],
    ["with an uppercase scheme and host", "HTTP://127.0.0.1:4444/mcp"],
    ["with one trailing slash", `${RESOURCE}/`],
    ["in an array with another audience", ["https://other.example/api", RESOURCE]],
  ])("is accepted %s", async (_name, aud) => {
    const res = await request(app)
      .post("/mcp")
      .set("Authorization", `Bearer ${as.mint(RESOURCE, { aud })}`);
    expect(res.status).toBe(200);
  });

  it.each([
    ["with two trailing slashes", `${RESOURCE}//`],
    ["with a different path case", "http://127.0.0.1:4444/MCP"],
    ["as a prefix of the resource", "http://127.0.0.1:4444"],
    ["as a longer path", `${RESOURCE}/tools`],
    ["in an array without the resource", ["https://other.example/api", "http://127.0.0.1:4444/other"]],
  ])("is refused %s", async (_name, aud) => {
    const token = as.mint(RESOURCE, { aud });
    const res = await request(app).post("/mcp").set("Authorization", `Bearer ${token}`);
    expectRefusal(res, 401, "invalid_token", token);
  });
});

describe("no token", () => {
  it("answers 401 with a Bearer challenge that carries resource_metadata and no error", async () => {
    const res = await request(app).post("/mcp").send({ jsonrpc: "2.0", id: 1, method: "ping" });
    expectRefusal(res, 401, res.body.error);
    expect(res.body.error).not.toBe("invalid_token");
    expect(bearerChallenge(res.headers["www-authenticate"])).toEqual({ resource_metadata: METADATA_URL });
  });

  it("adds scope to the challenge when base scopes are configured", async () => {
    const scoped = appFor({ resource: RESOURCE, authorizationServers: [as.issuer], scopes: ["mcp:read", "mcp:tools"] });
    const res = await request(scoped).post("/mcp");
    expectRefusal(res, 401, res.body.error);
    expect(bearerChallenge(res.headers["www-authenticate"])).toEqual({
      resource_metadata: METADATA_URL,
      scope: "mcp:read mcp:tools",
    });
  });

  it("treats a Basic credential like no token: 401 without an error parameter", async () => {
    const res = await request(app).post("/mcp").set("Authorization", "Basic dXNlcjpwYXNz");
    expectRefusal(res, 401, res.body.error);
    const params = bearerChallenge(res.headers["www-authenticate"]);
    expect(params["error"]).toBeUndefined();
    expect(params["resource_metadata"]).toBe(METADATA_URL);
  });

  it("answers a plain OPTIONS (not a preflight) with the 401 challenge", async () => {
    const res = await request(app).options("/mcp");
    expect(res.status).toBe(401);
    expect(res.headers["x-reached"]).toBeUndefined();
    expect(bearerChallenge(res.headers["www-authenticate"])).toEqual({ resource_metadata: METADATA_URL });
  });
});

describe("a presented but invalid token", () => {
  const claims = (): Record<string, unknown> => {
    const now = nowSeconds();
    return {
      iss: as.issuer,
      sub: "mallory",
      aud: RESOURCE,
      client_id: "c",
      scope: "mcp:read",
      iat: now,
      exp: now + 600,
    };
  };
  const cases: [string, () => string][] = [
    ["expired", () => as.mint(RESOURCE, { iat: nowSeconds() - 7200, exp: nowSeconds() - 3600 })],
    ["not yet valid (nbf in the future)", () => as.mint(RESOURCE, { nbf: nowSeconds() + 3600 })],
    ["issued in the future (iat)", () => as.mint(RESOURCE, { iat: nowSeconds() + 3600 })],
    ["without exp", () => as.mint(RESOURCE, { exp: undefined })],
    ["from an untrusted issuer", () => as.mint(RESOURCE, { iss: "http://127.0.0.1:1" })],
    ["from the issuer with a trailing slash", () => as.mint(RESOURCE, { iss: `${as.issuer}/` })],
    ["for another audience", () => as.mint(RESOURCE, { aud: "http://127.0.0.1:4444/other" })],
    ["for another resource on another host", () => as.mint("http://127.0.0.1:5555/mcp")],
    ["without aud", () => as.mint(RESOURCE, { aud: undefined })],
    [
      "signed by another key under the server's kid",
      () => signJwt({ alg: "RS256", typ: "at+jwt", kid: as.key.kid }, claims(), generateSigningKey("RS256")),
    ],
    ["with alg none", () => unsignedJwt(claims())],
    ["with alg none and a kid", () => unsignedJwt(claims(), { alg: "none", typ: "at+jwt", kid: as.key.kid })],
    [
      "HS256 signed with the RSA public key PEM",
      () =>
        signJwt(
          { alg: "HS256", typ: "at+jwt", kid: as.key.kid },
          claims(),
          createSecretKey(Buffer.from(publicPem(as.key))),
        ),
    ],
    ["with an unknown kid", () => as.mint(RESOURCE, {}, { kid: "no-such-key" })],
    ["with a truncated signature", () => as.mint(RESOURCE).slice(0, -12)],
    [
      "with a flipped payload",
      () => {
        const [h, , s] = as.mint(RESOURCE).split(".");
        return `${h}.${Buffer.from(JSON.stringify({ ...claims(), scope: "mcp:admin" })).toString("base64url")}.${s}`;
      },
    ],
    [
      "with an unknown crit header",
      () => as.mint(RESOURCE, {}, { crit: ["urn:example:never"], "urn:example:never": true }),
    ],
    ["typed as an ID token", () => as.mint(RESOURCE, {}, { typ: "id+jwt" })],
    ["that is not a JWT", () => "abc.def"],
  ];

  it.each(cases)("answers 401 invalid_token when %s, never echoing the token", async (_name, make) => {
    const token = make();
    const res = await request(app).post("/mcp").set("Authorization", `Bearer ${token}`);
    expectRefusal(res, 401, "invalid_token", token);
    const params = bearerChallenge(res.headers["www-authenticate"]);
    expect(params["error"]).toBe("invalid_token");
    expect(params["resource_metadata"]).toBe(METADATA_URL);
    expect(params["error_description"]).toBe(res.body.error_description);
    expect(params["error_description"]!.length).toBeGreaterThan(0);
  });

  it("challenges an invalid token with the base scopes too", async () => {
    const scoped = appFor({ resource: RESOURCE, authorizationServers: [as.issuer], scopes: ["mcp:read"] });
    const token = as.mint(RESOURCE, { exp: nowSeconds() - 3600, iat: nowSeconds() - 7200 });
    const res = await request(scoped).post("/mcp").set("Authorization", `Bearer ${token}`);
    expectRefusal(res, 401, "invalid_token", token);
    expect(bearerChallenge(res.headers["www-authenticate"])).toMatchObject({
      error: "invalid_token",
      resource_metadata: METADATA_URL,
      scope: "mcp:read",
    });
  });
});

describe("tokens in the wrong place", () => {
  it("refuses ?access_token= in the query string with 400 invalid_request", async () => {
    const token = as.mint(RESOURCE);
    const res = await request(app).post(`/mcp?access_token=${token}`);
    expectRefusal(res, 400, "invalid_request", token);
    expect(bearerChallenge(res.headers["www-authenticate"])).toMatchObject({
      error: "invalid_request",
      resource_metadata: METADATA_URL,
    });
  });

  it("refuses ?access_token= even with a valid Authorization header", async () => {
    const token = as.mint(RESOURCE);
    const res = await request(app).post(`/mcp?foo=1&access_token=${token}`).set("Authorization", `Bearer ${token}`);
    expectRefusal(res, 400, "invalid_request", token);
  });

  it("answers a form body without an Authorization header with 401, without reading the body", async () => {
    // Nothing to authenticate: the body is never read (see "bounded work before
    // authentication" below), so a token in it is never seen, let alone used.
    const token = as.mint(RESOURCE);
    const res = await request(app).post("/mcp").type("form").send(`access_token=${token}`);
    expect(res.status).toBe(401);
    expect(bearerChallenge(res.headers["www-authenticate"])).toEqual({ resource_metadata: METADATA_URL });
    expect(res.text).not.toContain(token);
  });

  it("refuses an access_token in a form body even with a valid Authorization header", async () => {
    const token = as.mint(RESOURCE);
    const res = await request(app)
      .post("/mcp")
      .set("Authorization", `Bearer ${token}`)
      .type("form")
      .send(`x=1&access_token=${token}`);
    expectRefusal(res, 400, "invalid_request", token);
  });

  it("refuses an access_token in a form body already parsed by express.urlencoded()", async () => {
    const parsed = appFor(options, [express.urlencoded({ extended: false })]);
    const token = as.mint(RESOURCE);
    const res = await request(parsed)
      .post("/mcp")
      .set("Authorization", `Bearer ${token}`)
      .type("form")
      .send(`access_token=${token}`);
    expectRefusal(res, 400, "invalid_request", token);
  });

  it("refuses a percent-encoded access_token query parameter (?access%5Ftoken=)", async () => {
    const token = as.mint(RESOURCE);
    const res = await request(app).post(`/mcp?access%5Ftoken=${token}`).set("Authorization", `Bearer ${token}`);
    expectRefusal(res, 400, "invalid_request", token);
  });

  it("refuses a form-body token whatever the case of the media type (application/x-www-form-urlencoded is case-insensitive)", async () => {
    const token = as.mint(RESOURCE);
    const res = await request(app)
      .post("/mcp")
      .set("Authorization", `Bearer ${token}`)
      .set("Content-Type", "Application/X-WWW-Form-Urlencoded")
      .send(`access_token=${token}`);
    expectRefusal(res, 400, "invalid_request", token);
  });

  it("accepts a form body without access_token", async () => {
    const res = await request(app)
      .post("/mcp")
      .set("Authorization", `Bearer ${as.mint(RESOURCE)}`)
      .type("form")
      .send("a=1&b=2");
    expect(res.status).toBe(200);
  });

  it.each([
    ["an empty Bearer", "Bearer "],
    ["a token with a space", "Bearer abc def"],
    ["a token with a forbidden character", "Bearer abc,def"],
  ])("answers a malformed Authorization header (%s) with 400 invalid_request", async (_name, header) => {
    const res = await request(app).post("/mcp").set("Authorization", header);
    expectRefusal(res, 400, "invalid_request");
    expect(bearerChallenge(res.headers["www-authenticate"])).toMatchObject({ error: "invalid_request" });
  });
});

describe("on a raw node:http connection", () => {
  let server: Listening;
  beforeAll(async () => {
    server = await listen(createServer(app));
  });
  afterAll(() => server.close());

  it("refuses two Authorization headers with 400 invalid_request, even when both hold valid tokens", async () => {
    const a = as.mint(RESOURCE);
    const b = as.mint(RESOURCE);
    const res = await rawRequest(`${server.url}/mcp`, {
      method: "POST",
      headers: { authorization: [`Bearer ${a}`, `Bearer ${b}`] },
    });
    expect(res.status).toBe(400);
    expect(res.headers["cache-control"]).toBe("no-store");
    expect(JSON.parse(res.body)).toEqual({ error: "invalid_request", error_description: expect.any(String) });
    expect(bearerChallenge(res.headers["www-authenticate"])).toMatchObject({
      error: "invalid_request",
      resource_metadata: METADATA_URL,
    });
    expect(res.body).not.toContain(a);
    expect(res.body).not.toContain(b);
  });

  it("refuses two Authorization headers of which one is Basic", async () => {
    const res = await rawRequest(`${server.url}/mcp`, {
      method: "POST",
      headers: { authorization: [`Bearer ${as.mint(RESOURCE)}`, "Basic dXNlcjpwYXNz"] },
    });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).error).toBe("invalid_request");
  });

  it("accepts one Authorization header on the same connection type", async () => {
    const res = await rawRequest(`${server.url}/mcp`, {
      method: "POST",
      headers: { authorization: `Bearer ${as.mint(RESOURCE, { sub: "frank" })}` },
    });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).extra.sub).toBe("frank");
  });
});

describe("scopes", () => {
  it("answers 403 insufficient_scope with every base scope when the token lacks one", async () => {
    const scoped = appFor({ resource: RESOURCE, authorizationServers: [as.issuer], scopes: ["mcp:read", "mcp:write"] });
    const token = as.mint(RESOURCE, { scope: "mcp:read" });
    const res = await request(scoped).post("/mcp").set("Authorization", `Bearer ${token}`);
    expectRefusal(res, 403, "insufficient_scope", token);
    const params = bearerChallenge(res.headers["www-authenticate"]);
    expect(params["error"]).toBe("insufficient_scope");
    expect(params["resource_metadata"]).toBe(METADATA_URL);
    expect(params["scope"]!.split(" ").sort()).toEqual(["mcp:read", "mcp:write"]);
  });

  it("lets a token with every base scope through", async () => {
    const scoped = appFor({ resource: RESOURCE, authorizationServers: [as.issuer], scopes: ["mcp:read", "mcp:write"] });
    const res = await request(scoped)
      .post("/mcp")
      .set("Authorization", `Bearer ${as.mint(RESOURCE, { scope: "mcp:write mcp:read" })}`);
    expect(res.status).toBe(200);
  });

  it("reads scp as an array", async () => {
    const scoped = appFor({ resource: RESOURCE, authorizationServers: [as.issuer], scopes: ["mcp:read"] });
    const res = await request(scoped)
      .post("/mcp")
      .set("Authorization", `Bearer ${as.mint(RESOURCE, { scope: undefined, scp: ["mcp:read"] })}`);
    expect(res.status).toBe(200);
    expect(res.body.scopes).toEqual(["mcp:read"]);
  });
});

describe("CORS preflight", () => {
  it("authenticates a preflight like any other request: CORS is answered in front (oauthCors)", async () => {
    const res = await request(app)
      .options("/mcp")
      .set("Origin", "https://app.example.com")
      .set("Access-Control-Request-Method", "POST")
      .set("Access-Control-Request-Headers", "authorization, content-type");
    expect(res.status).toBe(401);
    expect(res.headers["x-reached"]).toBeUndefined();
    expect(bearerChallenge(res.headers["www-authenticate"])["error"]).toBeUndefined();
  });
});

describe("an authorization server that cannot be reached", () => {
  it("answers 503 temporarily_unavailable with Retry-After, not invalid_token", async () => {
    const down = "http://127.0.0.1:9";
    const unreachable = appFor({
      resource: RESOURCE,
      authorizationServers: [down],
      timeoutMs: 500,
      retryAfterSeconds: 7,
    });
    const token = as.mint(RESOURCE, { iss: down });
    const res = await request(unreachable).post("/mcp").set("Authorization", `Bearer ${token}`);
    expectRefusal(res, 503, "temporarily_unavailable", token);
    expect(res.headers["retry-after"]).toBe("7");
    expect(res.headers["www-authenticate"]).toBeUndefined();
  });
});

describe("the key set", () => {
  let own: TestAuthorizationServer;
  beforeAll(async () => {
    own = await startTestAuthorizationServer();
  });
  afterAll(() => own.close());

  it("is fetched once for many requests with the same kid", async () => {
    const ownApp = appFor({ resource: RESOURCE, authorizationServers: [own.issuer] });
    expect(own.requestCounts.get("/jwks") ?? 0).toBe(0);
    const burst = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        request(ownApp)
          .post("/mcp")
          .set("Authorization", `Bearer ${own.mint(RESOURCE, { sub: `u${i}` })}`),
      ),
    );
    expect(burst.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(burst.map((r) => r.body.extra.sub)).toEqual(Array.from({ length: 10 }, (_, i) => `u${i}`));
    for (let i = 0; i < 10; i++) {
      const res = await request(ownApp)
        .post("/mcp")
        .set("Authorization", `Bearer ${own.mint(RESOURCE)}`);
      expect(res.status).toBe(200);
    }
    expect(own.requestCounts.get("/jwks")).toBe(1);
  });

  it("belongs to each middleware (its own timeouts and cache settings), read once by each", async () => {
    const before = own.requestCounts.get("/jwks") ?? 0;
    const apps = [0, 1, 2].map(() => appFor({ resource: RESOURCE, authorizationServers: [own.issuer] }));
    for (const another of apps) {
      for (let i = 0; i < 2; i++) {
        const res = await request(another)
          .post("/mcp")
          .set("Authorization", `Bearer ${own.mint(RESOURCE)}`);
        expect(res.status).toBe(200);
      }
    }
    expect((own.requestCounts.get("/jwks") ?? 0) - before).toBe(3);
  });
});

describe("without Express", () => {
  let server: Listening;
  beforeAll(async () => {
    const mw = requireBearer(
      serverFor({ resource: RESOURCE, authorizationServers: [as.issuer], scopes: ["mcp:read"] }),
    );
    server = await listen(
      createServer((req, res) =>
        mw(req, res, () => {
          res.end("ok");
        }),
      ),
    );
  });
  afterAll(() => server.close());

  it("calls next for a valid token", async () => {
    const res = await rawRequest(`${server.url}/anything`, {
      method: "POST",
      headers: { authorization: `Bearer ${as.mint(RESOURCE)}` },
    });
    expect(res.status).toBe(200);
    expect(res.body).toBe("ok");
  });

  it("answers 401 with the challenge and a JSON body without a token", async () => {
    const res = await rawRequest(`${server.url}/anything`, { method: "POST" });
    expect(res.status).toBe(401);
    expect(res.headers["content-type"]).toMatch(/^application\/json(;|$)/);
    expect(res.headers["cache-control"]).toBe("no-store");
    expect(JSON.parse(res.body)).toEqual({ error: expect.any(String), error_description: expect.any(String) });
    expect(bearerChallenge(res.headers["www-authenticate"])).toEqual({
      resource_metadata: METADATA_URL,
      scope: "mcp:read",
    });
  });

  it("answers 401 invalid_token for an expired token", async () => {
    const token = as.mint(RESOURCE, { exp: nowSeconds() - 3600, iat: nowSeconds() - 7200 });
    const res = await rawRequest(`${server.url}/anything`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body).error).toBe("invalid_token");
    expect(res.body).not.toContain(token);
  });

  it("bounded work before authentication: no Authorization header, a 4 MB form body announced and never sent: 401 at once", async () => {
    const { port } = new URL(server.url);
    const res = await rawSocketRequest(Number(port), "POST", "/anything", {
      headers: { "Content-Type": "application/x-www-form-urlencoded", "Content-Length": String(4 * 1024 * 1024) },
      body: "a=1&",
    });
    expect(res.status).toBe(401);
  });

  it("bounded work before authentication: with a header, a form body over the small limit (64 KiB) is 413, read no further", async () => {
    const { port } = new URL(server.url);
    const res = await rawSocketRequest(Number(port), "POST", "/anything", {
      headers: {
        Authorization: `Bearer ${as.mint(RESOURCE)}`,
        "Content-Type": "application/x-www-form-urlencoded",
        "Content-Length": String(65 * 1024),
      },
      body: "a=1&",
    });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).error).toBe("invalid_request");
    const streamed = await rawSocketRequest(Number(port), "POST", "/anything", {
      headers: {
        Authorization: `Bearer ${as.mint(RESOURCE)}`,
        "Content-Type": "application/x-www-form-urlencoded",
        "Transfer-Encoding": "chunked",
      },
      body: `${(65 * 1024).toString(16)}\r\n${"a".repeat(65 * 1024)}\r\n`,
    });
    expect(streamed.status).toBe(413);
  });

  it("reads a form body within the limit when there is a header", async () => {
    const res = await rawRequest(`${server.url}/anything`, {
      method: "POST",
      headers: { authorization: `Bearer ${as.mint(RESOURCE)}`, "content-type": "application/x-www-form-urlencoded" },
      body: `a=${"b".repeat(60 * 1024)}`,
    });
    expect(res.status).toBe(200);
  });

  it("reads a form body of exactly the limit, announced or chunked, and refuses one byte more", async () => {
    const { port } = new URL(server.url);
    const exact = `a=${"b".repeat(FORM_BODY_LIMIT_BYTES - 2)}`;
    const send = (body: string, framing: Record<string, string>) =>
      rawSocketRequest(Number(port), "POST", "/anything", {
        headers: {
          Authorization: `Bearer ${as.mint(RESOURCE)}`,
          "Content-Type": "application/x-www-form-urlencoded",
          ...framing,
        },
        body: framing["Transfer-Encoding"] ? `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n` : body,
      });
    expect((await send(exact, { "Content-Length": String(exact.length) })).status).toBe(200);
    expect((await send(exact, { "Transfer-Encoding": "chunked" })).status).toBe(200);
    expect((await send(`${exact}c`, { "Content-Length": String(exact.length + 1) })).status).toBe(413);
    expect((await send(`${exact}c`, { "Transfer-Encoding": "chunked" })).status).toBe(413);
  });

  it("refuses a form-body token it has to read itself", async () => {
    const token = as.mint(RESOURCE);
    const res = await rawRequest(`${server.url}/anything`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/x-www-form-urlencoded" },
      body: `access_token=${token}`,
    });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).error).toBe("invalid_request");
  });
});

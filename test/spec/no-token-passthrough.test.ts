/**
 * MCP authorization (2025-06-18, 2025-11-25, 2026-07-28), access token privilege
 * restriction: "The MCP server MUST NOT pass through the token it received from the MCP
 * client." The library's own calls upstream (discovery, key set, introspection) are
 * recorded at `fetch`, the one way out (core/src/outbound.ts), and the authorization
 * server's own request counter shows nothing left another way. The token goes to one
 * place only: the body of the introspection request, to the authorization server that
 * issued it (RFC 7662 section 2.1), with the resource server's own credentials, never as a
 * credential of the call. What the application does with `req.auth.token` is its own
 * business (docs/spec-compliance.md).
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "@jest/globals";
import express, { type Express } from "express";
import request from "supertest";
import { mcpOAuth } from "@mcp-oauth/express";
import { obtainAccessToken } from "@mcp-oauth/local-authorization-server";
import { startTestAuthorizationServer, type TestAuthorizationServer } from "../helpers/authorization-server.js";

const RESOURCE = "http://127.0.0.1:4444/mcp";

interface Outbound {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

const outbound: Outbound[] = [];
const realFetch = globalThis.fetch;

// Only around each test: the tests' own client flows (in beforeAll) are no calls of the library.
beforeEach(() => {
  outbound.length = 0;
  globalThis.fetch = async (input, init) => {
    const req = new Request(input, init);
    outbound.push({
      method: req.method,
      url: req.url,
      headers: Object.fromEntries(req.headers),
      body: req.body === null ? "" : await req.clone().text(),
    });
    return realFetch(input, init);
  };
});

afterEach(() => {
  globalThis.fetch = realFetch;
});

const totalRequests = (as: TestAuthorizationServer): number =>
  [...as.requestCounts.values()].reduce((sum, count) => sum + count, 0);

function appFor(as: TestAuthorizationServer, validation: "jwt" | "introspection"): Express {
  const app = express();
  app.use(
    mcpOAuth({
      resource: RESOURCE,
      authorizationServers: [as.issuer],
      validation: { type: validation },
      ...(validation === "introspection"
        ? {
            introspection: { clientId: as.introspection.clientId, clientSecret: as.introspection.clientSecret },
          }
        : {}),
    }),
  );
  app.use((req, res) => {
    res.json({ sub: req.auth?.extra?.["sub"] ?? null });
  });
  return app;
}

describe("JWT validation", () => {
  let as: TestAuthorizationServer;
  let token: string;

  beforeAll(async () => {
    as = await startTestAuthorizationServer();
    token = (await obtainAccessToken(as.issuer, { resource: RESOURCE })).access_token;
  });
  afterAll(() => as.close());

  it("sends the token nowhere: discovery and the key set are read without it, then nothing is called", async () => {
    const app = appFor(as, "jwt");
    const before = totalRequests(as);
    for (let i = 0; i < 3; i++) {
      const res = await request(app).post("/mcp").set("Authorization", `Bearer ${token}`).send({});
      expect(res.status).toBe(200);
    }
    expect(outbound.map((call) => `${call.method} ${new URL(call.url).pathname}`)).toEqual([
      "GET /.well-known/oauth-authorization-server",
      "GET /jwks",
    ]);
    expect(totalRequests(as) - before).toBe(outbound.length);
    for (const call of outbound) expect(JSON.stringify(call)).not.toContain(token);
  });

  it("sends a refused token nowhere either (wrong audience, unknown key)", async () => {
    const app = appFor(as, "jwt");
    const refused = [as.mint("http://127.0.0.1:5555/mcp"), as.mint(RESOURCE, {}, { kid: "unknown-kid" })];
    for (const bad of refused) {
      const res = await request(app).post("/mcp").set("Authorization", `Bearer ${bad}`).send({});
      expect(res.status).toBe(401);
    }
    expect(outbound.length).toBeGreaterThan(0);
    for (const call of outbound) for (const bad of refused) expect(JSON.stringify(call)).not.toContain(bad);
  });
});

describe("introspection", () => {
  let as: TestAuthorizationServer;
  let token: string;

  beforeAll(async () => {
    as = await startTestAuthorizationServer({ accessTokenFormat: "opaque" });
    token = (await obtainAccessToken(as.issuer, { resource: RESOURCE })).access_token;
  });
  afterAll(() => as.close());

  it("sends the token only in the body of the introspection request, with the resource server's own credentials", async () => {
    const app = appFor(as, "introspection");
    const before = totalRequests(as);
    const res = await request(app).post("/mcp").set("Authorization", `Bearer ${token}`).send({});
    expect(res.status).toBe(200);
    expect(totalRequests(as) - before).toBe(outbound.length);

    const carrying = outbound.filter((call) => JSON.stringify(call).includes(token));
    expect(carrying).toHaveLength(1);
    const [introspection] = carrying;
    expect(`${introspection!.method} ${introspection!.url}`).toBe(`POST ${as.introspection.endpoint}`);
    expect(new URLSearchParams(introspection!.body).get("token")).toBe(token);
    // The call's credential is the resource server's (RFC 7662 section 2.1), not the client's token.
    const basic = Buffer.from(introspection!.headers["authorization"]!.replace(/^Basic /, ""), "base64").toString();
    expect(basic).toBe(
      `${encodeURIComponent(as.introspection.clientId)}:${encodeURIComponent(as.introspection.clientSecret)}`,
    );
    expect(JSON.stringify(introspection!.headers)).not.toContain(token);
    expect(introspection!.url).not.toContain(token);
  });
});

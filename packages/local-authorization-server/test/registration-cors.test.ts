/**
 * CORS on the registration endpoint, as the CORS protocol of the Fetch standard asks: the
 * MCP Inspector 1.x in direct mode registers from its browser page, after reading the
 * metadata (which has a CORS answer). A preflight to `POST /reg` was 404 and registration
 * blocked. test/browser-client.test.ts runs the same in Chromium.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { startLocalAuthorizationServer, type LocalAuthorizationServer } from "@mcp-oauth/local-authorization-server";

const PAGE_ORIGIN = "http://localhost:6274";
const REGISTRATION = {
  client_name: "MCP Inspector",
  redirect_uris: [`${PAGE_ORIGIN}/oauth/callback`],
  grant_types: ["authorization_code", "refresh_token"],
  response_types: ["code"],
  token_endpoint_auth_method: "none",
};

let as: LocalAuthorizationServer;

beforeAll(async () => {
  as = await startLocalAuthorizationServer();
});

afterAll(async () => {
  await as?.close();
});

const preflight = (path: string, origin = PAGE_ORIGIN): Promise<Response> =>
  fetch(`${as.issuer}${path}`, {
    method: "OPTIONS",
    headers: {
      origin,
      "access-control-request-method": "POST",
      "access-control-request-headers": "content-type",
    },
  });

const register = (headers: Record<string, string>, body: unknown = REGISTRATION): Promise<Response> =>
  fetch(`${as.issuer}/reg`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });

describe("the registration endpoint", () => {
  it("answers a preflight from a browser page with 204 and the CORS headers, like the token endpoint", async () => {
    for (const path of ["/reg", "/token"]) {
      const answer = await preflight(path);
      expect({ path, status: answer.status }).toEqual({ path, status: 204 });
      expect(answer.headers.get("access-control-allow-origin")).toBe(PAGE_ORIGIN);
      expect(answer.headers.get("access-control-allow-methods")).toContain("POST");
      expect(answer.headers.get("access-control-allow-headers")).toBe("content-type");
      expect(answer.headers.get("access-control-max-age")).toBe("3600");
    }
  });

  it("lets the page read a cross-origin registration (201) and a refused one (400)", async () => {
    const created = await register({ origin: PAGE_ORIGIN });
    expect(created.status).toBe(201);
    expect(created.headers.get("access-control-allow-origin")).toBe(PAGE_ORIGIN);
    expect(created.headers.get("vary")).toMatch(/origin/i);
    expect(await created.json()).toMatchObject({ client_id: expect.any(String), client_name: "MCP Inspector" });

    const refused = await register({ origin: PAGE_ORIGIN }, { ...REGISTRATION, redirect_uris: ["not a url"] });
    expect(refused.status).toBe(400);
    expect(refused.headers.get("access-control-allow-origin")).toBe(PAGE_ORIGIN);
    expect(await refused.json()).toMatchObject({ error: "invalid_redirect_uri" });
  });

  it("adds no CORS header to a request without Origin (not a browser's cross-origin request)", async () => {
    const created = await register({});
    expect(created.status).toBe(201);
    expect(created.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("leaves the other paths as oidc-provider answers them", async () => {
    // The client read endpoint needs its registration access token; no preflight answer there.
    const created = (await (await register({})).json()) as { registration_client_uri: string };
    const read = await preflight(new URL(created.registration_client_uri).pathname);
    expect(read.status).toBe(404);
    expect(read.headers.get("access-control-allow-origin")).toBeNull();
  });
});

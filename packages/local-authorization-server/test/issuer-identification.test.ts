/**
 * RFC 9207 at the local authorization server (MCP 2026-07-28, authorization response
 * validation): every authorization response, error responses included, names the issuer
 * in `iss`, the metadata says so, and `obtainAccessToken` acts as a 2026-07-28 client:
 * it refuses a response from another issuer than the one it discovered (a mix-up).
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createHash } from "node:crypto";
import { createServer } from "node:http";
import {
  completeAuthorization,
  obtainAccessToken,
  startLocalAuthorizationServer,
  type LocalAuthorizationServer,
} from "@mcp-oauth/local-authorization-server";
import { listen, type Listening } from "../../../test/helpers/listen.js";

const RESOURCE = "http://127.0.0.1:3999/mcp";
const REDIRECT_URI = "http://127.0.0.1:1/callback";

let as: LocalAuthorizationServer;
let clientId: string;

function authorizationUrl(extra: Record<string, string> = {}): URL {
  const url = new URL(`${as.issuer}/auth`);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: clientId,
    redirect_uri: REDIRECT_URI,
    scope: "mcp:read",
    resource: RESOURCE,
    state: "xyz",
    code_challenge: createHash("sha256").update("v".repeat(43)).digest("base64url"),
    code_challenge_method: "S256",
    ...extra,
  }).toString();
  return url;
}

beforeAll(async () => {
  as = await startLocalAuthorizationServer({ resources: [RESOURCE] });
  const registration = await fetch(`${as.issuer}/reg`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      client_name: "iss test",
      redirect_uris: [REDIRECT_URI],
      token_endpoint_auth_method: "none",
    }),
  });
  clientId = ((await registration.json()) as { client_id: string }).client_id;
});

afterAll(async () => {
  await as?.close();
});

describe("iss in the authorization response (RFC 9207 section 2)", () => {
  it("is advertised as authorization_response_iss_parameter_supported in the metadata (section 3)", async () => {
    const metadata = (await (await fetch(`${as.issuer}/.well-known/oauth-authorization-server`)).json()) as Record<
      string,
      unknown
    >;
    expect(metadata["authorization_response_iss_parameter_supported"]).toBe(true);
    expect(metadata["issuer"]).toBe(as.issuer);
  });

  it("names the issuer next to the code and the state", async () => {
    const callback = await completeAuthorization(authorizationUrl(), { redirectUri: REDIRECT_URI });
    expect(callback.searchParams.get("code")).toEqual(expect.any(String));
    expect(callback.searchParams.get("state")).toBe("xyz");
    expect(callback.searchParams.get("iss")).toBe(as.issuer);
  });

  it("names the issuer in an error response too", async () => {
    // prompt=none without a session: the error comes back to the client at once.
    const response = await fetch(authorizationUrl({ prompt: "none" }), { redirect: "manual" });
    expect(response.status).toBe(303);
    const callback = new URL(response.headers.get("location")!);
    expect(callback.origin + callback.pathname).toBe(REDIRECT_URI);
    expect(callback.searchParams.get("error")).toBe("login_required");
    expect(callback.searchParams.get("iss")).toBe(as.issuer);
  });
});

describe("obtainAccessToken checks iss (RFC 9207 section 2.4)", () => {
  let impostor: Listening;

  beforeAll(async () => {
    // An authorization server whose metadata sends the client to the honest server's
    // endpoints (a mix-up): the response then names the honest issuer, not the one discovered.
    impostor = await listen(
      createServer((req, res) => {
        void (async () => {
          const honest = (await (await fetch(`${as.issuer}${req.url}`)).json()) as Record<string, unknown>;
          res.writeHead(200, { "content-type": "application/json" });
          res.end(JSON.stringify({ ...honest, issuer: impostor.url }));
        })();
      }),
    );
  });

  afterAll(async () => {
    await impostor?.close();
  });

  it("refuses an authorization response from another issuer than the one it discovered", async () => {
    await expect(obtainAccessToken(impostor.url, { resource: RESOURCE })).rejects.toThrow(
      `authorization response from the wrong issuer: iss ${as.issuer}`,
    );
  });

  it("accepts the response of the issuer it discovered", async () => {
    await expect(obtainAccessToken(as.issuer, { resource: RESOURCE })).resolves.toMatchObject({
      token_type: "Bearer",
    });
  });
});

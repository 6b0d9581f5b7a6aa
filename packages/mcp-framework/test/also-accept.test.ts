/** An API key and OAuth accepted together on one mcp-framework transport. */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { IncomingMessage } from "node:http";
import { APIKeyAuthProvider } from "mcp-framework";
import { startTestAuthorizationServer, type TestAuthorizationServer } from "../../../test/helpers/authorization-server.js";
import { OAuthAuthProvider } from "../src/index.js";

const RESOURCE = "http://127.0.0.1:4777/mcp";
const request = (headers: Record<string, string>): IncomingMessage => ({ headers, url: "/mcp", method: "POST", socket: {} } as unknown as IncomingMessage);

describe("OAuthAuthProvider alsoAccept", () => {
  let as: TestAuthorizationServer;
  let provider: OAuthAuthProvider;
  beforeAll(async () => {
    as = await startTestAuthorizationServer();
    provider = new OAuthAuthProvider({
      resource: RESOURCE, authorizationServers: [as.issuer],
      alsoAccept: [new APIKeyAuthProvider({ keys: ["key-for-ci"] })],
    });
  });
  afterAll(() => as.close());

  it("accepts a valid API key when no bearer token is sent", async () => {
    await expect(provider.authenticate(request({ "x-api-key": "key-for-ci" }))).resolves.toEqual({ data: {} });
  });

  it("refuses a wrong API key with the OAuth challenge", async () => {
    await expect(provider.authenticate(request({ "x-api-key": "wrong" }))).resolves.toBe(false);
    expect(provider.getAuthError().status).toBe(401);
    expect(provider.getWWWAuthenticateHeader()).not.toContain("error=");
  });

  it("never lets an API key rescue a bad bearer token", async () => {
    const expired = as.mint(RESOURCE, { exp: Math.floor(Date.now() / 1000) - 3600 });
    await expect(provider.authenticate(request({ authorization: `Bearer ${expired}`, "x-api-key": "key-for-ci" }))).resolves.toBe(false);
    expect(provider.getAuthError().status).toBe(401);
    expect(provider.getWWWAuthenticateHeader()).toContain('error="invalid_token"');
  });

  it("accepts a valid bearer token with the caller in the context", async () => {
    const result = await provider.authenticate(request({ authorization: `Bearer ${as.mint(RESOURCE, { sub: "ivan" })}` }));
    expect(result).toMatchObject({ data: { sub: "ivan", scopes: ["mcp:read"], clientId: "test-client" } });
  });
});

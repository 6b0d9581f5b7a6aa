/** An API key and OAuth accepted together on one mcp-framework transport, behind the bridge. */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { APIKeyAuthProvider, MCPServer } from "mcp-framework";
import {
  startTestAuthorizationServer,
  type TestAuthorizationServer,
} from "../../../test/helpers/authorization-server.js";
import { WhoamiTool } from "../../../examples/mcp-framework-server/src/tools.js";
import { OAuthAuthProvider } from "../src/index.js";
import { bearerChallenge, freePort, INITIALIZE, postJson, startFramework, type Started } from "./support.js";

const TOOLS_CALL = { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "whoami", arguments: {} } } as const;

describe("OAuthAuthProvider alsoAccept", () => {
  let as: TestAuthorizationServer;
  let started: Started;
  let url: string;
  beforeAll(async () => {
    as = await startTestAuthorizationServer();
    const port = await freePort();
    url = `http://127.0.0.1:${port}/mcp`;
    const provider = new OAuthAuthProvider({
      resource: url,
      authorizationServers: [as.issuer],
      alsoAccept: [new APIKeyAuthProvider({ keys: ["key-for-ci"] })],
    });
    const server = new MCPServer({
      name: "also-accept",
      version: "0.0.0",
      transport: { type: "http-stream", options: { port, auth: { provider } } },
    });
    server.addTool(WhoamiTool);
    started = await startFramework(server, port);
  });
  afterAll(async () => {
    await started.stop();
    await as.close();
  });

  it("accepts a valid API key when no bearer token is sent", async () => {
    const res = await postJson(url, INITIALIZE, { "x-api-key": "key-for-ci" });
    expect(res.status).toBe(200);
  });

  it("refuses a wrong API key with the OAuth challenge, no error code", async () => {
    const res = await postJson(url, INITIALIZE, { "x-api-key": "wrong" });
    expect(res.status).toBe(401);
    expect(bearerChallenge(res.headers["www-authenticate"])["error"]).toBeUndefined();
  });

  it("never lets an API key rescue a bad bearer token", async () => {
    const expired = as.mint(url, { exp: Math.floor(Date.now() / 1000) - 3600 });
    const res = await postJson(url, INITIALIZE, { authorization: `Bearer ${expired}`, "x-api-key": "key-for-ci" });
    expect(res.status).toBe(401);
    expect(bearerChallenge(res.headers["www-authenticate"])["error"]).toBe("invalid_token");
  });

  it("accepts a valid bearer token with the caller in the tools' context", async () => {
    const authorization = `Bearer ${as.mint(url, { sub: "ivan" })}`;
    const init = await postJson(url, INITIALIZE, { authorization });
    const id = init.headers["mcp-session-id"] as string;
    const res = await postJson(url, TOOLS_CALL, {
      authorization,
      "mcp-session-id": id,
      "mcp-protocol-version": "2025-06-18",
    });
    expect(res.status).toBe(200);
    expect(res.body).toContain('\\"sub\\":\\"ivan\\"');
  });

  it("a session opened with the API key is not usable with a bearer token (a different caller)", async () => {
    const init = await postJson(url, INITIALIZE, { "x-api-key": "key-for-ci" });
    const id = init.headers["mcp-session-id"] as string;
    const res = await postJson(url, TOOLS_CALL, {
      authorization: `Bearer ${as.mint(url, { sub: "ivan" })}`,
      "mcp-session-id": id,
      "mcp-protocol-version": "2025-06-18",
    });
    expect(res.status).toBe(404);
  });
});

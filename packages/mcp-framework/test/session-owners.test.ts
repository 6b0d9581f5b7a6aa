/**
 * Who a session belongs to, behind the bridge on mcp-framework's HTTP Stream transport: the
 * token's issuer and subject (issuer and client without a subject), or, for a caller accepted
 * through `alsoAccept`, that credential. Two authorization servers (two real oidc-provider
 * instances) issuing the same `sub`, two API keys of one `APIKeyAuthProvider`: none of them
 * uses another's session, and the answer is the framework's own "session not found".
 */
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { APIKeyAuthProvider, MCPServer } from "mcp-framework";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import {
  startTestAuthorizationServer,
  type TestAuthorizationServer,
} from "../../../test/helpers/authorization-server.js";
import { WhoamiTool } from "../../../examples/mcp-framework-server/src/tools.js";
import { OAuthAuthProvider } from "../src/index.js";
import { freePort, INITIALIZE, postJson, rawRequest, startFramework, type Started } from "./support.js";

/** A provider whose credential travels in a header the bridge does not know: it names the team in `data`, or vouches without one. */
const teamProvider = {
  async authenticate(req: IncomingMessage): Promise<boolean | { data: Record<string, unknown> }> {
    const token = req.headers["x-team"];
    if (token === "red-1" || token === "red-2") return { data: { team: "red" } };
    if (token === "blue-1") return { data: { team: "blue" } };
    return token === "anonymous";
  },
};

const TOOLS_LIST = { jsonrpc: "2.0", id: 2, method: "tools/list", params: {} } as const;
const PROTOCOL = { "mcp-protocol-version": "2025-06-18" };

/** The status of a GET for the session's event stream (the stream itself is closed at once). */
function streamStatus(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: { ...headers, accept: "text/event-stream" }, agent: false }, (res) => {
      resolve(res.statusCode ?? 0);
      req.destroy();
    });
    req.on("error", reject);
    req.end();
  });
}

describe("sessions belong to issuer + subject, or to the alsoAccept credential", () => {
  let as1: TestAuthorizationServer;
  let as2: TestAuthorizationServer;
  let started: Started;
  let url: string;

  beforeAll(async () => {
    [as1, as2] = await Promise.all([startTestAuthorizationServer(), startTestAuthorizationServer()]);
    const port = await freePort();
    url = `http://127.0.0.1:${port}/mcp`;
    const provider = new OAuthAuthProvider({
      resource: url,
      authorizationServers: [as1.issuer, as2.issuer],
      scopes: ["mcp:read"],
      alsoAccept: [new APIKeyAuthProvider({ keys: ["key-of-ann", "key-of-ben"] }), teamProvider],
    });
    const server = new MCPServer({
      name: "owners",
      version: "0.0.0",
      transport: { type: "http-stream", options: { port, host: "127.0.0.1", auth: { provider } } },
    });
    server.addTool(WhoamiTool);
    started = await startFramework(server, port);
  });
  afterAll(async () => {
    await started.stop();
    await Promise.all([as1.close(), as2.close()]);
  });

  const open = async (headers: Record<string, string>): Promise<string> => {
    const init = await postJson(url, INITIALIZE, headers);
    expect(init.status).toBe(200);
    return init.headers["mcp-session-id"] as string;
  };
  const use = async (headers: Record<string, string>, session: string): Promise<number> =>
    (await postJson(url, TOOLS_LIST, { ...headers, ...PROTOCOL, "mcp-session-id": session })).status;

  it("the same sub at another trusted authorization server does not get the session", async () => {
    const first = { authorization: `Bearer ${as1.mint(url, { sub: "alice" })}` };
    const other = { authorization: `Bearer ${as2.mint(url, { sub: "alice" })}` };
    const session = await open(first);
    expect(await use(other, session)).toBe(404);
    expect(await streamStatus(url, { ...other, ...PROTOCOL, "mcp-session-id": session })).toBe(404);
    const deleted = await rawRequest(url, {
      method: "DELETE",
      headers: { ...other, ...PROTOCOL, "mcp-session-id": session },
    });
    expect(deleted.status).toBe(404);
    expect(await use(first, session)).toBe(200);
  });

  it("a subject is never taken for a client id of a token without a subject, nor the reverse", async () => {
    const bySubject = { authorization: `Bearer ${as1.mint(url, { sub: "shared-name", client_id: "x" })}` };
    const byClient = { authorization: `Bearer ${as1.mint(url, { sub: undefined, client_id: "shared-name" })}` };
    const session = await open(bySubject);
    expect(await use(byClient, session)).toBe(404);
    const clientSession = await open(byClient);
    expect(await use(bySubject, clientSession)).toBe(404);
    expect(await use(byClient, clientSession)).toBe(200);
  });

  it("two API keys of one provider do not share sessions", async () => {
    const ann = { "x-api-key": "key-of-ann" };
    const ben = { "x-api-key": "key-of-ben" };
    const session = await open(ann);
    expect(await use(ben, session)).toBe(404);
    expect(await use(ann, session)).toBe(200);
  });

  it("a provider's `data` identifies callers whose credential the bridge cannot see", async () => {
    const session = await open({ "x-team": "red-1" });
    expect(await use({ "x-team": "red-2" }, session)).toBe(200);
    expect(await use({ "x-team": "blue-1" }, session)).toBe(404);
  });

  it("a caller identified by nothing gets sessions nobody else (nor any later request) can use, and a warning", async () => {
    const emitWarning = jest.spyOn(process, "emitWarning").mockImplementation(() => {});
    try {
      const session = await open({ "x-team": "anonymous" });
      expect(emitWarning.mock.calls.map(([message, type]) => [String(message), type])).toEqual([
        [expect.stringMatching(/alsoAccept\[1\].*Return the caller's identity in `data`/), "McpOAuthWarning"],
      ]);
      expect(await use({ "x-team": "anonymous" }, session)).toBe(404);
    } finally {
      emitWarning.mockRestore();
    }
  });

  it("an API key caller's GET (event stream) and DELETE of its own session work", async () => {
    const ann = { "x-api-key": "key-of-ann" };
    const session = await open(ann);
    expect(await streamStatus(url, { ...ann, ...PROTOCOL, "mcp-session-id": session })).toBe(200);
    const deleted = await rawRequest(url, {
      method: "DELETE",
      headers: { ...ann, ...PROTOCOL, "mcp-session-id": session },
    });
    expect(deleted.status).toBe(200);
    expect(await use(ann, session)).toBe(404);
  });

  it("the MCP SDK v1 client with an API key connects, calls, and ends its session", async () => {
    const transport = new StreamableHTTPClientTransport(new URL(url), {
      requestInit: { headers: { "x-api-key": "key-of-ben" } },
    });
    const client = new Client({ name: "api-key-client", version: "0" });
    await client.connect(transport);
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(["whoami"]);
    const session = transport.sessionId!;
    await transport.terminateSession();
    await client.close();
    expect(await use({ "x-api-key": "key-of-ben" }, session)).toBe(404);
  });
});

/**
 * docs/deployment.md's recipe for bounding and expiring sessions on Express is run, not only
 * type-checked: the block after its `session-recipe` marker is written out as a module and
 * mounted behind `mcpOAuth` with a real authorization server, the MCP SDK v1 server
 * transport and client. Small bounds; the only wait is for a session to expire, polled.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { pathToFileURL } from "node:url";
import express, { type Request, type Response } from "express";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { mcpOAuth } from "@mcp-oauth/express";
import { startTestAuthorizationServer, type TestAuthorizationServer } from "../helpers/authorization-server.js";
import { rawRequest } from "../helpers/raw-request.js";

const dir = new URL("./.session-recipe/", import.meta.url);

function recipeSource(): string {
  const doc = readFileSync(new URL("../../docs/deployment.md", import.meta.url), "utf8");
  const marker = doc.indexOf("<!-- session-recipe:");
  expect(marker).toBeGreaterThan(0);
  const block = /```ts\n([\s\S]*?)^```$/m.exec(doc.slice(marker));
  expect(block).not.toBeNull();
  return block![1]!;
}

type Recipe = {
  boundedSessions(
    newServer: () => McpServer,
    limits?: { maxPerOwner?: number; idleTimeoutMs?: number },
  ): (req: Request, res: Response) => Promise<void>;
};

const INITIALIZE = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "recipe-test", version: "0" } },
};
const TOOLS_LIST = { jsonrpc: "2.0", id: 2, method: "tools/list", params: {} };

describe("docs/deployment.md: bounded and expiring sessions on Express", () => {
  let as: TestAuthorizationServer;
  /** The `held` tool answers once the test lets it. */
  let held: { entered: () => void; release: Promise<void> } | undefined;
  let http: Server;
  let url: string;

  beforeAll(async () => {
    mkdirSync(dir, { recursive: true });
    const file = new URL("recipe.ts", dir);
    writeFileSync(file, recipeSource());
    const { boundedSessions } = (await import(pathToFileURL(file.pathname).href)) as Recipe;

    as = await startTestAuthorizationServer();
    http = createServer();
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`;
    const newServer = (): McpServer => {
      const server = new McpServer({ name: "recipe", version: "0.0.0" });
      server.registerTool("whoami", { description: "The caller's subject" }, async (extra) => ({
        content: [{ type: "text", text: String(extra.authInfo?.extra?.["sub"]) }],
      }));
      server.registerTool("held", { description: "Answers when the test lets it" }, async () => {
        held?.entered();
        await held?.release;
        return { content: [{ type: "text", text: "done" }] };
      });
      return server;
    };
    const app = express();
    app.use(mcpOAuth({ resource: url, authorizationServers: [as.issuer] }));
    app.use(express.json());
    app.all("/mcp", boundedSessions(newServer, { maxPerOwner: 2 }));
    // The same tokens (the resource is the app's, not the path's), sessions idle after 50 ms.
    app.all("/idle", boundedSessions(newServer, { idleTimeoutMs: 50 }));
    http.on("request", app);
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => {
      http.close(() => resolve());
      http.closeAllConnections();
    });
    await as.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const headersOf = (sub: string): Record<string, string> => ({
    authorization: `Bearer ${as.mint(url, { sub })}`,
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
  });
  const open = async (sub: string, path = url): Promise<string> => {
    const init = await rawRequest(path, { method: "POST", headers: headersOf(sub), body: JSON.stringify(INITIALIZE) });
    expect(init.status).toBe(200);
    return init.headers["mcp-session-id"] as string;
  };
  const use = async (sub: string, session: string, path = url): Promise<number> =>
    (
      await rawRequest(path, {
        method: "POST",
        headers: { ...headersOf(sub), "mcp-session-id": session, "mcp-protocol-version": "2025-06-18" },
        body: JSON.stringify(TOOLS_LIST),
      })
    ).status;

  it("the MCP SDK client connects, calls a tool and ends its session", async () => {
    const transport = new StreamableHTTPClientTransport(new URL(url), {
      requestInit: { headers: { authorization: `Bearer ${as.mint(url, { sub: "carol" })}` } },
    });
    const client = new Client({ name: "recipe-client", version: "0" });
    await client.connect(transport);
    const result = await client.callTool({ name: "whoami", arguments: {} });
    expect(result.content).toEqual([{ type: "text", text: "carol" }]);
    const session = transport.sessionId!;
    await transport.terminateSession();
    await client.close();
    expect(await use("carol", session)).toBe(404);
  });

  it("another owner's token gets 404 for the session", async () => {
    const session = await open("alice");
    expect(await use("mallory", session)).toBe(404);
    expect(await use("alice", session)).toBe(200);
  });

  it("one session past maxPerOwner closes the owner's least recently used one, and nobody else's", async () => {
    const bobs = await open("bob");
    const first = await open("dave");
    const second = await open("dave");
    expect(await use("dave", first)).toBe(200);
    await open("dave");
    expect(await use("dave", second)).toBe(404);
    expect(await use("dave", first)).toBe(200);
    expect(await use("bob", bobs)).toBe(200);
  });

  it("a session pushed out while answering still answers, and is refused for anything new", async () => {
    const first = await open("frank");
    let entered!: () => void;
    let release!: () => void;
    const inTool = new Promise<void>((resolve) => (entered = resolve));
    held = { entered, release: new Promise<void>((resolve) => (release = resolve)) };
    const call = rawRequest(url, {
      method: "POST",
      headers: { ...headersOf("frank"), "mcp-session-id": first, "mcp-protocol-version": "2025-06-18" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "held", arguments: {} } }),
    });
    await inTool;
    await open("frank");
    await open("frank");
    expect(await use("frank", first)).toBe(404);
    release();
    const answer = await call;
    expect([answer.status, answer.body]).toEqual([200, expect.stringContaining('"text":"done"')]);
    held = undefined;
  });

  it("an idle session is closed", async () => {
    const idle = url.replace(/\/mcp$/, "/idle");
    const session = await open("erin", idle);
    for (;;) {
      if ((await use("erin", session, idle)) === 404) break;
      // Each use starts the idle time again: wait past it.
      await sleep(150);
    }
  });
});

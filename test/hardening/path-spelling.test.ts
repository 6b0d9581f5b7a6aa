/**
 * The MCP endpoint under every spelling a router may accept: letter case, trailing slash,
 * absolute-form targets (sent over a raw socket: no HTTP client sends them), dot segments,
 * percent-encoded letters, query strings; mcpOAuth mounted at the root, under a prefix, on
 * a Router, in Express with case-sensitive and strict routing, and in a plain node:http
 * host. Whatever the host routes, a request without a valid token never reaches a handler
 * behind mcpOAuth, and the Origin rule and the scope policy apply to it.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import express, { type Express, type Request, type Response } from "express";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { MCPServer } from "mcp-framework";
import { mcpOAuth, type McpOAuthMiddlewareOptions } from "@mcp-oauth/express";
import { frameworkRequestHandler, OAuthAuthProvider } from "@mcp-oauth/mcp-framework";
import { startTestAuthorizationServer, type TestAuthorizationServer } from "../helpers/authorization-server.js";
import { freePort, listen, type Listening } from "../helpers/listen.js";
import { rawSocketRequest, type RawSocketResponse } from "../helpers/raw-socket.js";
import { startExampleServer, type RunningExample } from "../../examples/express-server/src/server.js";
import { WriteNoteTool } from "../../examples/mcp-framework-server/src/tools.js";

const INITIALIZE = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "spelling", version: "0" } },
});
const WRITE_NOTE = JSON.stringify({
  jsonrpc: "2.0",
  id: 2,
  method: "tools/call",
  params: { name: "write_note", arguments: { text: "x" } },
});
const MCP_HEADERS = { "Content-Type": "application/json", Accept: "application/json, text/event-stream" };

/** Spellings of `base` (a path such as `/mcp`) that some router may send to the handler of `base`. */
function spellings(port: number, base: string): string[] {
  const upper = base.toUpperCase();
  const title = base.slice(0, 2).toUpperCase() + base.slice(2);
  const last = base.lastIndexOf("/");
  const encoded = `${base.slice(0, last + 1)}%${base
    .charCodeAt(last + 1)
    .toString(16)
    .toUpperCase()}${base.slice(last + 2)}`;
  return [
    base,
    upper,
    title,
    `${upper}/`,
    `${base}/`,
    `${base}?x=1`,
    `${upper}?x=1`,
    `${base}/?`,
    `/x/..${base}`,
    `/.${base}`,
    `/${base}`,
    encoded,
    encoded.toLowerCase(),
    `http://127.0.0.1:${port}${base}`,
    `http://127.0.0.1:${port}${upper}`,
    `HTTP://127.0.0.1:${port}${base}/`,
    `http://localhost:${port}${base}?a=b`,
  ];
}

function expectChallenge(res: RawSocketResponse, target: string, unrouted: "none" | "404" = "none"): void {
  if (unrouted === "404" && res.status === 404) {
    // Outside the mount point: the host routed it nowhere, so nothing was reached.
    expect(res.headers["x-reached"]).toBeUndefined();
    return;
  }
  expect({ target, status: res.status }).toEqual({ target, status: 401 });
  expect(res.headers["www-authenticate"]).toMatch(/^Bearer resource_metadata="/);
  expect(res.headers["mcp-session-id"]).toBeUndefined();
  expect(res.headers["x-reached"]).toBeUndefined();
}

let as: TestAuthorizationServer;

beforeAll(async () => {
  as = await startTestAuthorizationServer();
});
afterAll(() => as.close());

describe("the Express example (pnpm example:express)", () => {
  let mcp: RunningExample;
  let port: number;
  beforeAll(async () => {
    mcp = await startExampleServer({
      OAUTH_AUTHORIZATION_SERVER: as.issuer,
      OAUTH_SCOPES: "mcp:read",
      PORT: "0",
      HOST: "127.0.0.1",
    });
    port = Number(new URL(mcp.url).port);
  });
  afterAll(() => mcp.close());

  it("answers initialize without a token with 401 under every spelling of /mcp", async () => {
    for (const target of spellings(port, "/mcp")) {
      expectChallenge(await rawSocketRequest(port, "POST", target, { headers: MCP_HEADERS, body: INITIALIZE }), target);
    }
  });

  it("answers the legacy SSE endpoints without a token with 401 under every spelling", async () => {
    for (const target of spellings(port, "/sse")) expectChallenge(await rawSocketRequest(port, "GET", target), target);
    for (const target of spellings(port, "/messages")) {
      expectChallenge(
        await rawSocketRequest(port, "POST", target.includes("?") ? `${target}&sessionId=x` : `${target}?sessionId=x`, {
          headers: MCP_HEADERS,
          body: WRITE_NOTE,
        }),
        target,
      );
    }
  });

  it("routes an absolute-form target with a valid token (so the spellings above reach real handlers)", async () => {
    const res = await rawSocketRequest(port, "POST", `http://127.0.0.1:${port}/MCP`, {
      headers: { ...MCP_HEADERS, Authorization: `Bearer ${as.mint(mcp.url)}` },
      body: INITIALIZE,
    });
    expect(res.status).toBe(200);
    expect(res.headers["mcp-session-id"]).toEqual(expect.any(String));
  });

  it("applies the scope policy under other spellings: write_note with an mcp:read token is 403 insufficient_scope", async () => {
    for (const target of ["/MCP", "/Mcp/", `http://127.0.0.1:${port}/mcp`, "/%6Dcp"]) {
      const res = await rawSocketRequest(port, "POST", target, {
        headers: { ...MCP_HEADERS, Authorization: `Bearer ${as.mint(mcp.url)}` },
        body: WRITE_NOTE,
      });
      expect({ target, status: res.status }).toEqual({ target, status: 403 });
      expect(res.headers["www-authenticate"]).toContain('error="insufficient_scope"');
    }
  });

  it("applies the Origin rule under other spellings", async () => {
    const res = await rawSocketRequest(port, "POST", "/MCP", {
      headers: { ...MCP_HEADERS, Origin: "https://evil.example", Authorization: `Bearer ${as.mint(mcp.url)}` },
      body: INITIALIZE,
    });
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body).error).toBe("access_denied");
  });
});

/** A host with mcpOAuth in front of handlers that say they were reached. */
interface Host {
  name: string;
  /** The path its MCP handler is routed at, as a client would write it. */
  mcpPath: string;
  build(options: McpOAuthMiddlewareOptions): Server;
}

const reached = (req: Request, res: Response): void => {
  res.set("X-Reached", "route").json({ sub: req.auth?.extra?.["sub"] ?? null });
};

function expressHost(
  configure: (app: Express, options: McpOAuthMiddlewareOptions) => void,
): (options: McpOAuthMiddlewareOptions) => Server {
  return (options) => {
    const app = express();
    configure(app, options);
    return createServer(app);
  };
}

const HOSTS: Host[] = [
  {
    name: "Express, default routing (case-insensitive, non-strict)",
    mcpPath: "/mcp",
    build: expressHost((app, options) => {
      app.use(mcpOAuth(options));
      app.all(["/mcp", "/sse", "/messages"], reached);
    }),
  },
  {
    name: "Express with case sensitive routing and strict routing",
    mcpPath: "/mcp",
    build: expressHost((app, options) => {
      app.set("case sensitive routing", true);
      app.set("strict routing", true);
      app.use(mcpOAuth(options));
      app.all(["/mcp", "/mcp/", "/MCP", "/sse", "/messages"], reached);
    }),
  },
  {
    name: 'Express, mounted under a prefix: app.use("/api", mcpOAuth(...))',
    mcpPath: "/api/mcp",
    build: expressHost((app, options) => {
      app.use("/api", mcpOAuth(options));
      app.all(["/api/mcp", "/api/sse", "/api/messages"], reached);
    }),
  },
  {
    name: "Express Router, mounted at /v1",
    mcpPath: "/v1/mcp",
    build: expressHost((app, options) => {
      const router = express.Router();
      router.use(mcpOAuth(options));
      router.all(["/mcp", "/sse", "/messages"], reached);
      app.use("/v1", router);
    }),
  },
  {
    name: "plain node:http, routing by a lower-cased, decoded, normalised path",
    mcpPath: "/mcp",
    build: (options) => {
      const middleware = mcpOAuth(options);
      return createServer((req: IncomingMessage, res: ServerResponse) => {
        middleware(req, res, (error?: unknown) => {
          if (error) {
            res.statusCode = 500;
            res.end();
            return;
          }
          // A generous router: whatever it accepts must already have been authenticated.
          const path = new URL(req.url ?? "/", "http://x").pathname;
          if (/^\/(mcp|sse|messages)\/?$/i.test(decodeURIComponent(path))) {
            res.setHeader("X-Reached", "route");
            res.end(JSON.stringify({ sub: (req as { auth?: { extra?: { sub?: string } } }).auth?.extra?.sub ?? null }));
            return;
          }
          res.statusCode = 404;
          res.end();
        });
      });
    },
  },
];

describe.each(HOSTS)("$name", (host) => {
  let listening: Listening;
  let resource: string;
  beforeAll(async () => {
    const port = await freePort();
    resource = `http://127.0.0.1:${port}${host.mcpPath}`;
    const server = host.build({
      resource,
      authorizationServers: [as.issuer],
      scopes: ["mcp:read"],
      scopePolicy: { tools: { write_note: ["mcp:write"] } },
    });
    listening = await listen(server, port);
  });
  afterAll(() => listening.close());

  it("never reaches a handler without a token, whatever the spelling", async () => {
    const prefix = host.mcpPath.slice(0, host.mcpPath.lastIndexOf("/"));
    for (const base of ["/mcp", "/sse", "/messages"]) {
      for (const target of spellings(listening.port, `${prefix}${base}`)) {
        for (const method of ["POST", "GET", "DELETE"]) {
          const res = await rawSocketRequest(
            listening.port,
            method,
            target,
            method === "POST" ? { headers: MCP_HEADERS, body: INITIALIZE } : {},
          );
          expectChallenge(res, `${method} ${target}`, prefix === "" ? "none" : "404");
        }
      }
    }
  });

  it("reaches the handler with a valid token, and applies the scope policy", async () => {
    const token = as.mint(resource);
    const ok = await rawSocketRequest(listening.port, "POST", host.mcpPath, {
      headers: { ...MCP_HEADERS, Authorization: `Bearer ${token}` },
      body: INITIALIZE,
    });
    expect(ok.status).toBe(200);
    expect(ok.headers["x-reached"]).toBe("route");
    const denied = await rawSocketRequest(listening.port, "POST", host.mcpPath.toUpperCase(), {
      headers: { ...MCP_HEADERS, Authorization: `Bearer ${token}` },
      body: WRITE_NOTE,
    });
    expect(denied.status).toBe(403);
    expect(denied.headers["x-reached"]).toBeUndefined();
  });

  // Under a mount point the middleware sees only paths below it: the document belongs at
  // the host's root, where such an app mounts protectedResourceMetadata() itself.
  if (host.mcpPath === "/mcp")
    it("serves the metadata without a token", async () => {
      const res = await rawSocketRequest(listening.port, "GET", "/.well-known/oauth-protected-resource/mcp");
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body).resource).toBe(resource);
    });
});

describe("Express in front of mcp-framework (frameworkRequestHandler)", () => {
  let listening: Listening;
  let resource: string;
  beforeAll(async () => {
    const port = await freePort();
    resource = `http://127.0.0.1:${port}/mcp`;
    const provider = new OAuthAuthProvider({ resource, authorizationServers: [as.issuer], scopes: ["mcp:read"] });
    const mcpServer = new MCPServer({ name: "spelling", version: "0.0.0", auth: { provider } });
    mcpServer.addTool(WriteNoteTool);
    const app = express();
    app.use(
      mcpOAuth({
        resource,
        authorizationServers: [as.issuer],
        scopes: ["mcp:read"],
        scopePolicy: { tools: { write_note: ["mcp:write"] } },
      }),
    );
    app.use(express.json());
    app.all("/mcp", frameworkRequestHandler(mcpServer));
    const server = createServer(app);
    listening = await listen(server, port);
  });
  afterAll(() => listening.close());

  it("an mcp:read token cannot call write_note (needs mcp:write) under any spelling", async () => {
    for (const target of spellings(listening.port, "/mcp")) {
      const res = await rawSocketRequest(listening.port, "POST", target, {
        headers: { ...MCP_HEADERS, Authorization: `Bearer ${as.mint(resource)}` },
        body: WRITE_NOTE,
      });
      expect({ target, status: res.status }).toEqual({ target, status: 403 });
    }
  });
});

/**
 * An Express app hosting an MCP server (Streamable HTTP at /mcp, legacy HTTP+SSE at
 * /sse + /messages), protected by one line: `app.use(mcpOAuth(...))`.
 */
import { randomUUID } from "node:crypto";
import express, { type Request, type Response } from "express";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { SSEServerTransport } from "@modelcontextprotocol/sdk/server/sse.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import { mcpOAuth, optionsFromEnv, type AuthInfo, type McpOAuthMiddleware } from "@mcp-oauth/express";
import { splitList, type Environment } from "@mcp-oauth/core";
import {
  rateLimitFromEnv,
  redisCacheFromEnv,
  redisReplayStoreFromEnv,
  type RedisReplayStore,
  type RedisTokenCache,
} from "@mcp-oauth/redis";
import { z } from "zod";

/** Who owns a session: MCP says a session id is never authentication, so bind it to the subject. */
interface Owner {
  iss: string;
  sub: string;
}

function ownerOf(auth: AuthInfo | undefined): Owner {
  const extra = (auth?.extra ?? {}) as { iss?: string; sub?: string };
  return { iss: extra.iss ?? "", sub: extra.sub ?? auth?.clientId ?? "" };
}

const sameOwner = (a: Owner, b: Owner): boolean => a.iss === b.iss && a.sub === b.sub;

function createMcpServer(notes: Map<string, string[]>): McpServer {
  const server = new McpServer({ name: "mcp-oauth-example", version: "0.1.0" });
  server.registerTool("whoami", { description: "Who is calling: subject, client id and scopes." }, async (extra) => {
    const owner = ownerOf(extra.authInfo);
    return {
      content: [
        {
          type: "text",
          text: JSON.stringify({
            sub: owner.sub,
            clientId: extra.authInfo?.clientId,
            scopes: extra.authInfo?.scopes ?? [],
          }),
        },
      ],
    };
  });
  server.registerTool(
    "write_note",
    { description: "Saves a note for the caller. Needs the mcp:write scope.", inputSchema: { text: z.string() } },
    async ({ text }, extra) => {
      const { sub } = ownerOf(extra.authInfo);
      const list = notes.get(sub) ?? [];
      list.push(text);
      notes.set(sub, list);
      return { content: [{ type: "text", text: `saved note ${list.length} for ${sub}` }] };
    },
  );
  return server;
}

export interface ExampleAppOptions {
  env: Environment;
  /** Used for OAUTH_RESOURCE when it is not set: `http://HOST:PORT/mcp`. */
  defaultResource: string;
}

export interface ExampleApp {
  app: express.Express;
  oauth: McpOAuthMiddleware;
  /** Closes every open MCP session. */
  close(): Promise<void>;
}

export function createExampleApp({ env, defaultResource }: ExampleAppOptions): ExampleApp {
  const allowedOrigins = splitList(env["OAUTH_ALLOWED_ORIGINS"]);
  // OAUTH_CACHE_REDIS_URL: the token cache shared by every replica (docs/deployment.md), and
  // with OAUTH_DPOP on, the DPoP proofs they remember (a proof accepted once by any of them).
  let shared: RedisTokenCache | undefined;
  let replay: RedisReplayStore | undefined;
  const options = optionsFromEnv(env, env["OAUTH_RESOURCE"] ? {} : { resource: defaultResource }, {
    redisCache: (url, environment) => (shared = redisCacheFromEnv(url, environment)),
    redisReplay: (url, environment) => (replay = redisReplayStoreFromEnv(url, environment)),
  });
  // OAUTH_RATE_LIMIT: the metadata endpoints' limit, counted in the shared Redis when there is one.
  const rateLimit = rateLimitFromEnv(env, shared);
  const oauth = mcpOAuth({
    ...options,
    resourceName: "mcp-oauth example (Express)",
    // write_note needs mcp:write on top of the base scopes (OAUTH_SCOPES).
    scopePolicy: { tools: { write_note: ["mcp:write"] } },
    cors: { allowedOrigins: allowedOrigins.includes("*") ? "*" : allowedOrigins },
    ...(rateLimit !== undefined ? { protectedResourceMetadata: { rateLimit } } : {}),
  });

  const app = express();
  app.disable("x-powered-by");
  app.use(oauth);
  app.use(express.json({ limit: "4mb" }));

  const notes = new Map<string, string[]>();
  const streamable = new Map<string, { transport: StreamableHTTPServerTransport; owner: Owner }>();
  const sse = new Map<string, { transport: SSEServerTransport; owner: Owner }>();

  const sessionNotFound = (res: Response): void => {
    // The same answer for "no such session" and "someone else's session": no oracle.
    res.status(404).json({ jsonrpc: "2.0", error: { code: -32001, message: "Session not found" }, id: null });
  };

  app.post("/mcp", async (req: Request, res: Response) => {
    const owner = ownerOf(req.auth);
    const sessionId = req.header("mcp-session-id");
    if (sessionId !== undefined) {
      const session = streamable.get(sessionId);
      if (!session || !sameOwner(session.owner, owner)) return sessionNotFound(res);
      return session.transport.handleRequest(req, res, req.body);
    }
    if (!isInitializeRequest(req.body)) {
      res.status(400).json({
        jsonrpc: "2.0",
        error: { code: -32000, message: "Bad Request: no session; send initialize first" },
        id: null,
      });
      return;
    }
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        streamable.set(id, { transport, owner });
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) streamable.delete(transport.sessionId);
    };
    await createMcpServer(notes).connect(transport);
    await transport.handleRequest(req, res, req.body);
  });

  const existingSession = async (req: Request, res: Response): Promise<void> => {
    const sessionId = req.header("mcp-session-id");
    const session = sessionId === undefined ? undefined : streamable.get(sessionId);
    if (!session || !sameOwner(session.owner, ownerOf(req.auth))) return sessionNotFound(res);
    await session.transport.handleRequest(req, res);
  };
  app.get("/mcp", existingSession);
  app.delete("/mcp", existingSession);

  app.get("/sse", async (req: Request, res: Response) => {
    const transport = new SSEServerTransport("/messages", res);
    sse.set(transport.sessionId, { transport, owner: ownerOf(req.auth) });
    res.on("close", () => sse.delete(transport.sessionId));
    await createMcpServer(notes).connect(transport);
  });
  app.post("/messages", async (req: Request, res: Response) => {
    const session = sse.get(String(req.query["sessionId"] ?? ""));
    if (!session || !sameOwner(session.owner, ownerOf(req.auth))) return sessionNotFound(res);
    await session.transport.handlePostMessage(req, res, req.body);
  });

  return {
    app,
    oauth,
    close: async () => {
      await Promise.all([...streamable.values(), ...sse.values()].map(({ transport }) => transport.close()));
      streamable.clear();
      sse.clear();
      await Promise.all([shared?.close(), replay?.close()]);
    },
  };
}

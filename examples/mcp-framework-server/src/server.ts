/**
 * An mcp-framework server protected by @mcp-oauth/mcp-framework's OAuthAuthProvider on the
 * framework's own transports (the provider puts the library's middlewares in front of them),
 * configured only by the environment: the OAUTH_* variables of the Express example (with
 * OAUTH_CACHE_REDIS_URL for a token cache shared by replicas, OAUTH_DPOP, OAUTH_DPOP_ALGS and
 * OAUTH_DPOP_NONCE_SECRET for DPoP-bound tokens, OAUTH_RATE_LIMIT for the
 * metadata endpoints) plus OAUTH_SESSIONS_MAX_PER_OWNER and OAUTH_SESSION_IDLE_TIMEOUT_MS
 * (the sessions' bounds), MCP_TRANSPORT (`http-stream` or `sse`), MCP_RESPONSE_MODE (`batch`
 * or `stream`), PORT and HOST.
 */
import { MCPServer } from "mcp-framework";
import { splitList, type Environment } from "@mcp-oauth/core";
import { OAuthAuthProvider, optionsFromEnv, sessionsFromEnv } from "@mcp-oauth/mcp-framework";
import { rateLimitFromEnv, redisCacheFromEnv, redisReplayStoreFromEnv, type RedisTokenCache } from "@mcp-oauth/redis";
import { WhoamiTool, WriteNoteTool } from "./tools.js";

export interface FrameworkExample {
  server: MCPServer;
  provider: OAuthAuthProvider;
  /** The MCP endpoint (`/mcp` for HTTP Stream, `/sse` for SSE). */
  url: string;
  transport: "http-stream" | "sse";
}

export function createFrameworkExample(env: Environment = process.env): FrameworkExample {
  const host = env["HOST"] || "127.0.0.1";
  const port = Number(env["PORT"] ?? 3000);
  const transport = (env["MCP_TRANSPORT"] ?? "http-stream") as "http-stream" | "sse";
  if (transport !== "http-stream" && transport !== "sse")
    throw new Error(`MCP_TRANSPORT must be http-stream or sse, not "${transport}"`);
  const responseMode = (env["MCP_RESPONSE_MODE"] ?? "batch") as "batch" | "stream";
  if (responseMode !== "batch" && responseMode !== "stream")
    throw new Error(`MCP_RESPONSE_MODE must be batch or stream, not "${responseMode}"`);
  const publicHost =
    host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "[::1]" : host.includes(":") ? `[${host}]` : host;
  const endpoint = transport === "sse" ? "/sse" : "/mcp";
  const defaultResource = `http://${publicHost}:${port}${endpoint}`;

  const allowedOrigins = splitList(env["OAUTH_ALLOWED_ORIGINS"]);
  // OAUTH_CACHE_REDIS_URL: the token cache shared by every replica (docs/deployment.md), and
  // with OAUTH_DPOP on, the DPoP proofs they remember (a proof accepted once by any of them).
  let shared: RedisTokenCache | undefined;
  const options = optionsFromEnv(env, env["OAUTH_RESOURCE"] ? {} : { resource: defaultResource }, {
    redisCache: (url, environment) => (shared = redisCacheFromEnv(url, environment)),
    redisReplay: redisReplayStoreFromEnv,
  });
  // OAUTH_RATE_LIMIT: the metadata endpoints' limit, counted in the shared Redis when there is one.
  const rateLimit = rateLimitFromEnv(env, shared);
  const provider = new OAuthAuthProvider({
    ...options,
    resourceName: "mcp-oauth example (mcp-framework)",
    // write_note needs mcp:write on top of the base scopes (OAUTH_SCOPES).
    scopePolicy: { tools: { write_note: ["mcp:write"] } },
    cors: { allowedOrigins: allowedOrigins.includes("*") ? "*" : allowedOrigins },
    ...(rateLimit !== undefined ? { protectedResourceMetadata: { rateLimit } } : {}),
    // OAUTH_SESSIONS_MAX_PER_OWNER, OAUTH_SESSION_IDLE_TIMEOUT_MS: bounds on the sessions.
    sessions: sessionsFromEnv(env),
  });
  // The user story's configuration: the provider alone protects every request.
  const auth = { provider };
  const server = new MCPServer({
    name: "mcp-oauth-example-mcp-framework",
    version: "0.1.0",
    transport:
      transport === "sse"
        ? { type: "sse", options: { port, host, endpoint: "/sse", messageEndpoint: "/messages", auth } }
        : { type: "http-stream", options: { port, host, endpoint: "/mcp", responseMode, auth } },
  });
  server.addTool(WhoamiTool);
  server.addTool(WriteNoteTool);
  return { server, provider, url: env["OAUTH_RESOURCE"] || defaultResource, transport };
}

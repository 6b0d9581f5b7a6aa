/**
 * The MCP server of the Bun, Deno and Workers examples, as one `(request: Request) =>
 * Response` function: `createFetchProtection` in front of the MCP SDK v2's stateless
 * `createMcpHandler`, MCP at /mcp, the tools `whoami` and `write_note` (which needs
 * `mcp:write`). Configured only by the `OAUTH_*` variables, read from whatever the runtime
 * calls its environment.
 */
import { createFetchProtection, McpOAuthConfigError, optionsFromEnv, type FetchProtection } from "@mcp-oauth/fetch";
import { splitList, type Environment } from "@mcp-oauth/core";
import { createMcpHandler, fromJsonSchema, McpServer, type AuthInfo } from "@modelcontextprotocol/server";

const NOTE = fromJsonSchema<{ text: string }>({
  type: "object",
  properties: { text: { type: "string" } },
  required: ["text"],
});

function subjectOf(auth: AuthInfo | undefined): string {
  const extra = (auth?.extra ?? {}) as { sub?: string };
  return extra.sub ?? auth?.clientId ?? "";
}

function createMcpServer(notes: Map<string, string[]>): McpServer {
  const server = new McpServer({ name: "mcp-oauth-example-fetch", version: "0.1.0" });
  server.registerTool("whoami", { description: "Who is calling: subject, client id and scopes." }, async (ctx) => {
    const auth = ctx.http?.authInfo;
    const who = { sub: subjectOf(auth), clientId: auth?.clientId, scopes: auth?.scopes ?? [] };
    return { content: [{ type: "text", text: JSON.stringify(who) }] };
  });
  server.registerTool(
    "write_note",
    { description: "Saves a note for the caller. Needs the mcp:write scope.", inputSchema: NOTE },
    async ({ text }, ctx) => {
      const sub = subjectOf(ctx.http?.authInfo);
      const list = notes.get(sub) ?? [];
      list.push(text);
      notes.set(sub, list);
      return { content: [{ type: "text", text: `saved note ${list.length} for ${sub}` }] };
    },
  );
  return server;
}

export interface FetchApp {
  fetch(request: Request): Promise<Response>;
  protection: FetchProtection;
}

export function createFetchApp(env: Environment, defaultResource?: string): FetchApp {
  for (const name of ["OAUTH_RATE_LIMIT", "OAUTH_CACHE_REDIS_URL"]) {
    // Needs Node (express-rate-limit, a Redis client): refused, never silently off.
    if (env[name]) throw new McpOAuthConfigError(name, "is not supported by this example (docs/fetch.md)");
  }
  const allowedOrigins = splitList(env["OAUTH_ALLOWED_ORIGINS"]);
  const protection = createFetchProtection({
    ...optionsFromEnv(env, env["OAUTH_RESOURCE"] || defaultResource === undefined ? {} : { resource: defaultResource }),
    resourceName: "mcp-oauth example (fetch)",
    scopePolicy: { tools: { write_note: ["mcp:write"] } },
    cors: { allowedOrigins: allowedOrigins.includes("*") ? "*" : allowedOrigins },
  });
  const notes = new Map<string, string[]>();
  const mcp = createMcpHandler(() => createMcpServer(notes));

  return {
    protection,
    async fetch(request) {
      // Everything is protected but the metadata documents (answered by handle itself).
      const outcome = await protection.handle(request);
      if (outcome instanceof Response) return outcome;
      if (new URL(outcome.request.url).pathname !== "/mcp") return new Response(null, { status: 404 });
      const response = await mcp.fetch(outcome.request, { authInfo: outcome.authInfo });
      return protection.finish(outcome.request, response);
    },
  };
}

/** `http://HOST:PORT/mcp`, the resource when OAUTH_RESOURCE is not set; a wildcard bind address becomes loopback. */
export function localResource(host: string, port: number): string {
  const publicHost = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host;
  return `http://${publicHost.includes(":") ? `[${publicHost}]` : publicHost}:${port}/mcp`;
}

/**
 * A Hono app hosting an MCP server (the MCP SDK v2's web-standard Streamable HTTP transport at
 * /mcp), protected by one middleware: `app.use(mcpOAuthHono(...))`. The same two tools and the
 * same session binding as the Express example.
 */
import { Hono } from "hono";
import { McpServer, WebStandardStreamableHTTPServerTransport, type AuthInfo } from "@modelcontextprotocol/server";
import { McpOAuthConfigError, optionsFromEnv, splitList, type Environment } from "@mcp-oauth/core";
import { mcpOAuthHono, type McpOAuthHonoMiddleware, type McpOAuthHonoVariables } from "@mcp-oauth/fetch/hono";
import { z } from "zod";

/** Who owns a session: MCP says a session id is never authentication, so bind it to issuer and subject. */
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
  const server = new McpServer({ name: "mcp-oauth-example-hono", version: "0.1.0" });
  server.registerTool("whoami", { description: "Who is calling: subject, client id and scopes." }, async (ctx) => {
    const auth = ctx.http?.authInfo;
    const owner = ownerOf(auth);
    const who = { sub: owner.sub, clientId: auth?.clientId, scopes: auth?.scopes ?? [] };
    return { content: [{ type: "text", text: JSON.stringify(who) }] };
  });
  server.registerTool(
    "write_note",
    {
      description: "Saves a note for the caller. Needs the mcp:write scope.",
      inputSchema: z.object({ text: z.string() }),
    },
    async ({ text }, ctx) => {
      const { sub } = ownerOf(ctx.http?.authInfo);
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
  app: Hono<{ Variables: McpOAuthHonoVariables }>;
  oauth: McpOAuthHonoMiddleware;
  /** Closes every open MCP session. */
  close(): Promise<void>;
}

const sessionNotFound = (): Response =>
  // The same answer for "no such session" and "someone else's session": no oracle.
  Response.json({ jsonrpc: "2.0", error: { code: -32001, message: "Session not found" }, id: null }, { status: 404 });

export function createExampleApp({ env, defaultResource }: ExampleAppOptions): ExampleApp {
  if (env["OAUTH_RATE_LIMIT"])
    // The Express example's limit is express-rate-limit's (Node only): refused, never silently off.
    throw new McpOAuthConfigError(
      "OAUTH_RATE_LIMIT",
      "is not supported by the Hono example; rate-limit the metadata paths in front of it (docs/fetch.md)",
    );
  const allowedOrigins = splitList(env["OAUTH_ALLOWED_ORIGINS"]);
  const options = optionsFromEnv(env, env["OAUTH_RESOURCE"] ? {} : { resource: defaultResource });
  const oauth = mcpOAuthHono({
    ...options,
    resourceName: "mcp-oauth example (Hono)",
    // write_note needs mcp:write on top of the base scopes (OAUTH_SCOPES).
    scopePolicy: { tools: { write_note: ["mcp:write"] } },
    cors: { allowedOrigins: allowedOrigins.includes("*") ? "*" : allowedOrigins },
  });

  const app = new Hono<{ Variables: McpOAuthHonoVariables }>();
  app.use(oauth);

  const notes = new Map<string, string[]>();
  const sessions = new Map<string, { transport: WebStandardStreamableHTTPServerTransport; owner: Owner }>();

  app.all("/mcp", async (c) => {
    const authInfo = c.get("authInfo");
    const owner = ownerOf(authInfo);
    const sessionId = c.req.header("mcp-session-id");
    if (sessionId !== undefined) {
      const session = sessions.get(sessionId);
      if (!session || !sameOwner(session.owner, owner)) return sessionNotFound();
      return session.transport.handleRequest(c.req.raw, { authInfo });
    }
    // No session: only an initialize may open one (the transport answers anything else with 400).
    const transport: WebStandardStreamableHTTPServerTransport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => crypto.randomUUID(),
      onsessioninitialized: (id) => {
        sessions.set(id, { transport, owner });
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    await createMcpServer(notes).connect(transport);
    return transport.handleRequest(c.req.raw, { authInfo });
  });

  return {
    app,
    oauth,
    close: async () => {
      await Promise.all([...sessions.values()].map(({ transport }) => transport.close()));
      sessions.clear();
    },
  };
}

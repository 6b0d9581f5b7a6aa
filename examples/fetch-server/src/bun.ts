/**
 * The example on Bun: `bun examples/fetch-server/src/bun.ts`, configured by OAUTH_*, PORT
 * (3000), HOST (127.0.0.1); MCP at /mcp.
 */
import { McpOAuthConfigError } from "@mcp-oauth/fetch";
import { createFetchApp, localResource, type FetchApp } from "./app.js";

declare const Bun: {
  env: Record<string, string | undefined>;
  serve(options: { port: number; hostname: string; fetch(request: Request): Response | Promise<Response> }): {
    port: number;
    stop(): void;
  };
};

const host = Bun.env["HOST"] || "127.0.0.1";
// PORT=0 picks a free port, known once listening: the app (whose resource needs it) comes after.
let app: FetchApp | undefined;
const server = Bun.serve({
  port: Number(Bun.env["PORT"] ?? 3000),
  hostname: host,
  fetch: (request) => app?.fetch(request) ?? new Response(null, { status: 503 }),
});
try {
  app = createFetchApp(Bun.env, localResource(host, server.port));
} catch (error) {
  server.stop();
  if (!(error instanceof McpOAuthConfigError)) throw error;
  console.error(error.message);
  process.exit(2);
}
console.log(`MCP server (Bun) at ${app.protection.resourceServer.options.resourceUrl.href}`);

/**
 * The example on Deno: `deno run --allow-net --allow-env examples/fetch-server/src/deno.ts`
 * (from the workspace, with its node_modules: see docs/deno.md), configured by OAUTH_*, PORT
 * (3000), HOST (127.0.0.1); MCP at /mcp.
 */
import { McpOAuthConfigError } from "@mcp-oauth/fetch";
import { createFetchApp, localResource, type FetchApp } from "./app.js";

declare const Deno: {
  env: { toObject(): Record<string, string> };
  exit(code: number): never;
  serve(
    options: { port: number; hostname: string; onListen?: (address: { port: number }) => void },
    handler: (request: Request) => Response | Promise<Response>,
  ): unknown;
};

const env = Deno.env.toObject();
const host = env["HOST"] || "127.0.0.1";
// PORT=0 picks a free port, known once listening: the app (whose resource needs it) comes after.
let app: FetchApp | undefined;
Deno.serve(
  {
    port: Number(env["PORT"] ?? 3000),
    hostname: host,
    onListen: ({ port }) => {
      try {
        app = createFetchApp(env, localResource(host, port));
      } catch (error) {
        if (!(error instanceof McpOAuthConfigError)) throw error;
        console.error(error.message);
        Deno.exit(2);
      }
      console.log(`MCP server (Deno) at ${app.protection.resourceServer.options.resourceUrl.href}`);
    },
  },
  (request) => app?.fetch(request) ?? new Response(null, { status: 503 }),
);

/**
 * The example as a Workers module (`export default { fetch }`), for workerd (Cloudflare
 * Workers, miniflare), with the `nodejs_compat` flag. Configured by the Worker's variables:
 * OAUTH_* (OAUTH_RESOURCE is required here: a Worker does not know its public URL, and the
 * request's Host is not to be trusted for it).
 */
import { McpOAuthConfigError } from "@mcp-oauth/fetch";
import { createFetchApp, type FetchApp } from "./app.js";

type Env = Record<string, string | undefined>;

// One app per isolate, built on the first request (a Worker's variables arrive with it).
let app: FetchApp | undefined;

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    if (!env["OAUTH_RESOURCE"])
      throw new McpOAuthConfigError("OAUTH_RESOURCE", "must be set for a Worker: the URL of its MCP endpoint");
    app ??= createFetchApp(env);
    return app.fetch(request);
  },
};

// @ts-nocheck
import { ResourceServer, type McpOAuthOptions } from "@mcp-oauth/core";

/** Options, or a `ResourceServer` built from them: what every middleware accepts. */
export type ResourceServerSource = McpOAuthOptions | ResourceServer;

// The same options object passed to several middlewares builds one resource server, so
// options are validated and metadata built once.
const built = new WeakMap<McpOAuthOptions, ResourceServer>();

export function resourceServerFrom(source: ResourceServerSource): ResourceServer {
  if (source instanceof ResourceServer) return source;
  let server = built.get(source);
  if (!server) {
    server = new ResourceServer(source);
    built.set(source, server);
  }
  return server;
}

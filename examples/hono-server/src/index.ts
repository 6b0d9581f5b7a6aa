/**
 * The Hono example, started from the environment:
 *   OAUTH_AUTHORIZATION_SERVER (required), OAUTH_RESOURCE, OAUTH_AUDIENCE, OAUTH_ISSUER,
 *   OAUTH_JWKS_URI, OAUTH_SCOPES, OAUTH_ALLOWED_ORIGINS, PORT (3000), HOST (127.0.0.1).
 */
import { McpOAuthConfigError } from "@mcp-oauth/core";
import { startExampleServer } from "./server.js";

try {
  const running = await startExampleServer(process.env);
  const options = running.example.oauth.protection.resourceServer.options;
  console.log(`MCP server (Hono) at ${running.url}`);
  console.log(`  protected resource metadata: ${options.resourceMetadataUrl}`);
  console.log(`  authorization servers: ${options.authorizationServers.join(", ")}`);
  const stop = (): void => {
    void running.close().then(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
} catch (error) {
  if (error instanceof McpOAuthConfigError) {
    console.error(error.message);
    process.exit(2);
  }
  throw error;
}

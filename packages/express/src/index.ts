export { mcpOAuth, type McpOAuthMiddleware, type McpOAuthMiddlewareOptions } from "./mcp-oauth.js";
export { MCP_ALLOWED_HEADERS, MCP_EXPOSED_HEADERS, oauthCors, type OAuthCorsOptions } from "./oauth-cors.js";
export { protectedResourceMetadata, type ProtectedResourceMetadataOptions } from "./protected-resource-metadata.js";
export { requireBearer } from "./require-bearer.js";
export { requireScopes, type RequireScopesOptions } from "./require-scopes.js";
export { resourceServerFrom, type ResourceServerSource } from "./resource-server-from.js";
export type { AuthenticatedRequest, Middleware, NextFunction } from "./types.js";
export { createResourceServer, McpOAuthConfigError, McpOAuthError, optionsFromEnv, presets, ResourceServer } from "@mcp-oauth/core";
export type { AuthInfo, McpOAuthEvent, McpOAuthOptions, McpScopePolicy } from "@mcp-oauth/core";

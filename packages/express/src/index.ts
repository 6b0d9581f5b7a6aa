/** Writes a refusal as every middleware here does (status, challenge, security headers, JSON body); for adapters such as @mcp-oauth/mcp-framework. */
export { sendAnswer, sendFailure } from "./http.js";
/** The verdict requireBearer recorded for a request; for adapters that gate what they forward. */
export { verdictOf } from "./verdict.js";
export { mcpOAuth, type McpOAuthMiddleware, type McpOAuthMiddlewareOptions } from "./mcp-oauth.js";
export { oauthCors, type OAuthCorsOptions } from "./oauth-cors.js";
export { MCP_ALLOWED_HEADERS, MCP_EXPOSED_HEADERS } from "@mcp-oauth/core";
export { protectedResourceMetadata, type ProtectedResourceMetadataOptions } from "./protected-resource-metadata.js";
export { requireBearer } from "./require-bearer.js";
export { requireScopes, type RequireScopesOptions } from "./require-scopes.js";
export type { AuthenticatedRequest, Middleware, NextFunction } from "./types.js";
export { McpOAuthConfigError, McpOAuthError, optionsFromEnv, presets, ResourceServer } from "@mcp-oauth/core";
export type { AuthInfo, McpOAuthEvent, McpOAuthOptions, McpScopePolicy } from "@mcp-oauth/core";
export {
  publicEndpointRateLimit,
  type RateLimitHits,
  type RateLimitOptions,
  type RateLimitStore,
} from "./rate-limit.js";

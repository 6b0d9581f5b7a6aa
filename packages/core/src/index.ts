// The public API of @mcp-oauth/core, covered by semver and recorded in api/core.api.md
// (`pnpm api:update` after a deliberate change). Helpers the other @mcp-oauth packages share
// live in ./internal.ts (`@mcp-oauth/core/internal`), which semver does not cover.
export type { AuthInfo, AuthInfoExtra } from "./auth-info.js";
export type { TokenRequest } from "./authorization-header.js";
export { MCP_ALLOWED_HEADERS, MCP_EXPOSED_HEADERS } from "./cors-headers.js";
export { MemoryTokenCache, type TokenCacheLease, type TokenCacheStore } from "./cache.js";
export type {
  AuthorizationServerReport,
  McpOAuthEvent,
  McpOAuthEventListener,
  ValidationMethod,
  ValidationStats,
} from "./events.js";
export { optionsFromEnv, splitList, type Environment, type EnvironmentStores } from "./env.js";
export { ERROR_RESPONSES, type ErrorAnswer, type ErrorResponse, type OAuthErrorName } from "./error-responses.js";
export { McpOAuthConfigError, McpOAuthError, isMcpOAuthError, type McpOAuthErrorCode } from "./errors.js";
export type { ProtectedResourceMetadata } from "./metadata.js";
export {
  WELL_KNOWN_PROTECTED_RESOURCE,
  type AsymmetricAlgorithm,
  type CachedValidation,
  type CacheOptions,
  type HmacAlgorithm,
  type IntrospectionOptions,
  type JwtAlgorithm,
  type McpOAuthOptions,
  type ProviderPreset,
  type ResolvedTokenRules,
  type ResolvedOptions,
  type ValidationOptions,
} from "./options.js";
export {
  auth0,
  cognito,
  entra,
  keycloak,
  okta,
  presets,
  type Auth0PresetOptions,
  type CognitoPresetOptions,
  type EntraPresetOptions,
  type KeycloakPresetOptions,
  type OktaPresetOptions,
} from "./presets.js";
export { ResourceServer } from "./resource-server.js";
export type {
  DpopMode,
  DpopNonceSettings,
  DpopOptions,
  DpopReplaySettings,
  ResolvedDpopOptions,
} from "./dpop/options.js";
export type { DpopReplayStore } from "./dpop/replay.js";
export type { AudienceMatcher } from "./resource-uri.js";
export type { JsonRpcMessageLike, McpScopePolicy, ScopeHierarchy } from "./scopes.js";

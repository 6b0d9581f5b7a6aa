// @ts-nocheck
export type { AuthInfo, AuthInfoExtra } from "./auth-info.js";
export { clientIdFromClaims, ReadonlyURL } from "./auth-info.js";
export { assertB64Token, extractBearerToken, readBearerToken, type TokenRequest } from "./authorization-header.js";
export { answerFor, buildChallenge, quoteAuthParam, type ChallengeParams, type ErrorAnswer } from "./challenge.js";
export { MCP_ALLOWED_HEADERS, MCP_EXPOSED_HEADERS } from "./cors-headers.js";
export { checkClaims, checkHeader, checkIntrospection, checkIssuer } from "./claims.js";
export { MemoryTokenCache, tokenCacheKey, type TokenCacheLease, type TokenCacheStore } from "./cache.js";
export {
  AuthorizationServerDirectory, discoverAuthorizationServer, metadataUrls, reportFor,
  type AuthorizationServerMetadata, type DiscoveryResult,
} from "./discovery.js";
export type { AuthorizationServerReport, McpOAuthEvent, McpOAuthEventListener, ValidationMethod, ValidationStats } from "./events.js";
export { IntrospectionVerifier } from "./introspection.js";
export { optionsFromEnv, splitList, type Environment, type EnvironmentStores } from "./env.js";
export { ERROR_RESPONSES, type ErrorResponse, type OAuthErrorName } from "./error-responses.js";
export { McpOAuthConfigError, McpOAuthError, isMcpOAuthError, type McpOAuthErrorCode } from "./errors.js";
export { decodeJwt, looksLikeJwt } from "./jwt/decode.js";
export { JwksKeySource, type KeySourceObserver, type KeySourceOptions } from "./jwt/key-source.js";
export { JwtVerifier, type VerifiedToken } from "./jwt/verifier.js";
export { fetchJson, OutboundError, type OutboundRequest } from "./outbound.js";
export { buildProtectedResourceMetadata, metadataPaths, type ProtectedResourceMetadata } from "./metadata.js";
export {
  ASYMMETRIC_ALGORITHMS, HMAC_ALGORITHMS, WELL_KNOWN_PROTECTED_RESOURCE, resolveOptions,
  type CachedValidation, type CacheOptions, type IntrospectionOptions, type JwtAlgorithm, type JwtValidationOptions,
  type McpOAuthOptions, type ProviderPreset, type ResolvedOptions, type ValidationOptions,
} from "./options.js";
export {
  auth0, cognito, entra, keycloak, okta, presets,
  type Auth0PresetOptions, type CognitoPresetOptions, type EntraPresetOptions, type KeycloakPresetOptions, type OktaPresetOptions,
} from "./presets.js";
export { createResourceServer, ResourceServer, type ResourceServerInternals } from "./resource-server.js";
export { AudienceMatcher, isLoopbackHost, normalizeResourceUri } from "./resource-uri.js";
export {
  compileScopeHierarchy, isValidScopeToken, policyIsEmpty, scopesForJsonRpc, scopesFromClaims, splitScopes,
  type JsonRpcMessageLike, type McpScopePolicy, type ScopeHierarchy,
} from "./scopes.js";

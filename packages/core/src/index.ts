export type { AuthInfo, AuthInfoExtra } from "./auth-info.js";
export { clientIdFromClaims } from "./auth-info.js";
export { extractBearerToken, type TokenRequest } from "./authorization-header.js";
export { answerFor, buildChallenge, quoteAuthParam, type ChallengeParams, type ErrorAnswer } from "./challenge.js";
export { checkClaims, checkHeader, checkIssuer } from "./claims.js";
export { discoverAuthorizationServer, metadataUrls, type AuthorizationServerMetadata } from "./discovery.js";
export { optionsFromEnv, splitList, type Environment } from "./env.js";
export { ERROR_RESPONSES, type ErrorResponse, type OAuthErrorName } from "./error-responses.js";
export { McpOAuthConfigError, McpOAuthError, isMcpOAuthError, type McpOAuthErrorCode } from "./errors.js";
export { decodeJwt, looksLikeJwt } from "./jwt/decode.js";
export { clearKeySources, JwksKeySource } from "./jwt/key-source.js";
export { JwtVerifier } from "./jwt/verifier.js";
export { buildProtectedResourceMetadata, metadataPaths, type ProtectedResourceMetadata } from "./metadata.js";
export {
  ASYMMETRIC_ALGORITHMS, HMAC_ALGORITHMS, WELL_KNOWN_PROTECTED_RESOURCE, resolveOptions,
  type JwtAlgorithm, type JwtValidationOptions, type McpOAuthOptions, type ResolvedOptions, type ValidationOptions,
} from "./options.js";
export { createResourceServer, ResourceServer } from "./resource-server.js";
export { AudienceMatcher, isLoopbackHost, normalizeResourceUri } from "./resource-uri.js";
export {
  compileScopeHierarchy, isValidScopeToken, policyIsEmpty, scopesForJsonRpc, scopesFromClaims, splitScopes,
  type JsonRpcMessageLike, type McpScopePolicy, type ScopeHierarchy,
} from "./scopes.js";

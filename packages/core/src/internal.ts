// `@mcp-oauth/core/internal`: what the other @mcp-oauth packages (express, mcp-framework,
// redis, create-mcp-oauth's doctor) and the benchmarks share with the core. NOT covered by
// semver: names and signatures here change in any release. Applications import from
// `@mcp-oauth/core` only.
export { clientIdFromClaims, ReadonlyURL } from "./auth-info.js";
export {
  assertB64Token,
  extractBearerToken,
  isDpopScheme,
  readAccessToken,
  readBearerToken,
  type AccessTokenCredentials,
  type AccessTokenScheme,
} from "./authorization-header.js";
export { isCorsPreflight } from "./cors-preflight.js";
export {
  checkBodyLimit,
  checkCorsOptions,
  CORS_ALLOWED_METHODS,
  corsResponseHeaders,
  DEFAULT_CORS_MAX_AGE_SECONDS,
  originAllowList,
} from "./cors-policy.js";
export {
  DEFAULT_METADATA_CACHE_CONTROL,
  isHeaderValue,
  METADATA_ALLOW,
  METADATA_MAX_AGE_SECONDS,
  METADATA_METHOD_NOT_ALLOWED,
  SECURITY_HEADERS,
} from "./answer-headers.js";
export {
  buildChallenge,
  buildDpopChallenge,
  quoteAuthParam,
  type ChallengeParams,
  type DpopChallengeParams,
} from "./challenge.js";
export { answerFor, dpopAnswerFor, type AnswerContext, type DpopAnswerContext } from "./error-responses.js";
export { checkClaims, checkHeader, checkIntrospection, checkIssuer } from "./claims.js";
export { decisionFingerprint, tokenCacheKey } from "./cache.js";
export {
  AuthorizationServerDirectory,
  discoverAuthorizationServer,
  metadataUrls,
  reportFor,
  type AuthorizationServerMetadata,
  type DiscoveryResult,
} from "./discovery.js";
export {
  DEFAULT_DPOP_ALGORITHMS,
  DPOP_ALGORITHMS,
  isDpopAlgorithm,
  signatureCheck,
  type DpopAlgorithm,
  type ProofSignatureCheck,
} from "./dpop/algorithms.js";
export { HtuMatcher, normalizeHtu } from "./dpop/htu.js";
export { ProofKeyCache, thumbprintInput, thumbprintOf, type ProofKey } from "./dpop/jwk.js";
export { DpopNonces, type DpopNonceOptions, type NonceVerdict } from "./dpop/nonce.js";
export { readCompactClaims, type CompactClaims } from "./dpop/payload.js";
export {
  checkDpopAlgorithms,
  checkNonceSecrets,
  DPOP_DEFAULTS,
  DPOP_MODES,
  dpopOptionsFromEnv,
  MIN_NONCE_SECRET_BYTES,
  resolveDpopOptions,
  type DpopMode,
  type DpopNonceSettings,
  type DpopOptions,
  type DpopReplaySettings,
  type ResolvedDpopOptions,
} from "./dpop/options.js";
export {
  accessTokenHash,
  DpopProofChecker,
  type CheckedDpopProof,
  type DpopProofInput,
  type DpopProofRules,
} from "./dpop/proof.js";
export { boundThumbprintOf, dpopProofsOf } from "./dpop/request.js";
export {
  DEFAULT_REPLAY_MAX_ENTRIES,
  MemoryReplayStore,
  replayKey,
  type DpopReplayStore,
  type MemoryReplayStoreOptions,
} from "./dpop/replay.js";
export {
  dpopMetadata,
  DpopVerifier,
  type DpopMetadata,
  type DpopVerifierSettings,
  type VerifiedDpop,
} from "./dpop/verifier.js";
export { IntrospectionVerifier } from "./introspection.js";
export { decodeJwt, looksLikeJwt } from "./jwt/decode.js";
export { JwksKeySource, type KeySourceObserver, type KeySourceOptions } from "./jwt/key-source.js";
export { JwtVerifier, type VerifiedToken } from "./jwt/verifier.js";
export { fetchJson, OutboundError, type OutboundRequest } from "./outbound.js";
export { buildProtectedResourceMetadata, metadataPaths } from "./metadata.js";
export {
  assertPlainUtf8,
  DEFAULT_BODY_LIMIT_BYTES,
  FORM_BODY_LIMIT_BYTES,
  isFormMediaType,
  isJsonMediaType,
  parseJsonBody,
  parseJsonText,
  readsFormBody,
} from "./request-body.js";
export {
  ASYMMETRIC_ALGORITHMS,
  checkRequirableScopes,
  checkScopePolicy,
  DEFAULTS,
  HMAC_ALGORITHMS,
  resolveOptions,
} from "./options.js";
export { type ResourceServerInternals } from "./resource-server.js";
export { AudienceMatcher, isLoopbackHost, normalizeResourceUri } from "./resource-uri.js";
export {
  compileScopeHierarchy,
  compileScopePolicy,
  isValidScopeToken,
  policyIsEmpty,
  scopesForJsonRpc,
  scopesFromClaims,
  splitScopes,
} from "./scopes.js";

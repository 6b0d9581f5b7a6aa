export { generateSigningKey, type PrivateJwk, type SigningAlgorithm } from "./keys.js";
export {
  DEFAULT_LOCAL_DPOP_ALGORITHMS,
  startLocalAuthorizationServer,
  type DpopSigningAlgorithm,
  type LocalDpopOptions,
  type LocalAuthorizationServer,
  type LocalAuthorizationServerOptions,
} from "./server.js";
export { completeAuthorization, obtainAccessToken, type ObtainAccessTokenOptions, type TokenSet } from "./browser.js";

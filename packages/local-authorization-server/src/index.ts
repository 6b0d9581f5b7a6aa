export { generateSigningKey, type PrivateJwk, type SigningAlgorithm } from "./keys.js";
export {
  startLocalAuthorizationServer,
  type LocalAuthorizationServer,
  type LocalAuthorizationServerOptions,
} from "./server.js";
export { completeAuthorization, obtainAccessToken, type ObtainAccessTokenOptions, type TokenSet } from "./browser.js";

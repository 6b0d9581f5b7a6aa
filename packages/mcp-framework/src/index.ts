export { frameworkCors, type FrameworkCorsConfig, type FrameworkCorsOptions } from "./cors.js";
export {
  OAuthAuthProvider,
  type FrameworkAuthProvider,
  type OAuthAuthProviderOptions,
  type OAuthRequestContext,
} from "./oauth-auth-provider.js";
export { SUPPORTED_FRAMEWORK_RANGE, UnsupportedFrameworkError } from "./framework-internals.js";
export { DEFAULT_SESSION_LIMITS, type SessionLimits } from "./sessions.js";
export { sessionsFromEnv } from "./env.js";
export { frameworkRequestHandler, type WebRequestHandler } from "./request-handler.js";
export { optionsFromEnv, presets } from "@mcp-oauth/core";

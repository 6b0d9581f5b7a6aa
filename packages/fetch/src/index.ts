export {
  createFetchProtection,
  type FetchCorsOptions,
  type FetchMetadataOptions,
  type FetchProtection,
  type FetchProtectionOptions,
  type FetchVerdict,
} from "./fetch-protection.js";
export { MCP_ALLOWED_HEADERS, MCP_EXPOSED_HEADERS } from "@mcp-oauth/core";
export { McpOAuthConfigError, McpOAuthError, optionsFromEnv, presets, ResourceServer } from "@mcp-oauth/core";
export type { AuthInfo, McpOAuthEvent, McpOAuthOptions, McpScopePolicy } from "@mcp-oauth/core";

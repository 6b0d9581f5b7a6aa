/**
 * Options from the `OAUTH_*` environment variables that mcp-framework's CLI writes into
 * `.env.example`, so an existing `.env` works unchanged.
 */
import { McpOAuthConfigError } from "./errors.js";
import type { McpOAuthOptions } from "./options.js";

export type Environment = Readonly<Record<string, string | undefined>>;

/** Comma- or whitespace-separated list; empty entries dropped. */
export function splitList(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value.split(/[\s,]+/).filter((v) => v.length > 0);
}

function read(env: Environment, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === "" ? undefined : value;
}

/**
 * Reads `OAUTH_AUTHORIZATION_SERVER` (comma-separated for several), `OAUTH_RESOURCE`,
 * `OAUTH_AUDIENCE`, `OAUTH_ISSUER`, `OAUTH_JWKS_URI`, `OAUTH_SCOPES`,
 * `OAUTH_CLOCK_TOLERANCE`, `OAUTH_VALIDATION` (`jwt`, `introspection` or `auto`),
 * `OAUTH_INTROSPECTION_ENDPOINT`, `OAUTH_CLIENT_ID` and `OAUTH_CLIENT_SECRET`.
 * `overrides` win over the environment.
 */
export function optionsFromEnv(env: Environment = process.env, overrides: Partial<McpOAuthOptions> = {}): McpOAuthOptions {
  const resource = overrides.resource ?? read(env, "OAUTH_RESOURCE");
  if (resource === undefined) throw new McpOAuthConfigError("OAUTH_RESOURCE", "set it to the public URL of your MCP endpoint, e.g. https://mcp.example.com/mcp");
  const authorizationServers = overrides.authorizationServers ?? splitList(read(env, "OAUTH_AUTHORIZATION_SERVER"));
  if (authorizationServers.length === 0) {
    throw new McpOAuthConfigError("OAUTH_AUTHORIZATION_SERVER", "set it to your authorization server's issuer URL, e.g. https://tenant.auth0.com/");
  }
  const audience = splitList(read(env, "OAUTH_AUDIENCE"));
  const issuer = splitList(read(env, "OAUTH_ISSUER"));
  const scopes = splitList(read(env, "OAUTH_SCOPES"));
  const jwksUri = read(env, "OAUTH_JWKS_URI");
  const clockTolerance = read(env, "OAUTH_CLOCK_TOLERANCE");
  let clockSeconds: number | undefined;
  if (clockTolerance !== undefined) {
    clockSeconds = Number(clockTolerance);
    if (!Number.isFinite(clockSeconds) || clockSeconds < 0) throw new McpOAuthConfigError("OAUTH_CLOCK_TOLERANCE", `"${clockTolerance}" is not a number of seconds`);
  }
  const validationType = read(env, "OAUTH_VALIDATION");
  if (validationType !== undefined && validationType !== "jwt" && validationType !== "introspection" && validationType !== "auto") {
    throw new McpOAuthConfigError("OAUTH_VALIDATION", `"${validationType}" is not one of jwt, introspection, auto`);
  }
  const clientId = read(env, "OAUTH_CLIENT_ID");
  const clientSecret = read(env, "OAUTH_CLIENT_SECRET");
  const introspectionEndpoint = read(env, "OAUTH_INTROSPECTION_ENDPOINT");
  const introspection = clientId !== undefined || clientSecret !== undefined || introspectionEndpoint !== undefined
    ? { clientId: clientId ?? "", clientSecret: clientSecret ?? "", ...(introspectionEndpoint !== undefined ? { endpoint: introspectionEndpoint } : {}) }
    : undefined;
  return {
    ...(introspection !== undefined ? { introspection } : {}),
    ...overrides,
    resource,
    authorizationServers,
    ...(scopes.length > 0 && overrides.scopes === undefined ? { scopes } : {}),
    validation: {
      type: validationType ?? "jwt",
      ...(jwksUri !== undefined ? { jwksUri } : {}),
      ...(audience.length > 0 ? { audience } : {}),
      ...(issuer.length > 0 ? { issuer } : {}),
      ...(clockSeconds !== undefined ? { clockTolerance: clockSeconds } : {}),
      ...overrides.validation,
    },
  };
}

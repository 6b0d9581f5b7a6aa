/**
 * The session bounds from the environment, for `OAuthAuthProvider`'s `sessions` option:
 *
 *   new OAuthAuthProvider({ ...optionsFromEnv(), sessions: sessionsFromEnv() })
 *
 * `OAUTH_SESSIONS_MAX_PER_OWNER` (sessions one owner may hold) and
 * `OAUTH_SESSION_IDLE_TIMEOUT_MS` (milliseconds without a request before a session is
 * closed); `infinity` turns either off, unset or empty leaves the default. The values are
 * checked again, with the option's own rules, when the provider is built.
 */
import { McpOAuthConfigError, type Environment } from "@mcp-oauth/core";
import type { SessionLimits } from "./sessions.js";

function count(env: Environment, name: string): number | undefined {
  const value = env[name]?.trim();
  if (value === undefined || value === "") return undefined;
  if (value.toLowerCase() === "infinity") return Infinity;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1)
    throw new McpOAuthConfigError(name, `"${value}" is not a whole number, 1 or more, or infinity`);
  return parsed;
}

export function sessionsFromEnv(env: Environment = process.env): Partial<SessionLimits> {
  const maxPerOwner = count(env, "OAUTH_SESSIONS_MAX_PER_OWNER");
  const idleTimeoutMs = count(env, "OAUTH_SESSION_IDLE_TIMEOUT_MS");
  return {
    ...(maxPerOwner !== undefined ? { maxPerOwner } : {}),
    ...(idleTimeoutMs !== undefined ? { idleTimeoutMs } : {}),
  };
}

/**
 * The stored form of a verdict: a JSON array without field names, read back strictly (a
 * value of any other shape is a miss, never a verdict). It holds what core caches (claims,
 * scopes, client id, `exp`, or an error code), never the token: the key is a hash.
 *
 *   accepted: [1, method, expiresAt, clientId, scopes, claims]
 *   rejected: [0, method, code]
 *
 * `method` is 0 for `jwt`, 1 for `introspection`.
 */
import { ERROR_RESPONSES, type CachedValidation, type McpOAuthErrorCode } from "@mcp-oauth/core";

export function encode(value: CachedValidation): string {
  const method = value.method === "jwt" ? 0 : 1;
  return JSON.stringify(value.ok
    ? [1, method, value.expiresAt, value.clientId, value.scopes, value.claims]
    : [0, method, value.code]);
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

export function decode(text: string): CachedValidation | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed) || (parsed[1] !== 0 && parsed[1] !== 1)) return undefined;
  const method = parsed[1] === 0 ? "jwt" : "introspection";
  if (parsed[0] === 0 && parsed.length === 3) {
    const code = parsed[2];
    if (typeof code !== "string" || !Object.hasOwn(ERROR_RESPONSES, code)) return undefined;
    return { ok: false, method, code: code as McpOAuthErrorCode };
  }
  if (parsed[0] !== 1 || parsed.length !== 6) return undefined;
  const [, , expiresAt, clientId, scopes, claims] = parsed as unknown[];
  if (typeof expiresAt !== "number" || !Number.isFinite(expiresAt) || typeof clientId !== "string") return undefined;
  if (!Array.isArray(scopes) || !scopes.every((s) => typeof s === "string") || !isPlainObject(claims)) return undefined;
  return { ok: true, method, expiresAt, clientId, scopes: Object.freeze(scopes as string[]), claims: Object.freeze(claims) };
}

/**
 * The stored form of a verdict: a JSON array without field names, read back strictly (a
 * value of any other shape is a miss, never a verdict). It holds what core caches (claims,
 * scopes, client id, `exp`, or an error code), never the token: the key is a hash.
 *
 *   accepted: [1, method, checkedAt, expiresAt, clientId, scopes, claims]
 *   rejected: [0, method, checkedAt, code]
 *
 * `method` is 0 for `jwt`, 1 for `introspection`; `checkedAt` (ms since the epoch) is when
 * the verdict was reached: every reader applies its own lifetimes to it.
 */
import { ERROR_RESPONSES, type CachedValidation, type McpOAuthErrorCode } from "@mcp-oauth/core";

export function encode(value: CachedValidation): string {
  const method = value.method === "jwt" ? 0 : 1;
  return JSON.stringify(
    value.ok
      ? [1, method, value.checkedAt, value.expiresAt, value.clientId, value.scopes, value.claims]
      : [0, method, value.checkedAt, value.code],
  );
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
  const checkedAt: unknown = parsed[2];
  if (typeof checkedAt !== "number" || !Number.isFinite(checkedAt)) return undefined;
  if (parsed[0] === 0 && parsed.length === 4) {
    const code = parsed[3];
    if (typeof code !== "string" || !Object.hasOwn(ERROR_RESPONSES, code)) return undefined;
    return { ok: false, method, code: code as McpOAuthErrorCode, checkedAt };
  }
  if (parsed[0] !== 1 || parsed.length !== 7) return undefined;
  const [, , , expiresAt, clientId, scopes, claims] = parsed as unknown[];
  if (typeof expiresAt !== "number" || !Number.isFinite(expiresAt) || typeof clientId !== "string") return undefined;
  if (!Array.isArray(scopes) || !scopes.every((s) => typeof s === "string") || !isPlainObject(claims)) return undefined;
  return {
    ok: true,
    method,
    checkedAt,
    expiresAt,
    clientId,
    scopes: Object.freeze(scopes as string[]),
    claims: Object.freeze(claims),
  };
}

/**
 * The one place that builds `WWW-Authenticate` challenges (RFC 6750 section 3, RFC 9728
 * section 5.1). Which refusal gets which challenge is error-responses.ts's business.
 */
import { isValidScopeToken } from "./scopes.js";

/**
 * An RFC 7230 quoted-string: `"` and `\` escaped. Only visible ASCII, space and tab are
 * kept: control characters would split or break the header, and Node refuses a header
 * with characters above U+00FF outright (the answer would never be sent).
 */
export function quoteAuthParam(value: string): string {
  // eslint-disable-next-line no-control-regex
  return `"${value.replace(/[^\x09\x20-\x7E]/g, "").replace(/[\\"]/g, "\\$&")}"`;
}

export interface ChallengeParams {
  /** Absolute URL of the protected resource metadata (RFC 9728 section 5.1). */
  resourceMetadata: string;
  /** RFC 6750 `error`; omitted when the request carried no credentials. */
  error?: string | undefined;
  errorDescription?: string | undefined;
  /** Scopes the request needs, space-separated in the challenge. */
  scopes?: readonly string[] | undefined;
}

/**
 * The scopes a challenge offers, of both schemes. A custom scope policy may build scopes from
 * request data: a string that is no RFC 6749 scope token is still required (so never granted)
 * but is not offered. MCP 2026-07-28: a challenge SHOULD NOT name offline_access (the options
 * refuse it in every table; a custom policy could still return it).
 */
function offeredScopes(scopes: readonly string[] | undefined): string[] {
  return scopes?.filter((scope) => scope !== "offline_access" && isValidScopeToken(scope)) ?? [];
}

/**
 * `Bearer error="…", resource_metadata="…", scope="…", error_description="…"`. Every value
 * is quoted: a widely used client parser cannot read an unquoted URL. The free-text
 * description comes last: the MCP SDK v1 client finds each parameter by searching for
 * `name=` anywhere in the header, so text before `scope` could shadow it.
 */
export function buildChallenge(params: ChallengeParams): string {
  const parts: string[] = [];
  if (params.error !== undefined) parts.push(`error=${quoteAuthParam(params.error)}`);
  parts.push(`resource_metadata=${quoteAuthParam(params.resourceMetadata)}`);
  const scopes = offeredScopes(params.scopes);
  if (scopes.length > 0) parts.push(`scope=${quoteAuthParam(scopes.join(" "))}`);
  if (params.error !== undefined && params.errorDescription !== undefined) {
    parts.push(`error_description=${quoteAuthParam(params.errorDescription)}`);
  }
  return `Bearer ${parts.join(", ")}`;
}

export interface DpopChallengeParams extends ChallengeParams {
  /** The proof algorithms accepted, space-separated in `algs` (RFC 9449 section 7.1). */
  algorithms: readonly string[];
}

/**
 * `DPoP error="…", resource_metadata="…", scope="…", algs="ES256 …", error_description="…"`
 * (RFC 9449 section 7.1): the parameters of the Bearer challenge, so that a client of the
 * DPoP scheme finds the resource metadata and the scopes in the same places, plus `algs`.
 * The same order rule as `buildChallenge`: the free-text description last.
 */
export function buildDpopChallenge(params: DpopChallengeParams): string {
  const parts: string[] = [];
  if (params.error !== undefined) parts.push(`error=${quoteAuthParam(params.error)}`);
  parts.push(`resource_metadata=${quoteAuthParam(params.resourceMetadata)}`);
  const scopes = offeredScopes(params.scopes);
  if (scopes.length > 0) parts.push(`scope=${quoteAuthParam(scopes.join(" "))}`);
  if (params.algorithms.length > 0) parts.push(`algs=${quoteAuthParam(params.algorithms.join(" "))}`);
  if (params.error !== undefined && params.errorDescription !== undefined) {
    parts.push(`error_description=${quoteAuthParam(params.errorDescription)}`);
  }
  return `DPoP ${parts.join(", ")}`;
}

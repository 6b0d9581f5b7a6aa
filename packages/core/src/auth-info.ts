/**
 * What a verified request carries: the MCP SDK's `AuthInfo` shape, so SDK v1 handlers
 * see it as `extra.authInfo` and v2 handlers as `ctx.http.authInfo`. Declared here rather
 * than imported so the core depends on no SDK.
 */
export interface AuthInfo {
  /** The access token. Never log it. */
  token: string;
  /** `client_id` (RFC 9068), else `azp`, `cid` (Okta) or `appid` (Entra v1); `""` when none. */
  clientId: string;
  /** Granted scopes, from `scope` and `scp`. */
  scopes: string[];
  /** `exp`, in seconds since the epoch. */
  expiresAt?: number;
  /** The canonical resource this token was accepted for. */
  resource?: URL;
  /** `sub`, `iss`, `aud` and every claim of the token under `claims`. */
  extra?: Record<string, unknown>;
}

/** The `extra` of an `AuthInfo` built by this library. */
export interface AuthInfoExtra {
  sub: string | undefined;
  iss: string;
  aud: string | string[] | undefined;
  claims: Readonly<Record<string, unknown>>;
}

const CLIENT_ID_CLAIMS = ["client_id", "azp", "cid", "appid"] as const;

export function clientIdFromClaims(claims: Record<string, unknown>): string {
  for (const claim of CLIENT_ID_CLAIMS) {
    const value = claims[claim];
    if (typeof value === "string" && value !== "") return value;
  }
  return "";
}

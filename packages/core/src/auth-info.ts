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
  /**
   * Set when the request came with `Authorization: DPoP` and its proof passed (RFC 9449):
   * the token is DPoP-bound, to the key whose RFC 7638 thumbprint is `jkt`.
   */
  dpop?: { readonly jkt: string };
}

const CLIENT_ID_CLAIMS = ["client_id", "azp", "cid", "appid"] as const;

/** Claims objects already frozen through and through: a cached verdict is walked once. */
const frozenClaims = new WeakSet<object>();

/**
 * Freezes a verdict's claims and every object and array in them. A cached verdict's claims
 * are the `extra.claims` of every request with that token: frozen only at the top level,
 * one handler could change a nested value (`realm_access.roles`) for all the others. A
 * verdict from a shared store is frozen too, when first used (its own freeze, if any, may
 * be shallow). Iterative, with a set of the objects seen: any depth, any shape.
 */
export function freezeClaims<T extends object>(claims: T): T {
  if (frozenClaims.has(claims)) return claims;
  const seen = new Set<object>([claims]);
  const pending: object[] = [claims];
  for (let value = pending.pop(); value !== undefined; value = pending.pop()) {
    Object.freeze(value);
    for (const child of Object.values(value)) {
      if (typeof child === "object" && child !== null && !seen.has(child)) {
        seen.add(child);
        pending.push(child);
      }
    }
  }
  frozenClaims.add(claims);
  return claims;
}

export function clientIdFromClaims(claims: Record<string, unknown>): string {
  for (const claim of CLIENT_ID_CLAIMS) {
    const value = claims[claim];
    if (typeof value === "string" && value !== "") return value;
  }
  return "";
}

const readOnly = (name: string): never => {
  throw new TypeError(`AuthInfo.resource is shared and read-only (${name}); copy it first: new URL(auth.resource)`);
};

/**
 * The `resource` of every `AuthInfo` a resource server builds: one URL shared by all
 * requests, so it cannot be changed. Building a `URL` per request (or an accessor that
 * builds it on first read) was the largest allocation on the cached path; a shared but
 * mutable URL would let one handler change what every other request sees.
 */
export class ReadonlyURL extends URL {
  constructor(url: string) {
    super(url);
    Object.freeze(this);
  }
}

// URL's parts are accessors on its prototype: the read-only copy keeps each getter and
// replaces each setter. `searchParams` returns a copy, since the live one would change it.
for (const name of [
  "href",
  "protocol",
  "username",
  "password",
  "host",
  "hostname",
  "port",
  "pathname",
  "search",
  "hash",
]) {
  const get = Object.getOwnPropertyDescriptor(URL.prototype, name)?.get;
  Object.defineProperty(ReadonlyURL.prototype, name, {
    get,
    set: () => readOnly(name),
    enumerable: true,
    configurable: true,
  });
}
Object.defineProperty(ReadonlyURL.prototype, "searchParams", {
  get(this: URL): URLSearchParams {
    return new URLSearchParams(this.search);
  },
  enumerable: true,
  configurable: true,
});

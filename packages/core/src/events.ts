/**
 * Structured events for logging and metrics. No event ever carries a token, a client
 * secret or an `Authorization` value; rejection reasons are error codes.
 */
import type { McpOAuthErrorCode } from "./errors.js";

export type ValidationMethod = "jwt" | "introspection";

export interface AuthorizationServerReport {
  /** The configured issuer. */
  issuer: string;
  /** Whether metadata was found and its `issuer` matched exactly. */
  ok: boolean;
  /** Where the metadata was found. */
  metadataUrl?: string;
  /** Why discovery failed. */
  error?: string;
  /** `S256` in `code_challenge_methods_supported`: MCP clients refuse a server without it. */
  pkceS256: boolean;
  /** RFC 7591 dynamic client registration endpoint, if any. */
  registrationEndpoint?: string;
  /** `client_id_metadata_document_supported` (MCP 2025-11-25 Client ID Metadata Documents). */
  clientIdMetadataDocumentSupported: boolean;
  jwksUri?: string;
  introspectionEndpoint?: string;
  /** What MCP clients will trip over, in words. */
  warnings: string[];
}

export type McpOAuthEvent =
  | { type: "token_accepted"; method: ValidationMethod; cached: boolean; clientId: string; sub: string | undefined }
  | { type: "token_rejected"; code: McpOAuthErrorCode; method: ValidationMethod; cached: boolean }
  /**
   * The token was accepted (its `token_accepted` came first) but its DPoP binding refused the
   * request (RFC 9449): a bound token sent as Bearer, a missing, bad or replayed proof, a key
   * that is not the token's. `code` is the refusal's (`dpop_*`, `use_dpop_nonce`).
   */
  | { type: "dpop_rejected"; code: McpOAuthErrorCode; clientId: string; sub: string | undefined }
  | { type: "key_set_refreshed"; jwksUri: string; keyCount: number }
  | { type: "upstream_error"; upstream: "jwks" | "introspection" | "discovery"; url: string; reason: string }
  /**
   * The cache store's `get` or `set` threw or rejected; the request went on as if
   * uncached. `error` is the error's name only (`Error`, `TypeError`): a store's message
   * may quote the key.
   */
  | { type: "cache_error"; operation: "get" | "set"; error: string }
  | { type: "authorization_server_discovered"; report: AuthorizationServerReport }
  /** A shared cache store stopped answering (down, slow past its deadline, errors): validation goes on locally. */
  | { type: "cache_store_unavailable"; store: string; reason: string }
  /** The shared cache store answers again. */
  | { type: "cache_store_recovered"; store: string };

export type McpOAuthEventListener = (event: McpOAuthEvent) => void;

/** Counters since the resource server was built. */
export interface ValidationStats {
  /** Tokens accepted (a DPoP refusal after that is counted in `dpopRejected` as well). */
  accepted: number;
  rejected: number;
  /** Requests whose accepted token's DPoP binding refused them. */
  dpopRejected: number;
  cacheHits: number;
  cacheMisses: number;
  /** Cache store `get`/`set` calls that threw or rejected (each degraded to no caching). */
  cacheErrors: number;
  upstreamErrors: number;
  /** Validations actually run (not served by the cache or joined to one in flight). */
  validations: number;
  introspectionCalls: number;
}

/** Calls the listener, never letting a throwing listener break a request. */
export function emitter(listener: McpOAuthEventListener | undefined): McpOAuthEventListener {
  if (listener === undefined) return () => {};
  return (event) => {
    try {
      listener(event);
    } catch {
      // A logging bug must not turn into a refused request.
    }
  };
}

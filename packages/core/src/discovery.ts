/**
 * Authorization server metadata discovery (RFC 8414 section 3, OpenID Connect Discovery
 * 1.0 section 4), in the order MCP clients use (MCP 2025-11-25, authorization server
 * metadata discovery).
 */
import { McpOAuthError } from "./errors.js";
import type { AuthorizationServerReport } from "./events.js";
import { fetchJson, OutboundError } from "./outbound.js";

export interface AuthorizationServerMetadata {
  issuer: string;
  jwks_uri?: string;
  introspection_endpoint?: string;
  registration_endpoint?: string;
  code_challenge_methods_supported?: string[];
  client_id_metadata_document_supported?: boolean;
  [field: string]: unknown;
}

/**
 * The metadata URLs to try, in order: RFC 8414 path insertion, OpenID Connect path
 * insertion, then OpenID Connect path appending. An issuer without a path (or with only
 * `/`, as Auth0's) has the two root forms.
 */
export function metadataUrls(issuer: string): string[] {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/$/, "");
  if (path === "") {
    return [`${url.origin}/.well-known/oauth-authorization-server`, `${url.origin}/.well-known/openid-configuration`];
  }
  return [
    `${url.origin}/.well-known/oauth-authorization-server${path}`,
    `${url.origin}/.well-known/openid-configuration${path}`,
    `${url.origin}${path}/.well-known/openid-configuration`,
  ];
}

export interface DiscoveryOptions {
  /** Total deadline of each metadata request, in ms. */
  timeout: number;
  retryAfter: number;
  /** Largest metadata document read, in bytes. Default 1 MiB. */
  maxResponseBytes?: number;
  fetch?: typeof fetch;
}

/**
 * Fetches the first metadata document that exists and checks that its `issuer` is
 * exactly the configured one (RFC 8414 section 3.3; MCP 2026-07-28 clients reject a
 * mismatch too). Unreachable servers become `upstream_unavailable`.
 */
export interface DiscoveryResult {
  /** The URL the metadata came from. */
  url: string;
  metadata: AuthorizationServerMetadata;
}

const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;

export async function discoverAuthorizationServer(issuer: string, options: DiscoveryOptions): Promise<DiscoveryResult> {
  const problems: string[] = [];
  for (const url of metadataUrls(issuer)) {
    let document: unknown;
    try {
      document = await fetchJson(url, {
        timeoutMs: options.timeout,
        maxResponseBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
        fetch: options.fetch,
      });
    } catch (error) {
      problems.push(`${url}: ${error instanceof OutboundError ? error.reason : "unreachable"}`);
      continue;
    }
    if (
      document === null ||
      typeof document !== "object" ||
      typeof (document as { issuer?: unknown }).issuer !== "string"
    ) {
      problems.push(`${url}: no issuer`);
      continue;
    }
    const metadata = document as AuthorizationServerMetadata;
    if (metadata.issuer !== issuer) {
      throw new McpOAuthError(
        "upstream_unavailable",
        `authorization server metadata at ${url} names issuer "${metadata.issuer}", not "${issuer}"; configure the issuer exactly as published`,
        { retryAfter: options.retryAfter },
      );
    }
    return { url, metadata };
  }
  throw new McpOAuthError(
    "upstream_unavailable",
    `no authorization server metadata for ${issuer} (${problems.join("; ")})`,
    { retryAfter: options.retryAfter },
  );
}

/** What MCP clients need from an authorization server, as a report (for `ready()`, events and the CLI). */
export function reportFor(
  issuer: string,
  discovered: DiscoveryResult | undefined,
  error?: string,
): AuthorizationServerReport {
  if (discovered === undefined) {
    return {
      issuer,
      ok: false,
      error: error ?? "no metadata",
      pkceS256: false,
      clientIdMetadataDocumentSupported: false,
      warnings: [],
    };
  }
  const { metadata, url } = discovered;
  const pkceS256 =
    Array.isArray(metadata.code_challenge_methods_supported) &&
    metadata.code_challenge_methods_supported.includes("S256");
  const registrationEndpoint =
    typeof metadata.registration_endpoint === "string" ? metadata.registration_endpoint : undefined;
  const clientIdMetadataDocumentSupported = metadata.client_id_metadata_document_supported === true;
  const warnings: string[] = [];
  if (!pkceS256)
    warnings.push("code_challenge_methods_supported lacks S256: MCP clients refuse to use this authorization server");
  if (!registrationEndpoint && !clientIdMetadataDocumentSupported) {
    warnings.push(
      "no registration_endpoint and no Client ID Metadata Document support: MCP clients need a pre-registered client id",
    );
  }
  return {
    issuer,
    ok: true,
    metadataUrl: url,
    pkceS256,
    ...(registrationEndpoint ? { registrationEndpoint } : {}),
    clientIdMetadataDocumentSupported,
    ...(typeof metadata.jwks_uri === "string" ? { jwksUri: metadata.jwks_uri } : {}),
    ...(typeof metadata.introspection_endpoint === "string"
      ? { introspectionEndpoint: metadata.introspection_endpoint }
      : {}),
    warnings,
  };
}

interface DirectoryEntry {
  pending: Promise<DiscoveryResult> | undefined;
  result: DiscoveryResult | undefined;
  /** After a failure: no new attempt before this time (ms). */
  retryAt: number;
  backoff: number;
  lastError: string | undefined;
}

/**
 * Metadata of the configured authorization servers, discovered once each and shared by
 * the JWT and introspection paths. A failure is never cached as a result: the next
 * attempt is allowed after a pause that doubles from 1 s up to a minute.
 */
export class AuthorizationServerDirectory {
  readonly #entries = new Map<string, DirectoryEntry>();
  readonly #options: DiscoveryOptions;
  readonly #onResult: ((report: AuthorizationServerReport) => void) | undefined;

  constructor(options: DiscoveryOptions, onResult?: (report: AuthorizationServerReport) => void) {
    this.#options = options;
    this.#onResult = onResult;
  }

  /** The issuer's metadata and where it was found. Throws `upstream_unavailable`. */
  discover(issuer: string): Promise<DiscoveryResult> {
    let entry = this.#entries.get(issuer);
    if (entry === undefined) {
      entry = { pending: undefined, result: undefined, retryAt: 0, backoff: 1000, lastError: undefined };
      this.#entries.set(issuer, entry);
    }
    if (entry.result) return Promise.resolve(entry.result);
    if (entry.pending) return entry.pending;
    const now = Date.now();
    if (now < entry.retryAt) {
      return Promise.reject(
        new McpOAuthError(
          "upstream_unavailable",
          `authorization server discovery for ${issuer} failed (${entry.lastError}); retrying later`,
          {
            retryAfter: Math.max(1, Math.ceil((entry.retryAt - now) / 1000)),
          },
        ),
      );
    }
    const current = entry;
    current.pending = discoverAuthorizationServer(issuer, this.#options).then(
      (result) => {
        current.result = result;
        current.pending = undefined;
        current.backoff = 1000;
        this.#onResult?.(reportFor(issuer, result));
        return result;
      },
      (error: unknown) => {
        current.pending = undefined;
        current.lastError = (error as Error).message;
        current.retryAt = Date.now() + current.backoff;
        current.backoff = Math.min(current.backoff * 2, 60_000);
        this.#onResult?.(reportFor(issuer, undefined, current.lastError));
        throw error;
      },
    );
    return current.pending;
  }

  /** A report for each issuer, discovering those not yet known. Never throws. */
  async reports(issuers: readonly string[]): Promise<AuthorizationServerReport[]> {
    return Promise.all(
      issuers.map((issuer) =>
        this.discover(issuer).then(
          (result) => reportFor(issuer, result),
          (error: unknown) => reportFor(issuer, undefined, (error as Error).message),
        ),
      ),
    );
  }
}

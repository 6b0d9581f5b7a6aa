/**
 * Authorization server metadata discovery (RFC 8414 section 3, OpenID Connect Discovery
 * 1.0 section 4), in the order MCP clients use (MCP 2025-11-25, authorization server
 * metadata discovery).
 */
import { McpOAuthError } from "./errors.js";

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
  timeout: number;
  retryAfter: number;
  fetch?: typeof fetch;
}

/**
 * Fetches the first metadata document that exists and checks that its `issuer` is
 * exactly the configured one (RFC 8414 section 3.3; MCP 2026-07-28 clients reject a
 * mismatch too). Unreachable servers become `upstream_unavailable`.
 */
export async function discoverAuthorizationServer(issuer: string, options: DiscoveryOptions): Promise<AuthorizationServerMetadata> {
  const doFetch = options.fetch ?? fetch;
  const problems: string[] = [];
  for (const url of metadataUrls(issuer)) {
    let response: Response;
    try {
      response = await doFetch(url, { headers: { accept: "application/json" }, signal: AbortSignal.timeout(options.timeout) });
    } catch (error) {
      problems.push(`${url}: ${(error as Error).name === "TimeoutError" ? "timed out" : "unreachable"}`);
      continue;
    }
    if (!response.ok) {
      await response.body?.cancel();
      problems.push(`${url}: HTTP ${response.status}`);
      continue;
    }
    let document: unknown;
    try {
      document = await response.json();
    } catch {
      problems.push(`${url}: not JSON`);
      continue;
    }
    if (document === null || typeof document !== "object" || typeof (document as { issuer?: unknown }).issuer !== "string") {
      problems.push(`${url}: no issuer`);
      continue;
    }
    const metadata = document as AuthorizationServerMetadata;
    if (metadata.issuer !== issuer) {
      throw new McpOAuthError("upstream_unavailable", `authorization server metadata at ${url} names issuer "${metadata.issuer}", not "${issuer}"; configure the issuer exactly as published`, { retryAfter: options.retryAfter });
    }
    return metadata;
  }
  throw new McpOAuthError("upstream_unavailable", `no authorization server metadata for ${issuer} (${problems.join("; ")})`, { retryAfter: options.retryAfter });
}

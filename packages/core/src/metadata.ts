/**
 * The protected resource metadata document (RFC 9728 section 2), built once from
 * resolved options and served from memory.
 */
import { McpOAuthConfigError } from "./errors.js";
import { dpopMetadata } from "./dpop/verifier.js";
import { WELL_KNOWN_PROTECTED_RESOURCE, type ResolvedOptions } from "./options.js";

export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers: string[];
  scopes_supported?: string[];
  bearer_methods_supported: string[];
  resource_name?: string;
  resource_documentation?: string;
  /** RFC 9728 section 2 / RFC 9449: the proof algorithms accepted, when DPoP is on. */
  dpop_signing_alg_values_supported?: string[];
  /** RFC 9728 section 2: whether every token must be DPoP-bound (`dpop.mode` `required`). */
  dpop_bound_access_tokens_required?: boolean;
  [field: string]: unknown;
}

// Every field the library writes from its own options: `metadata` may add fields, never
// replace these (an override could, say, publish `offline_access`, which MCP forbids).
const OWN_FIELDS = [
  "resource",
  "authorization_servers",
  "scopes_supported",
  "bearer_methods_supported",
  "resource_name",
  "resource_documentation",
  // What the library enforces: published from `dpop`, never claimed by hand.
  "dpop_signing_alg_values_supported",
  "dpop_bound_access_tokens_required",
];

export function buildProtectedResourceMetadata(options: ResolvedOptions): ProtectedResourceMetadata {
  for (const field of OWN_FIELDS) {
    if (Object.hasOwn(options.extraMetadata, field)) {
      throw new McpOAuthConfigError(
        `metadata.${field}`,
        "is set by the library from the other options (resource, authorizationServers, scopes/scopesSupported, resourceName, resourceDocumentation, dpop); remove it",
      );
    }
  }
  return {
    ...options.extraMetadata,
    // Verbatim: `new URL(resource).href` would add a trailing slash to a root resource,
    // which clients (and Entra ID) then treat as a different resource.
    resource: options.resource,
    authorization_servers: [...options.authorizationServers],
    // RFC 9728 section 3.2: a parameter with zero values is omitted, so `[]` publishes none.
    ...(options.scopesSupported !== undefined && options.scopesSupported.length > 0
      ? { scopes_supported: [...options.scopesSupported] }
      : {}),
    // MCP: tokens are accepted only in the Authorization header (RFC 9728 section 2).
    bearer_methods_supported: ["header"],
    ...(options.resourceName !== undefined ? { resource_name: options.resourceName } : {}),
    ...(options.resourceDocumentation !== undefined ? { resource_documentation: options.resourceDocumentation } : {}),
    // Exactly what is enforced (none when DPoP is off).
    ...dpopMetadata(options.dpop),
  };
}

/**
 * The paths where the document is served: the path-suffixed one (RFC 9728 section 3.1,
 * tried first by clients) and the root one (tried second; some clients read only it).
 */
export function metadataPaths(options: ResolvedOptions): string[] {
  return options.metadataPath === WELL_KNOWN_PROTECTED_RESOURCE
    ? [WELL_KNOWN_PROTECTED_RESOURCE]
    : [options.metadataPath, WELL_KNOWN_PROTECTED_RESOURCE];
}

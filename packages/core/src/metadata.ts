/**
 * The protected resource metadata document (RFC 9728 section 2), built once from
 * resolved options and served from memory.
 */
import { McpOAuthConfigError } from "./errors.js";
import { WELL_KNOWN_PROTECTED_RESOURCE, type ResolvedOptions } from "./options.js";

export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers: string[];
  scopes_supported?: string[];
  bearer_methods_supported: string[];
  resource_name?: string;
  resource_documentation?: string;
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
];

export function buildProtectedResourceMetadata(options: ResolvedOptions): ProtectedResourceMetadata {
  for (const field of OWN_FIELDS) {
    if (Object.hasOwn(options.extraMetadata, field)) {
      throw new McpOAuthConfigError(
        `metadata.${field}`,
        "is set by the library from the other options (resource, authorizationServers, scopes/scopesSupported, resourceName, resourceDocumentation); remove it",
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

/**
 * The framework-free resource server: everything an adapter (Express middleware,
 * mcp-framework provider) needs, built once from options. Adapters translate requests
 * and answers; every decision is made here.
 */
import type { AuthInfo } from "./auth-info.js";
import { extractBearerToken, type TokenRequest } from "./authorization-header.js";
import { answerFor, type ErrorAnswer } from "./challenge.js";
import { McpOAuthError } from "./errors.js";
import { JwtVerifier } from "./jwt/verifier.js";
import { buildProtectedResourceMetadata, metadataPaths, type ProtectedResourceMetadata } from "./metadata.js";
import { resolveOptions, type McpOAuthOptions, type ResolvedOptions } from "./options.js";
import { policyIsEmpty, scopesForJsonRpc } from "./scopes.js";

export interface ResourceServerInternals {
  /** Replaces the global `fetch` for discovery (tests of misbehaving servers). */
  fetch?: typeof fetch;
}

export class ResourceServer {
  readonly options: ResolvedOptions;
  readonly metadata: Readonly<ProtectedResourceMetadata>;
  /** The metadata document, serialised once. */
  readonly metadataJson: string;
  /** Paths where the metadata document is served. */
  readonly metadataPaths: readonly string[];
  /** Whether the scope policy can require anything, so adapters read bodies only when needed. */
  readonly needsBody: boolean;
  readonly #verifier: JwtVerifier;

  constructor(options: McpOAuthOptions, internals: ResourceServerInternals = {}) {
    this.options = resolveOptions(options);
    this.metadata = Object.freeze(buildProtectedResourceMetadata(this.options));
    this.metadataJson = JSON.stringify(this.metadata);
    this.metadataPaths = metadataPaths(this.options);
    this.needsBody = !policyIsEmpty(this.options.scopePolicy);
    this.#verifier = new JwtVerifier(this.options, internals.fetch);
  }

  /** Finds and verifies the request's bearer token. Throws `McpOAuthError`. */
  async authenticate(request: TokenRequest): Promise<AuthInfo> {
    const token = extractBearerToken(request, this.options.jwt.maxTokenLength);
    return this.#verifier.verify(token);
  }

  /** Verifies a token already taken from a request. Throws `McpOAuthError`. */
  verifyToken(token: string): Promise<AuthInfo> {
    return this.#verifier.verify(token);
  }

  /**
   * Every scope a request needs: the base `scopes` plus, when a JSON-RPC body is given,
   * what the scope policy asks for its methods and tool names.
   */
  requiredScopesFor(body?: unknown): string[] {
    const policy = this.options.scopePolicy;
    if (policy === undefined || body === undefined) return [...this.options.requiredScopes];
    return [...new Set([...this.options.requiredScopes, ...scopesForJsonRpc(policy, body)])];
  }

  /**
   * Throws `insufficient_scope` unless the token's scopes (expanded through the hierarchy)
   * cover `required`. Call after `authenticate`: validity and audience come first.
   */
  checkScopes(authInfo: AuthInfo, required: readonly string[]): void {
    if (required.length === 0) return;
    const granted = this.options.expandScopes(authInfo.scopes);
    if (required.every((scope) => granted.has(scope))) return;
    throw new McpOAuthError("insufficient_scope", "token lacks required scopes", { requiredScopes: required });
  }

  /**
   * Status, headers and JSON body for a refusal. An unexpected error (a bug, or a library
   * failing in a way we did not foresee) means the token could not be checked: 503, never
   * a 500 with a stack trace and never `invalid_token`.
   */
  answer(error: unknown): ErrorAnswer {
    const known = error instanceof McpOAuthError
      ? error
      : new McpOAuthError("upstream_unavailable", "unexpected failure while checking the token", { cause: error });
    return answerFor(known, {
      resourceMetadataUrl: this.options.resourceMetadataUrl,
      requiredScopes: this.options.requiredScopes,
      retryAfter: this.options.retryAfter,
    });
  }

  /**
   * Discovers each authorization server and loads its key set, so that a broken setup
   * fails at start-up instead of on the first request. Optional: without it, the same
   * happens lazily (with timeouts) on the first token.
   */
  ready(): Promise<void> {
    return this.#verifier.ready();
  }
}

export function createResourceServer(options: McpOAuthOptions, internals?: ResourceServerInternals): ResourceServer {
  return new ResourceServer(options, internals);
}

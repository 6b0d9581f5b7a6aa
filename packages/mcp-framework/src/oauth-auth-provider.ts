/**
 * `OAuthAuthProvider` for mcp-framework's HTTP Stream and SSE transports, validating with
 * the same core as the Express middlewares.
 *
 * How the framework (0.2.x) uses a provider, which shapes this class:
 * - its transports call `authenticate(req)` after reading the body, and on a falsy result
 *   answer with `getAuthError()`'s status; they add a `WWW-Authenticate` header only for
 *   providers that are `instanceof` its own `OAuthAuthProvider`, from
 *   `getWWWAuthenticateHeader()`. So this class extends the framework's class and
 *   overrides those public methods (no private member is touched);
 * - they serve `/.well-known/oauth-protected-resource` (root only) from
 *   `getResource()` and `getAuthorizationServers()`, so challenges point there;
 * - a throw inside `authenticate` becomes a 500, so nothing here throws;
 * - `getAuthError()` takes no request: refusals are queued in the order `authenticate`
 *   settles, which is the order the transports ask for them.
 */
import type { IncomingMessage } from "node:http";
import { OAuthAuthProvider as FrameworkOAuthAuthProvider } from "mcp-framework";
import {
  McpOAuthError, ResourceServer, WELL_KNOWN_PROTECTED_RESOURCE,
  type AuthInfo, type ErrorAnswer, type McpOAuthOptions,
} from "@mcp-oauth/core";

/** What tools see through mcp-framework's `getRequestContext()`. */
export interface OAuthRequestContext extends Record<string, unknown> {
  /** The MCP SDK's AuthInfo, as Express handlers see it in `extra.authInfo`. */
  authInfo: AuthInfo;
  sub: string | undefined;
  clientId: string;
  scopes: string[];
  /** Every claim of the token (or introspection answer). */
  claims: Readonly<Record<string, unknown>>;
}

/** The framework's provider interface, for `alsoAccept`. */
export interface FrameworkAuthProvider {
  authenticate(req: IncomingMessage): Promise<boolean | { data?: Record<string, unknown> }>;
}

export interface OAuthAuthProviderOptions extends McpOAuthOptions {
  /**
   * Other mcp-framework providers (an `APIKeyAuthProvider`, say) tried when a request
   * carries no bearer token at all. A request that does carry one is decided by OAuth
   * alone: a bad token is never rescued by another scheme.
   */
  alsoAccept?: readonly FrameworkAuthProvider[];
}

// Refusals waiting for the transport to ask for them; bounded in case a caller never asks.
const MAX_PENDING = 1024;

export class OAuthAuthProvider extends FrameworkOAuthAuthProvider {
  /** The core resource server: options, validation, caches, events. */
  readonly resourceServer: ResourceServer;
  readonly #pending: ErrorAnswer[] = [];
  #current: ErrorAnswer | undefined;
  readonly #missing: ErrorAnswer;
  readonly #alsoAccept: readonly FrameworkAuthProvider[];

  constructor(options: OAuthAuthProviderOptions) {
    const { alsoAccept, ...resourceOptions } = options;
    const resourceUrl = new URL(options.resource);
    const server = new ResourceServer({
      ...resourceOptions,
      // The framework serves the metadata document only at the root path.
      resourceMetadataUrl: options.resourceMetadataUrl ?? `${resourceUrl.origin}${WELL_KNOWN_PROTECTED_RESOURCE}`,
    });
    // The framework's constructor needs a configuration it can accept; its validator is
    // never used, since authenticate() is ours. Nothing is fetched at construction.
    super({
      authorizationServers: [...server.options.authorizationServers],
      resource: server.options.resource,
      validation: {
        type: "jwt",
        jwksUri: server.options.jwt.jwksUri ?? new URL("/.well-known/jwks.json", server.options.authorizationServers[0]).href,
        audience: server.options.jwt.audiences[0]!,
        issuer: server.options.jwt.issuers[0]!,
      },
    });
    this.resourceServer = server;
    this.#missing = server.answer(new McpOAuthError("token_missing", "no token"));
    this.#alsoAccept = alsoAccept ?? [];
  }

  override async authenticate(req: IncomingMessage): Promise<false | { data: OAuthRequestContext | Record<string, unknown> }> {
    try {
      const authInfo = await this.resourceServer.authenticate(req);
      this.resourceServer.checkScopes(authInfo, this.resourceServer.options.requiredScopes);
      (req as IncomingMessage & { auth?: AuthInfo }).auth = authInfo;
      const extra = authInfo.extra as { sub?: string; claims: Readonly<Record<string, unknown>> };
      return { data: { authInfo, sub: extra.sub, clientId: authInfo.clientId, scopes: authInfo.scopes, claims: extra.claims } };
    } catch (error) {
      const noBearer = error instanceof McpOAuthError && (error.code === "token_missing" || error.code === "unsupported_scheme");
      if (noBearer) {
        for (const other of this.#alsoAccept) {
          const result = await other.authenticate(req).catch(() => false);
          if (result) return { data: result === true ? {} : result.data ?? {} };
        }
      }
      if (this.#pending.length >= MAX_PENDING) this.#pending.shift();
      this.#pending.push(this.resourceServer.answer(error));
      return false;
    }
  }

  /** Status and message of the refusal `authenticate` just reported (401, 403, or 503 in an outage). */
  override getAuthError(): { status: number; message: string } {
    this.#current = this.#pending.shift() ?? this.#missing;
    return { status: this.#current.status, message: this.#current.body.error_description };
  }

  /**
   * The RFC 6750 / RFC 9728 challenge of that refusal. The framework passes its own fixed
   * `error` arguments; they are ignored so a request without a token gets no error code.
   */
  override getWWWAuthenticateHeader(): string {
    const answer = this.#current ?? this.#missing;
    return answer.headers["WWW-Authenticate"] ?? this.#missing.headers["WWW-Authenticate"]!;
  }

  override getAuthorizationServers(): string[] {
    return [...this.resourceServer.options.authorizationServers];
  }

  override getResource(): string {
    return this.resourceServer.options.resource;
  }
}

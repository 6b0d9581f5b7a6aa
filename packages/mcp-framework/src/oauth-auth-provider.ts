/**
 * `OAuthAuthProvider` for mcp-framework: the user story's
 * `transport: { type: "http-stream" | "sse", options: { auth: { provider } } }` is all it
 * takes. Constructing it registers the bridge (bridge.ts, via framework-internals.ts): when
 * `MCPServer.start()` creates a transport configured with this provider, the library's
 * middlewares run in front of the transport's request listener, so the metadata document,
 * refusals, scopes, sessions and the Origin rule are the library's, as on the Express side.
 *
 * How the framework (0.2.x) calls a provider, and what this class does with it:
 * - its transports call `authenticate(req)` for requests the bridge already let through:
 *   the answer is the caller's context the bridge attached to that very request object;
 * - `MCPServer.handleRequest()` (through `frameworkRequestHandler()`) calls it with a shim
 *   of a web Request: the middlewares in front already authenticated the request (their
 *   result is used, nothing is validated twice), else it validates here and keeps the
 *   refusal in that request's own async scope for `getAuthError()`, which takes no request;
 * - it extends the framework's class (the transports add `WWW-Authenticate` only for
 *   `instanceof` its `OAuthAuthProvider`) and overrides public methods only, without running
 *   that class's constructor (see `FrameworkOAuthProviderBase`).
 */
import type { IncomingMessage } from "node:http";
import { McpOAuthError, ResourceServer, type AuthInfo, type ErrorAnswer, type McpOAuthOptions } from "@mcp-oauth/core";
import type { OAuthCorsOptions, ProtectedResourceMetadataOptions } from "@mcp-oauth/express";
import { createBridge, type FrameworkAuthProvider } from "./bridge.js";
import { FrameworkOAuthProviderBase, registerProvider } from "./framework-internals.js";
import { alsoAcceptedOwner, tokenOwner } from "./owners.js";
import { sessionLimits, type SessionLimits } from "./sessions.js";
import { bridged, contextOf, requestScope, type OAuthRequestContext } from "./verdicts.js";

export type { FrameworkAuthProvider } from "./bridge.js";
export type { OAuthRequestContext } from "./verdicts.js";

export interface OAuthAuthProviderOptions extends McpOAuthOptions {
  /**
   * Other mcp-framework providers (an `APIKeyAuthProvider`, say) tried when a request
   * carries no bearer token at all. A request that does carry one is decided by OAuth
   * alone: a bad token is never rescued by another scheme.
   */
  alsoAccept?: readonly FrameworkAuthProvider[];
  /**
   * The Origin rule and CORS (as `oauthCors()`): browser origins allowed to call the server,
   * `"*"` for any; the resource's own origin always. Env: `OAUTH_ALLOWED_ORIGINS`.
   * Origins in the transport's `cors.allowedOrigins` (`frameworkCors()`) are added.
   */
  cors?: Omit<OAuthCorsOptions, "server">;
  /** The metadata document's options (as `protectedResourceMetadata()`). */
  protectedResourceMetadata?: ProtectedResourceMetadataOptions;
  /**
   * Bounds on the transports' sessions (sessions.ts): `maxPerOwner` sessions per owner (one
   * more closes the owner's least recently used; default 20) and `idleTimeoutMs` with no
   * request in flight before a session is closed (default 30 minutes); `Infinity` turns
   * either off. Env (with `sessionsFromEnv()`): `OAUTH_SESSIONS_MAX_PER_OWNER`,
   * `OAUTH_SESSION_IDLE_TIMEOUT_MS`.
   */
  sessions?: Partial<SessionLimits>;
}

const NOT_BRIDGED =
  "OAuthAuthProvider answers only requests that come through its bridge " +
  "(the http-stream and sse transports started by MCPServer.start()) or frameworkRequestHandler()";

export class OAuthAuthProvider extends FrameworkOAuthProviderBase {
  /** The core resource server: options, validation, caches, events. */
  readonly resourceServer: ResourceServer;
  readonly #missing: ErrorAnswer;
  readonly #alsoAccept: readonly FrameworkAuthProvider[];
  #warned = false;

  constructor(options: OAuthAuthProviderOptions) {
    const { alsoAccept, cors, protectedResourceMetadata, sessions, ...resourceOptions } = options;
    super();
    const server = new ResourceServer(resourceOptions);
    const limits = sessionLimits(sessions);
    this.resourceServer = server;
    this.#missing = server.answer(new McpOAuthError("token_missing", "no token"));
    this.#alsoAccept = alsoAccept ?? [];
    registerProvider(
      this,
      createBridge(server, {
        alsoAccept: this.#alsoAccept,
        sessions: limits,
        ...(cors ? { cors } : {}),
        ...(protectedResourceMetadata ? { protectedResourceMetadata } : {}),
      }),
    );
  }

  override async authenticate(
    req: IncomingMessage,
  ): Promise<false | { data: OAuthRequestContext | Record<string, unknown> }> {
    const data = bridged.get(req);
    if (data !== undefined) return { data };
    const scope = requestScope.getStore();
    if (scope === undefined) {
      if (!this.#warned) {
        this.#warned = true;
        process.emitWarning(
          `${NOT_BRIDGED}; this request came another way and is refused with 500.`,
          "McpOAuthWarning",
        );
      }
      return false;
    }
    if (scope.auth !== undefined) return { data: contextOf(scope.auth) };
    try {
      const authInfo = await this.resourceServer.authenticate(req);
      this.resourceServer.checkScopes(authInfo, this.resourceServer.options.requiredScopes);
      (req as IncomingMessage & { auth?: AuthInfo }).auth = authInfo;
      scope.owner = tokenOwner(authInfo);
      return { data: contextOf(authInfo) };
    } catch (error) {
      const noBearer =
        error instanceof McpOAuthError && (error.code === "token_missing" || error.code === "unsupported_scheme");
      if (noBearer) {
        for (const [index, other] of this.#alsoAccept.entries()) {
          // A provider that throws, even synchronously, has not accepted the caller.
          const result = await Promise.resolve()
            .then(() => other.authenticate(req))
            .catch(() => false as const);
          if (result) {
            const data = result === true ? {} : (result.data ?? {});
            scope.owner = alsoAcceptedOwner(index, other, data, req);
            return { data };
          }
        }
      }
      scope.refusal = this.resourceServer.answer(error, req);
      return false;
    }
  }

  /** Status and message of this request's refusal (only reached through `frameworkRequestHandler()`). */
  override getAuthError(): { status: number; message: string } {
    const refusal = requestScope.getStore()?.refusal;
    if (refusal === undefined) return { status: 500, message: NOT_BRIDGED };
    return { status: refusal.status, message: refusal.body.error_description };
  }

  /**
   * The RFC 6750 / RFC 9728 challenge of that refusal. The framework passes its own fixed
   * `error` arguments; they are ignored so a request without a token gets no error code.
   */
  override getWWWAuthenticateHeader(): string {
    const refusal = requestScope.getStore()?.refusal;
    return refusal?.headers["WWW-Authenticate"] ?? this.#missing.headers["WWW-Authenticate"]!;
  }

  override getAuthorizationServers(): string[] {
    return [...this.resourceServer.options.authorizationServers];
  }

  override getResource(): string {
    return this.resourceServer.options.resource;
  }
}

/**
 * Token introspection (RFC 7662): the authorization server says whether a token is
 * active and what it carries. Used for opaque tokens, and for JWTs when the resource
 * server must see revocations.
 */
import { checkIntrospection } from "./claims.js";
import type { AuthorizationServerDirectory } from "./discovery.js";
import { McpOAuthError } from "./errors.js";
import type { VerifiedToken } from "./jwt/verifier.js";
import { endpointUrlProblem, type ResolvedOptions } from "./options.js";
import { fetchJson, OutboundError } from "./outbound.js";

export interface IntrospectionObserver {
  called?(): void;
  failed?(endpoint: string, reason: string): void;
}

// RFC 6749 section 2.3.1: client_secret_basic credentials are form-urlencoded first.
const formEncode = (value: string): string => encodeURIComponent(value).replace(/%20/g, "+");

export class IntrospectionVerifier {
  readonly #options: ResolvedOptions;
  readonly #directory: AuthorizationServerDirectory;
  readonly #observer: IntrospectionObserver;
  readonly #fetch: typeof fetch | undefined;
  readonly #authorization: string | undefined;
  /** A discovered endpoint refused by the URL rule, reported once. */
  #reportedBadEndpoint: string | undefined;

  constructor(
    options: ResolvedOptions,
    directory: AuthorizationServerDirectory,
    observer: IntrospectionObserver = {},
    fetchImpl?: typeof fetch,
  ) {
    this.#options = options;
    this.#directory = directory;
    this.#observer = observer;
    this.#fetch = fetchImpl;
    // resolveOptions requires them for introspection; without them this throws a TypeError.
    const { clientId, clientSecret, authMethod } = options.introspection!;
    this.#authorization =
      authMethod === "client_secret_basic"
        ? `Basic ${Buffer.from(`${formEncode(clientId)}:${formEncode(clientSecret)}`).toString("base64")}`
        : undefined;
  }

  /** The endpoint: configured, or `introspection_endpoint` of the first authorization server. */
  async endpoint(): Promise<string> {
    const configured = this.#options.introspection!.endpoint;
    if (configured !== undefined) return configured;
    const issuer = this.#options.authorizationServers[0]!;
    const { metadata } = await this.#directory.discover(issuer);
    if (typeof metadata.introspection_endpoint !== "string") {
      throw new McpOAuthError(
        "upstream_unavailable",
        `authorization server ${issuer} publishes no introspection_endpoint; set introspection.endpoint`,
        { retryAfter: this.#options.retryAfterSeconds },
      );
    }
    const endpoint = metadata.introspection_endpoint;
    // A discovered endpoint gets the rule a configured one gets at start-up: the token and
    // our credentials never go over plain http to a public host.
    const problem = endpointUrlProblem(endpoint, this.#options.allowInsecureHttp);
    if (problem !== undefined) {
      if (this.#reportedBadEndpoint !== endpoint) {
        this.#reportedBadEndpoint = endpoint;
        this.#observer.failed?.(endpoint, `discovered introspection_endpoint refused: ${problem}`);
      }
      throw new McpOAuthError(
        "upstream_unavailable",
        `authorization server ${issuer} publishes an introspection_endpoint that is refused: ${problem}; or set introspection.endpoint`,
        { retryAfter: this.#options.retryAfterSeconds },
      );
    }
    return endpoint;
  }

  async verify(token: string, nowSeconds = Math.floor(Date.now() / 1000)): Promise<VerifiedToken> {
    const endpoint = await this.endpoint();
    const { clientId, clientSecret } = this.#options.introspection!;
    const form = new URLSearchParams({ token, token_type_hint: "access_token" });
    if (this.#authorization === undefined) {
      form.set("client_id", clientId);
      form.set("client_secret", clientSecret);
    }
    const unavailable = (reason: string, cause?: unknown): McpOAuthError => {
      this.#observer.failed?.(endpoint, reason);
      return new McpOAuthError("upstream_unavailable", `introspection failed: ${reason}`, {
        cause,
        retryAfter: this.#options.retryAfterSeconds,
      });
    };

    this.#observer.called?.();
    let answer: unknown;
    try {
      answer = await fetchJson(endpoint, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          ...(this.#authorization ? { authorization: this.#authorization } : {}),
        },
        body: form.toString(),
        timeoutMs: this.#options.timeoutMs,
        maxResponseBytes: this.#options.maxResponseBytes,
        fetch: this.#fetch,
      });
    } catch (error) {
      // A 401 here means our own credentials are wrong: the client's token is not known to be bad.
      throw unavailable(error instanceof OutboundError ? error.reason : "unreachable", error);
    }
    // RFC 7662 section 2.2: a JSON object with a boolean `active`. Of what JSON.parse gives
    // (null, a primitive, an array, an object) only an object can carry one.
    if (typeof (answer as { active?: unknown } | null)?.active !== "boolean") {
      throw unavailable("answer has no boolean active");
    }
    const claims = answer as Record<string, unknown>;
    checkIntrospection(claims, this.#options.tokenRules, nowSeconds);
    return { method: "introspection", claims, expiresAt: claims["exp"] as number };
  }
}

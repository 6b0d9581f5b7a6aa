/**
 * `createFetchProtection()`: `mcpOAuth()` for web-standard servers (`(request: Request) =>
 * Response`: Hono, Next.js route handlers, Bun, Deno). Same rule as the Express middleware:
 * the metadata documents and answered CORS preflights are public; every other request
 * that reaches `handle` is protected, and comes back either as the library's answer (a
 * `Response`: 401, 403, 503, 400, 413, 415, 500) or as a verdict (`authInfo` plus a request
 * whose body is still readable and is exactly the bytes the scope policy judged).
 *
 * Every decision is the core's (the token, the scopes, the Origin rule, what a preflight is,
 * which bodies are read and how, the answers and their headers); this file reads a `Request`
 * and writes `Response`s. Which requests reach `handle` is the host's routing decision:
 * nothing here compares paths except to find the metadata documents.
 */
import {
  McpOAuthConfigError,
  McpOAuthError,
  ResourceServer,
  type AuthInfo,
  type ErrorAnswer,
  type McpOAuthOptions,
  type TokenRequest,
} from "@mcp-oauth/core";
import {
  assertPlainUtf8,
  checkBodyLimit,
  checkCorsOptions,
  corsResponseHeaders,
  DEFAULT_BODY_LIMIT_BYTES,
  DEFAULT_CORS_MAX_AGE_SECONDS,
  DEFAULT_METADATA_CACHE_CONTROL,
  FORM_BODY_LIMIT_BYTES,
  isCorsPreflight,
  isHeaderValue,
  isJsonMediaType,
  METADATA_ALLOW,
  METADATA_MAX_AGE_SECONDS,
  METADATA_METHOD_NOT_ALLOWED,
  originAllowList,
  parseJsonBody,
  readsFormBody,
  SECURITY_HEADERS,
} from "@mcp-oauth/core/internal";
import { readBytes, rebuilt } from "./read-body.js";

export interface FetchCorsOptions {
  /**
   * Origins allowed to call the MCP endpoint, exactly as browsers send them
   * (`https://app.example.com`), or `"*"` for any. Default: only the resource's own origin.
   * Env: `OAUTH_ALLOWED_ORIGINS`.
   */
  allowedOrigins?: readonly string[] | "*";
  /** Seconds browsers may cache a preflight. Default 86400. */
  maxAge?: number;
}

export interface FetchMetadataOptions {
  /** Also serve the document at `/.well-known/oauth-protected-resource`. Default true. */
  serveAtRoot?: boolean;
  /** `Cache-Control` of the document. Default `public, max-age=3600`. */
  cacheControl?: string;
}

export interface FetchProtectionOptions extends McpOAuthOptions {
  /** The metadata documents; `false` to serve them yourself (their paths are then protected like any other). */
  protectedResourceMetadata?: FetchMetadataOptions | false;
  /** CORS and the Origin rule; `false` when something else handles CORS (a preflight is then a request like any other: 401 without a token). */
  cors?: FetchCorsOptions | false;
  /** Largest JSON body read for the scope policy, in bytes. Default 4 MiB (the MCP SDK's limit). */
  bodyLimitBytes?: number;
}

/** A request that may go on: its verdict, and the request to hand to the MCP transport. */
export interface FetchVerdict {
  /** The MCP SDK's `AuthInfo`: pass it on (`transport.handleRequest(request, { authInfo })`). */
  readonly authInfo: AuthInfo;
  /** The request to run: its body, when the scope policy read it, is the very bytes judged, readable again. */
  readonly request: Request;
}

export interface FetchProtection {
  /** The resource server behind it: for `ready()`, `stats()`, or another adapter. */
  readonly resourceServer: ResourceServer;
  /** The library's answer to `request`, or its verdict. Never rejects: a failure is a 500 answer. */
  handle(request: Request): Promise<Response | FetchVerdict>;
  /**
   * The application's `response` to a request `handle` let through (`request`: the verdict's),
   * with what the library adds to it: the CORS headers its Origin gets (none without an
   * allowed Origin, or with `cors: false`) and, with DPoP nonces on, a fresh `DPoP-Nonce` once
   * the client's is past half its life (RFC 9449 section 8.2).
   */
  finish(request: Request, response: Response): Response;
  /**
   * The answer to `request` when it is for a metadata document (what `handle` answers for it),
   * otherwise `undefined`: for a route that serves only the documents (a Next.js
   * `/.well-known/...` route), where anything else is not found rather than protected.
   */
  metadata(request: Request): Response | undefined;
}

// Options of the Express middleware that need Node (express-rate-limit) or chose paths by
// string comparison: refused so that nobody believes they are in force.
const UNSUPPORTED_OPTIONS = ["paths", "sse", "requireScopes"] as const;

function checkMetadataOptions(options: FetchMetadataOptions): void {
  if (Object.hasOwn(options, "rateLimit"))
    throw new McpOAuthConfigError(
      "protectedResourceMetadata.rateLimit",
      "is not supported by @mcp-oauth/fetch; rate-limit the metadata paths in your platform (or in front of it)",
    );
  if (options.serveAtRoot !== undefined && typeof options.serveAtRoot !== "boolean")
    throw new McpOAuthConfigError("protectedResourceMetadata.serveAtRoot", "must be true or false");
  const cacheControl = options.cacheControl;
  if (
    cacheControl !== undefined &&
    (typeof cacheControl !== "string" || cacheControl.trim() === "" || !isHeaderValue(cacheControl))
  )
    throw new McpOAuthConfigError(
      "protectedResourceMetadata.cacheControl",
      'must be a Cache-Control header value, such as "public, max-age=3600" (no line breaks)',
    );
}

function answerResponse(request: Request, answer: ErrorAnswer, cors: Record<string, string>): Response {
  const headers = new Headers(answer.headers);
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) headers.set(name, value);
  for (const [name, value] of Object.entries(cors)) headers.set(name, value);
  return new Response(request.method === "HEAD" ? null : JSON.stringify(answer.body), {
    status: answer.status,
    headers,
  });
}

export function createFetchProtection(options: FetchProtectionOptions): FetchProtection {
  for (const name of UNSUPPORTED_OPTIONS) {
    if (Object.hasOwn(options, name)) {
      throw new McpOAuthConfigError(
        name,
        name === "requireScopes"
          ? "is an option of the Express middleware; here the scope policy is scopePolicy and the body limit bodyLimitBytes"
          : "is not supported: the protection covers every request that reaches it except the metadata documents; route public paths before it",
      );
    }
  }
  if (options.cors !== false) checkCorsOptions(options.cors ?? {});
  if (options.protectedResourceMetadata !== false) checkMetadataOptions(options.protectedResourceMetadata ?? {});
  checkBodyLimit(options.bodyLimitBytes, "bodyLimitBytes");
  const server = new ResourceServer(options);

  const metadata = options.protectedResourceMetadata === false ? undefined : (options.protectedResourceMetadata ?? {});
  const metadataPaths = new Set(
    metadata === undefined
      ? []
      : metadata.serveAtRoot === false
        ? server.metadataPaths.slice(0, 1)
        : server.metadataPaths,
  );
  const metadataCacheControl = metadata?.cacheControl ?? DEFAULT_METADATA_CACHE_CONTROL;
  const cors = options.cors === false ? undefined : (options.cors ?? {});
  const isAllowed = originAllowList(server.options.resourceUrl.origin, cors?.allowedOrigins);
  const maxAge = cors?.maxAge ?? DEFAULT_CORS_MAX_AGE_SECONDS;
  const bodyLimit = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  const baseScopes = server.options.requiredScopes;
  const internalError = server.answer(new McpOAuthError("internal_error", "internal error"));
  /** What the core adds to the answer of a request it accepted (`successHeaders`), by the request let through. */
  const successHeaders = new WeakMap<Request, Readonly<Record<string, string>>>();

  /** CORS headers for an answer or the application's response: an allowed, present Origin only. */
  const corsFor = (request: Request, preflight: boolean): Record<string, string> => {
    if (cors === undefined) return {};
    const origin = request.headers.get("origin");
    return origin !== null && isAllowed(origin) ? corsResponseHeaders(origin, preflight, maxAge) : {};
  };

  /** The metadata document (RFC 9728), or its 204 to any OPTIONS, or 405: public, any origin. */
  function metadataAnswer(request: Request): Response {
    const headers = new Headers(SECURITY_HEADERS);
    headers.set("Allow", METADATA_ALLOW);
    headers.set("Access-Control-Allow-Origin", "*");
    const method = request.method;
    if (method === "GET" || method === "HEAD") {
      headers.set("Content-Type", "application/json");
      headers.set("Cache-Control", metadataCacheControl);
      return new Response(method === "HEAD" ? null : server.metadataJson, { status: 200, headers });
    }
    if (method === "OPTIONS") {
      // Any headers the client asks for: the document is public and read without credentials.
      headers.set("Access-Control-Allow-Methods", METADATA_ALLOW);
      const requested = request.headers.get("access-control-request-headers");
      if (requested !== null && requested !== "") headers.set("Access-Control-Allow-Headers", requested);
      headers.set("Vary", "Access-Control-Request-Headers");
      headers.set("Access-Control-Max-Age", String(METADATA_MAX_AGE_SECONDS));
      return new Response(null, { status: 204, headers });
    }
    headers.set("Content-Type", "application/json");
    headers.set("Cache-Control", "no-store");
    return new Response(JSON.stringify(METADATA_METHOD_NOT_ALLOWED), { status: 405, headers });
  }

  async function protect(request: Request, url: URL): Promise<Response | FetchVerdict> {
    const headers = request.headers;
    if (cors !== undefined) {
      const origin = headers.get("origin");
      // The Origin rule (DNS rebinding): a present, disallowed Origin is refused, preflight or not.
      if (origin !== null && !isAllowed(origin))
        return answerResponse(
          request,
          server.answer(new McpOAuthError("origin_not_allowed", "Origin not in the allow-list")),
          {},
        );
      // Answered here, never passed on: browsers send preflights without credentials.
      if (isCorsPreflight(request.method, origin, headers.get("access-control-request-method"))) {
        const answer = new Headers(SECURITY_HEADERS);
        for (const [name, value] of Object.entries(corsFor(request, true))) answer.set(name, value);
        return new Response(null, { status: 204, headers: answer });
      }
    }
    const corsHeaders = corsFor(request, false);
    const authorization = headers.get("authorization") ?? undefined;
    const contentType = headers.get("content-type") ?? undefined;
    // What the core judges: the Authorization and DPoP headers (`Headers` joins repeated ones
    // with ", ", which the proof check refuses as several proofs), the method and the target.
    const tokenRequest: TokenRequest = {
      headers: { authorization, "content-type": contentType, dpop: headers.get("dpop") ?? undefined },
      url: url.pathname + url.search,
      method: request.method,
    };
    const refuse = (error: unknown): Response =>
      answerResponse(request, server.answer(error, tokenRequest), corsHeaders);

    // The token (and the base scopes): refusals are the table's, an unforeseen failure 503.
    let current = request;
    let authInfo: AuthInfo;
    try {
      if (readsFormBody(authorization, contentType) && request.body !== null) {
        // Read (bounded) only to refuse a token in it (RFC 6750 section 2.2); handed on as read.
        const bytes = await readBytes(request, FORM_BODY_LIMIT_BYTES);
        tokenRequest.body = Object.fromEntries(new URLSearchParams(new TextDecoder().decode(bytes)));
        current = rebuilt(request, bytes);
      }
      const checked = server.check(tokenRequest);
      authInfo = checked instanceof Promise ? await checked : checked;
      server.checkScopes(authInfo, baseScopes);
    } catch (error) {
      return refuse(error);
    }

    // The scope policy over the JSON-RPC body (POST: the only method whose body a transport runs).
    if (server.needsBody && current.method === "POST" && current.body !== null) {
      try {
        const contentType = current.headers.get("content-type");
        // No JSON media type: no MCP message; the transport refuses it (415) itself.
        if (isJsonMediaType(contentType ?? undefined)) {
          assertPlainUtf8(contentType ?? undefined, current.headers.get("content-encoding") ?? undefined);
          const bytes = await readBytes(current, bodyLimit);
          const body = bytes.byteLength === 0 ? undefined : parseJsonBody(bytes);
          server.checkScopes(authInfo, server.requiredScopesFor(body));
          current = rebuilt(current, bytes);
        }
      } catch (error) {
        // A refusal is the table's; anything else (a throwing policy hook, a bug) is 500.
        return error instanceof McpOAuthError ? refuse(error) : answerResponse(request, internalError, corsHeaders);
      }
    }
    const extra = server.successHeaders(authInfo);
    if (extra !== undefined) successHeaders.set(current, extra);
    return { authInfo, request: current };
  }

  return {
    resourceServer: server,
    async handle(request: Request): Promise<Response | FetchVerdict> {
      try {
        const url = new URL(request.url);
        if (metadataPaths.has(url.pathname)) return metadataAnswer(request);
        return await protect(request, url);
      } catch {
        return answerResponse(request, internalError, {});
      }
    },
    metadata(request: Request): Response | undefined {
      let pathname: string;
      try {
        pathname = new URL(request.url).pathname;
      } catch {
        return undefined;
      }
      return metadataPaths.has(pathname) ? metadataAnswer(request) : undefined;
    },
    finish(request: Request, response: Response): Response {
      const headers = { ...corsFor(request, false), ...successHeaders.get(request) };
      const names = Object.keys(headers);
      if (names.length === 0) return response;
      let target = response;
      try {
        for (const name of names) target.headers.set(name, headers[name]!);
      } catch {
        // Headers of a Response from fetch() are immutable: copy it (the body is streamed on, not read).
        target = new Response(response.body, response);
        for (const name of names) target.headers.set(name, headers[name]!);
      }
      return target;
    },
  };
}

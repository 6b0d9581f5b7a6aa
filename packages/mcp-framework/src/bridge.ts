/**
 * The bridge: the library's `node:http` middlewares from @mcp-oauth/express run first on
 * every request that reaches an mcp-framework transport, and the framework's own listener
 * runs only for requests they let through. So the framework's transports answer exactly as
 * the Express side does (docs/mcp-framework.md, docs/architecture.md).
 *
 * Protection rule: every request is protected except the metadata document paths and CORS
 * preflights, both answered here and never forwarded. No MCP path is matched here: a path
 * matcher that disagrees with the framework's router (`/MCP`, `/mcp/`, absolute-form
 * targets, `%6Dcp`, dot segments) would be an authentication bypass.
 *
 * Order, per request: metadata document; Origin rule and CORS (oauthCors); bearer token
 * (requireBearer), or one of `alsoAccept` when there is no bearer token at all; the body,
 * read once after authentication (so a malformed body without a token is a 401) and handed
 * to the HTTP Stream transport already parsed (replayed to the SSE transport); scopes for
 * the JSON-RPC method and tool (requireScopes); session binding; then the framework, past
 * one gate: no verdict (bearer token or alsoAccept result), no forwarding. Whatever throws
 * on the way, the framework's listener included, is answered (500 at worst), never a crash.
 */
import { randomUUID } from "node:crypto";
import { IncomingMessage, type ServerResponse } from "node:http";
import getRawBody from "raw-body";
import {
  oauthCors,
  protectedResourceMetadata,
  requireBearer,
  requireScopes,
  sendFailure,
  verdictOf,
  type Middleware,
  type OAuthCorsOptions,
  type ProtectedResourceMetadataOptions,
} from "@mcp-oauth/express";
import { McpOAuthConfigError, McpOAuthError, type AuthInfo, type ResourceServer } from "@mcp-oauth/core";
import { assertPlainUtf8, parseJsonBody, readAccessToken, readBearerToken } from "@mcp-oauth/core/internal";
import type { FrameworkTransport, RequestListener } from "./framework-internals.js";
import { takeAllowedOrigins } from "./framework-internals.js";
import { bridged, contextOf } from "./verdicts.js";
import { alsoAcceptedOwner, callerScope, ownerOfCall, tokenOwner, type CallerScope } from "./owners.js";
import { trackSessions, type SessionLimits, type SessionRegistry } from "./sessions.js";

/** The framework's provider interface, for `alsoAccept`. */
export interface FrameworkAuthProvider {
  authenticate(req: IncomingMessage): Promise<boolean | { data?: Record<string, unknown> }>;
}

export interface BridgeOptions {
  cors?: Omit<OAuthCorsOptions, "server">;
  protectedResourceMetadata?: ProtectedResourceMetadataOptions;
  alsoAccept: readonly FrameworkAuthProvider[];
  sessions: SessionLimits;
}

/** The framework's and the MCP SDK's message size limit. */
const DEFAULT_BODY_LIMIT = 4 * 1024 * 1024;

type AuthenticatedRequest = IncomingMessage & { auth?: AuthInfo; body?: unknown };

/** Who a session belongs to (owners.ts): the token's issuer and subject, or the alsoAccept credential. */
function ownerOf(req: AuthenticatedRequest, acceptedOwner: string | undefined): string {
  return acceptedOwner ?? tokenOwner(req.auth!);
}

/** No access token under a scheme OAuth accepts (Bearer, and DPoP when `dpop` is on). */
function hasNoBearer(req: IncomingMessage, maxTokenLength: number, dpop: boolean): boolean {
  try {
    if (dpop) readAccessToken(req, maxTokenLength, true);
    else readBearerToken(req, maxTokenLength);
    return false;
  } catch (error) {
    return error instanceof McpOAuthError && (error.code === "token_missing" || error.code === "unsupported_scheme");
  }
}

/** The session an HTTP Stream request names (header) and an SSE message names (query). */
function sessionIdsOf(req: IncomingMessage): { header: string | undefined; query: string | undefined } {
  const header = req.headers["mcp-session-id"];
  let query: string | null = null;
  const url = req.url ?? "/";
  // Any query: parameter names are percent-decoded (`session%49d`), so no substring test.
  if (url.includes("?")) {
    try {
      // Parsed as the framework's SSE transport parses it.
      query = new URL(url, "http://localhost").searchParams.get("sessionId");
    } catch {
      // An unparseable URL reaches the framework unchanged; it answers it itself.
    }
  }
  return { header: typeof header === "string" ? header : undefined, query: query ?? undefined };
}

/**
 * Replaces the session id a request names with one nobody holds, so the framework gives
 * exactly its own "session not found" answer: a session opened by another subject is
 * indistinguishable from an unknown one.
 */
function forgetSession(req: IncomingMessage, where: "header" | "query"): void {
  const unknown = randomUUID();
  if (where === "header") {
    req.headers["mcp-session-id"] = unknown;
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      if (req.rawHeaders[i]!.toLowerCase() === "mcp-session-id") req.rawHeaders[i + 1] = unknown;
    }
    return;
  }
  const original = req.url ?? "/";
  const absolute = !original.startsWith("/");
  const url = new URL(original, "http://localhost");
  url.searchParams.set("sessionId", unknown);
  req.url = absolute ? url.href : `${url.pathname}${url.search}`;
}

/** The SSE transport's first event names the session's message URL (MCP 2024-11-05 HTTP+SSE). */
function sseSessionId(chunk: unknown): string | undefined {
  const text = typeof chunk === "string" ? chunk : Buffer.isBuffer(chunk) ? chunk.toString("utf8") : undefined;
  const match = text === undefined ? null : /^event: endpoint\r?\ndata: ([^\r\n]*)/m.exec(text);
  if (!match) return undefined;
  try {
    return new URL(match[1]!, "http://localhost").searchParams.get("sessionId") ?? undefined;
  } catch {
    return undefined;
  }
}

/**
 * A fresh request object carrying `body` (the judged message, serialized), for the SSE
 * transport: the MCP SDK's handler behind it reads the body from the stream itself. Its
 * framing headers describe that body (`Content-Length`, no `Transfer-Encoding`).
 */
function replay(req: AuthenticatedRequest, body: Buffer): IncomingMessage {
  const copy = new IncomingMessage(req.socket) as AuthenticatedRequest;
  // The original request owns the socket: the copy never reads from it or destroys it.
  copy._read = () => {};
  copy._destroy = (error, callback) => callback(error);
  const headers = { ...req.headers, "content-length": String(body.length) };
  delete headers["transfer-encoding"];
  copy.headers = headers;
  copy.rawHeaders = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!.toLowerCase();
    if (name !== "content-length" && name !== "transfer-encoding")
      copy.rawHeaders.push(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
  }
  copy.rawHeaders.push("Content-Length", String(body.length));
  copy.trailers = req.trailers;
  copy.rawTrailers = req.rawTrailers;
  copy.method = req.method;
  copy.url = req.url;
  copy.httpVersion = req.httpVersion;
  copy.httpVersionMajor = req.httpVersionMajor;
  copy.httpVersionMinor = req.httpVersionMinor;
  copy.complete = true;
  copy.auth = req.auth;
  if (body.length > 0) copy.push(body);
  copy.push(null);
  return copy;
}

/**
 * The largest body the bridge reads, in bytes. HTTP Stream's `maxMessageSize` is enforced
 * here alone (the transport is handed the body): a number of bytes, 0 included. SSE's is the
 * MCP SDK's to enforce (a size string such as "4mb"); the bridge reads up to the default.
 */
function bodyLimitOf(transport: FrameworkTransport): number {
  const configured = transport.config.maxMessageSize;
  if (transport.type === "http-stream" && configured !== undefined) {
    if (typeof configured !== "number" || !(configured >= 0))
      throw new McpOAuthConfigError(
        "maxMessageSize",
        `must be a number of bytes, 0 or more (got ${JSON.stringify(configured)}); leave it out for the framework's 4 MiB`,
      );
    return configured;
  }
  return typeof configured === "number" && configured > 0 ? configured : DEFAULT_BODY_LIMIT;
}

/** One middleware, then `done`; Connect semantics: only a truthy value is an error (cors calls `next(null)`). */
function run(
  middleware: Middleware,
  req: IncomingMessage,
  res: ServerResponse,
  done: () => void,
  fail: (error: unknown) => void,
): void {
  middleware(req, res, (error?: unknown) => {
    if (error !== undefined && error !== null) fail(error);
    else done();
  });
}

export function createBridge(
  server: ResourceServer,
  options: BridgeOptions,
): (transport: FrameworkTransport) => (listener: RequestListener) => RequestListener {
  const metadata = protectedResourceMetadata(server, options.protectedResourceMetadata);
  const bearer = requireBearer(server);
  const scopes = requireScopes(server, {});
  const maxTokenLength = server.options.tokenRules.maxTokenLength;
  const dpop = server.options.dpop.mode !== "off";

  return (transport) => {
    const endpoints = transport.config.auth?.endpoints ?? {};
    for (const [name, value] of Object.entries(endpoints)) {
      if (value === false) {
        throw new McpOAuthConfigError(
          `auth.endpoints.${name}`,
          "OAuthAuthProvider protects every request of the transport " +
            "(the metadata document and CORS preflights excepted), so an endpoint cannot be left open; remove auth.endpoints or set it to true",
        );
      }
    }
    const frameworkOrigins = takeAllowedOrigins(transport.config);
    const ownOrigins = options.cors?.allowedOrigins;
    const allowedOrigins =
      ownOrigins === "*" || frameworkOrigins.includes("*") ? "*" : [...(ownOrigins ?? []), ...frameworkOrigins];
    const frameworkMaxAge = Number(transport.config.cors?.maxAge);
    const maxAge = options.cors?.maxAge ?? (Number.isFinite(frameworkMaxAge) ? frameworkMaxAge : undefined);
    const cors = oauthCors(server, { allowedOrigins, ...(maxAge !== undefined ? { maxAge } : {}) });
    const bodyLimit = bodyLimitOf(transport);
    // Who owns each session, how many each owner holds, which are idle (sessions.ts); on
    // HTTP Stream also each message in its own session only (session-router.ts).
    const sessions = trackSessions(transport, options.sessions);
    transport.scopeTasks?.(ownerOfCall);
    // Each call's own SDK server, progress token and abort signal on the shared tool objects.
    transport.isolateTools?.(() => callerScope.getStore());

    return (frameworkListener) => {
      const listener = answeringFailures(server, frameworkListener);
      return function mcpOAuthBridge(req: IncomingMessage, res: ServerResponse): void {
        const request = req as AuthenticatedRequest;
        // Every failure, thrown or passed, is answered: the table's answer or 500, never a crash.
        const fail = (error: unknown): void => sendFailure(server, req, res, error);
        let acceptedOwner: string | undefined;
        let acceptedData: Record<string, unknown> | undefined;

        const forward = (target: IncomingMessage): void => {
          const owner = ownerOf(request, acceptedOwner);
          const { header, query } = sessionIdsOf(target);
          for (const [where, id] of [
            ["header", header],
            ["query", query],
          ] as const) {
            if (id === undefined) continue;
            if (sessions.ownerOf(id) !== owner) forgetSession(target, where);
            // In use until this response ends (an event stream: until it closes).
            else res.once("close", sessions.begin(id, { awaitsAnswer: target.method === "POST" }));
          }
          guardResponse(res, target.method ?? "GET", owner, sessions);
          bridged.set(target, acceptedData ?? contextOf(request.auth!));
          const scope: CallerScope = { owner };
          res.once("close", () => scope.onResponseEnd?.());
          callerScope.run(scope, () => listener(target, res));
        };

        // The gate: the framework gets no request without a verdict (a bearer token
        // requireBearer accepted, or an alsoAccept result), whatever a part above did.
        const admit = (target: IncomingMessage): void => {
          if (acceptedOwner === undefined && verdictOf(request) === undefined)
            fail(new McpOAuthError("internal_error", "no verdict before forwarding"));
          else forward(target);
        };

        // The transport runs the message the policy judged: handed over parsed (HTTP Stream),
        // or replayed as its UTF-8 JSON serialization (SSE, whose reader decodes the bytes again).
        const afterScopes = (raw: Buffer | undefined): void => {
          if (raw === undefined) admit(req);
          else if (transport.handOverBody === undefined)
            admit(replay(request, raw.length > 0 ? Buffer.from(JSON.stringify(request.body)) : raw));
          else {
            // What the transport's own reading gives for an empty body: null.
            transport.handOverBody(req, raw.length > 0 ? request.body : null);
            admit(req);
          }
        };

        // alsoAccept callers have no scopes: the scope policy is OAuth's (on every method).
        const checkScopes = (then: () => void): void => {
          if (acceptedOwner !== undefined) then();
          else run(scopes, req, res, then, fail);
        };

        const readBody = (): void => {
          if (req.method !== "POST") {
            checkScopes(() => afterScopes(undefined));
            return;
          }
          if (request.body !== undefined) {
            // requireBearer read a form body (to refuse a token in it); MCP messages are JSON.
            fail(new McpOAuthError("body_invalid", "form body on an MCP endpoint"));
            return;
          }
          try {
            // Before anything is decided: the transport must read the bytes we judge.
            assertPlainUtf8(req.headers["content-type"], req.headers["content-encoding"]);
          } catch (error) {
            fail(error);
            return;
          }
          getRawBody(req, { limit: bodyLimit })
            .then(
              (raw) => {
                if (raw.length > 0) {
                  try {
                    request.body = parseJsonBody(raw);
                  } catch (error) {
                    fail(error);
                    return;
                  }
                }
                checkScopes(() => afterScopes(raw));
              },
              (error: unknown) => {
                const type = (error as { type?: unknown }).type;
                fail(
                  new McpOAuthError(
                    type === "entity.too.large" ? "body_too_large" : "body_invalid",
                    "body could not be read",
                    { cause: error },
                  ),
                );
              },
            )
            .catch(fail);
        };

        const authenticate = (): void => {
          if (options.alsoAccept.length > 0 && hasNoBearer(req, maxTokenLength, dpop)) {
            tryOthers(0).catch(fail);
            return;
          }
          run(bearer, req, res, readBody, fail);
        };

        // A request without any bearer token may pass another configured scheme; one that
        // carries a bearer token is decided by OAuth alone. A provider that throws or
        // rejects has not accepted the caller; one that answers without a promise is awaited
        // as the framework would.
        const tryOthers = async (index: number): Promise<void> => {
          for (let i = index; i < options.alsoAccept.length; i++) {
            const provider = options.alsoAccept[i]!;
            const result = await Promise.resolve()
              .then(() => provider.authenticate(req))
              .catch(() => false as const);
            if (result) {
              acceptedData = result === true ? {} : (result.data ?? {});
              acceptedOwner = alsoAcceptedOwner(i, provider, acceptedData, req);
              readBody();
              return;
            }
          }
          run(bearer, req, res, readBody, fail);
        };

        try {
          run(metadata, req, res, () => run(cors, req, res, authenticate, fail), fail);
        } catch (error) {
          fail(error);
        }
      };
    };
  };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

/**
 * The framework's listener, made to answer what it throws or rejects with (500, or the
 * connection closed once headers are out): its own catch writes a second status line when
 * headers were sent (mcp-framework 0.2.22's SSE transport), which rejects its promise.
 */
function answeringFailures(server: ResourceServer, listener: RequestListener): RequestListener {
  return (req, res) => {
    try {
      const result: unknown = listener(req, res);
      if (isThenable(result)) result.then(undefined, (error: unknown) => sendFailure(server, req, res, error));
    } catch (error) {
      sendFailure(server, req, res, error);
    }
  };
}

/**
 * Per response: the framework's own CORS headers are dropped (oauthCors already set the
 * right ones; the framework would overwrite them with its fixed `allowOrigin`), and an SSE
 * session the response opens is bound to the caller (HTTP Stream sessions are bound when
 * the framework registers them: sessions.ts).
 */
function guardResponse(res: ServerResponse, method: string, owner: string, sessions: SessionRegistry): void {
  const setHeader = res.setHeader;
  res.setHeader = function setHeaderGuarded(name, value) {
    if (name.toLowerCase().startsWith("access-control-")) return this;
    return setHeader.call(this, name, value);
  };
  const writeHead = res.writeHead as (...args: unknown[]) => ServerResponse;
  res.writeHead = function writeHeadGuarded(this: ServerResponse, ...args: unknown[]) {
    const headers = typeof args[1] === "string" ? args[2] : args[1];
    if (headers !== null && typeof headers === "object" && !Array.isArray(headers)) {
      for (const name of Object.keys(headers))
        if (name.toLowerCase().startsWith("access-control-")) delete (headers as Record<string, unknown>)[name];
    }
    return writeHead.apply(this, args);
  } as typeof res.writeHead;
  const write = res.write as (...args: unknown[]) => boolean;
  res.write = function writeGuarded(this: ServerResponse, ...args: unknown[]) {
    // Only the first chunk of an event stream can be the SSE transport's endpoint event.
    res.write = write as typeof res.write;
    const sseSession = method === "GET" && res.statusCode === 200 ? sseSessionId(args[0]) : undefined;
    if (sseSession !== undefined && sessions.ownerOf(sseSession) === undefined) {
      // The SSE transport ends the session with its stream; so does the binding.
      const end = sessions.bind(sseSession, owner, { awaitsAnswer: false });
      res.once("close", () => {
        end();
        sessions.release(sseSession);
      });
    }
    return write.apply(this, args);
  } as typeof res.write;
}

/**
 * Who is calling. A session belongs to its owner (`tokenOwner`, `alsoAcceptedOwner`), and so
 * does a task. The owner of the request being handled is kept in an async context that the
 * bridge enters for each request it lets through (and the session router for each message
 * it hands the framework's server), so code run for that request (the framework's handlers,
 * the tool, the task store) knows whose it is.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { createHash, randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { AuthInfo, AuthInfoExtra } from "@mcp-oauth/core";
import type { FrameworkAuthProvider } from "./bridge.js";
import type { RoutedSession } from "./session-router.js";
import { requestScope } from "./verdicts.js";

export interface CallerScope {
  /** The caller's owner key; undefined where the bridge did not see the request. */
  owner: string | undefined;
  /** HTTP Stream: the session whose message is being handled. */
  session?: RoutedSession;
  /**
   * Bridge requests: called when the request's response ends (a session it opens is in use
   * until then). Set by whoever needs it; the store never holds the request or response
   * themselves: the MCP SDK keeps promises made in a request's context (and so its store)
   * for as long as the session lives.
   */
  onResponseEnd?: () => void;
}

export const callerScope = new AsyncLocalStorage<CallerScope>();

/** The owner of the request being handled, if any (behind the bridge, or through `frameworkRequestHandler()`). */
export const ownerOfCall = (): string | undefined => callerScope.getStore()?.owner ?? requestScope.getStore()?.owner;

/**
 * The owner of a bearer token's caller: its issuer and subject, or its issuer and client
 * when it has no subject. With several trusted authorization servers the same `sub` names
 * different users, so the issuer is part of it; as a JSON array, no two distinct pairs give
 * the same key (a subject is never read as a client id).
 */
export function tokenOwner(auth: AuthInfo): string {
  const extra = (auth.extra ?? {}) as Partial<AuthInfoExtra>;
  const issuer = extra.iss ?? "";
  return JSON.stringify(extra.sub !== undefined ? ["sub", issuer, extra.sub] : ["client", issuer, auth.clientId]);
}

/** Where a credential can travel without a bearer token; `getHeaderName()` (APIKeyAuthProvider) adds its own. */
const CREDENTIAL_HEADERS = ["authorization", "proxy-authorization", "cookie", "x-api-key"];
/** APIKeyAuthProvider's fallback for event streams, which cannot send headers. */
const CREDENTIAL_QUERY_PARAMETERS = ["api_key", "apiKey"];

const sha256 = (text: string): string => createHash("sha256").update(text).digest("base64url");

/** `data` as JSON with sorted keys; undefined when empty or not JSON (a cycle, a BigInt). */
function canonicalData(data: Record<string, unknown> | undefined): string | undefined {
  if (data === undefined || Object.keys(data).length === 0) return undefined;
  try {
    return JSON.stringify(data, (_key, value: unknown) =>
      value !== null && typeof value === "object" && !Array.isArray(value)
        ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
        : value,
    );
  } catch {
    return undefined;
  }
}

/** The credential the request carries (every place one can be), as JSON; undefined when there is none. */
function credentialOf(req: IncomingMessage, provider: FrameworkAuthProvider): string | undefined {
  const named = (provider as { getHeaderName?: () => unknown }).getHeaderName?.();
  const headers = typeof named === "string" ? [...CREDENTIAL_HEADERS, named.toLowerCase()] : CREDENTIAL_HEADERS;
  const found: Array<[string, string | string[]]> = [];
  for (const name of new Set(headers)) {
    const value = req.headers[name];
    if (value !== undefined) found.push([name, value]);
  }
  if ((req.url ?? "").includes("?")) {
    try {
      const query = new URL(req.url!, "http://localhost").searchParams;
      for (const name of CREDENTIAL_QUERY_PARAMETERS) {
        const values = query.getAll(name);
        if (values.length > 0) found.push([`?${name}`, values]);
      }
    } catch {
      // An unparseable target carries no query credential.
    }
  }
  return found.length === 0 ? undefined : JSON.stringify(found);
}

let warnedUnidentified = false;

/**
 * The owner of a caller accepted by `alsoAccept[index]`: that provider, what it returned in
 * `data` and the credential the request carried (headers that can carry one, and the API key
 * query parameters), hashed (SHA-256): the credential itself is never kept. Two credentials
 * never share sessions, even when the provider returns the same `data` for both (or none,
 * as `APIKeyAuthProvider` does); `data` alone identifies a caller whose credential travels
 * elsewhere. A caller identified by neither gets an owner of its own per request: its
 * sessions are usable by nobody after it, rather than by everybody.
 */
export function alsoAcceptedOwner(
  index: number,
  provider: FrameworkAuthProvider,
  data: Record<string, unknown> | undefined,
  req: IncomingMessage,
): string {
  const identity = canonicalData(data);
  const credential = credentialOf(req, provider);
  if (identity === undefined && credential === undefined) {
    if (!warnedUnidentified) {
      warnedUnidentified = true;
      process.emitWarning(
        `alsoAccept[${index}] accepted a request that carries no credential the bridge can see (Authorization, Cookie, X-API-Key, ` +
          "the provider's getHeaderName(), ?api_key) and returned no identity in `data`: its sessions cannot be bound to it, " +
          "so each is usable by nobody else and by no later request. Return the caller's identity in `data`.",
        "McpOAuthWarning",
      );
    }
    return JSON.stringify(["also-accept", index, "unidentified", randomUUID()]);
  }
  return JSON.stringify([
    "also-accept",
    index,
    identity === undefined ? "" : sha256(identity),
    credential === undefined ? "" : sha256(credential),
  ]);
}

/**
 * The sessions the bridge lets through, per transport: who owns each (owners.ts), how many
 * each owner holds, and how long each has been idle. mcp-framework keeps a session until its
 * client sends DELETE (HTTP Stream) or drops the event stream (SSE), so one valid token
 * opening sessions in a loop grew the process without end. Here:
 * - an owner holds at most `maxPerOwner` sessions: opening one more closes the owner's least
 *   recently used one (the owner's own; nobody else's is touched, and the opener is never
 *   refused, so a client that lost track of its sessions is not locked out). It stops being
 *   the owner's at once, and closes once it owes no answer (the MCP SDK drops the answers of
 *   a session it closes);
 * - a session with no request in flight for `idleTimeoutMs` is closed. A request is in flight
 *   until its response ends, so an open event stream (HTTP Stream's GET, an SSE connection)
 *   keeps its session; an SSE session ends with its stream anyway.
 * Closing goes through the framework (`closeSession`), which then forgets the session and its
 * MCP SDK transport as on DELETE. All of it is a few map operations per request, whatever the
 * number of sessions; the owner's sessions are kept in use order (a Map re-inserted on use).
 */
import { McpOAuthConfigError } from "@mcp-oauth/core";
import type { FrameworkTransport } from "./framework-internals.js";
import { callerScope } from "./owners.js";
import { SessionIsolation } from "./session-router.js";

export interface SessionLimits {
  /** Sessions one owner may hold; one more closes their least recently used. `Infinity`: no bound. */
  maxPerOwner: number;
  /** A session with no request in flight this long is closed. `Infinity`: never. */
  idleTimeoutMs: number;
}

/** Defaults: generous for one user's clients, small against a flood from one token. */
export const DEFAULT_SESSION_LIMITS: Readonly<SessionLimits> = Object.freeze({
  maxPerOwner: 20,
  idleTimeoutMs: 30 * 60 * 1000,
});

/** The largest delay Node's timers take (a larger one fires at once). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** `options` over the defaults; throws `McpOAuthConfigError` naming the option that is wrong. */
export function sessionLimits(options: Partial<SessionLimits> = {}): SessionLimits {
  const limits = {
    maxPerOwner: options.maxPerOwner ?? DEFAULT_SESSION_LIMITS.maxPerOwner,
    idleTimeoutMs: options.idleTimeoutMs ?? DEFAULT_SESSION_LIMITS.idleTimeoutMs,
  };
  const { maxPerOwner, idleTimeoutMs } = limits;
  if (maxPerOwner !== Infinity && !(Number.isInteger(maxPerOwner) && maxPerOwner >= 1))
    throw new McpOAuthConfigError(
      "sessions.maxPerOwner",
      `must be a whole number of sessions, 1 or more, or Infinity (got ${String(maxPerOwner)})`,
    );
  if (
    idleTimeoutMs !== Infinity &&
    !(Number.isInteger(idleTimeoutMs) && idleTimeoutMs >= 1 && idleTimeoutMs <= MAX_TIMER_MS)
  )
    throw new McpOAuthConfigError(
      "sessions.idleTimeoutMs",
      `must be a whole number of milliseconds from 1 to ${MAX_TIMER_MS}, or Infinity (got ${String(idleTimeoutMs)})`,
    );
  return limits;
}

/** A request of a session: `awaitsAnswer` when closing the session would lose its answer (a POST). */
export interface SessionRequest {
  awaitsAnswer: boolean;
}

interface SessionEntry {
  readonly owner: string;
  /** Requests of this session whose response has not ended. */
  inFlight: number;
  /** Of which, requests waiting for an answer from the session (POST). */
  awaiting: number;
  idleTimer: NodeJS.Timeout | undefined;
  /** No longer its owner's (past the bound, or idle): closes once `awaiting` is 0. */
  evicted: boolean;
  closed: boolean;
}

export class SessionRegistry {
  readonly #limits: SessionLimits;
  readonly #close: (sessionId: string) => Promise<void>;
  readonly #sessions = new Map<string, SessionEntry>();
  /** Each owner's sessions, least recently used first. */
  readonly #byOwner = new Map<string, Map<string, SessionEntry>>();

  constructor(limits: SessionLimits, close: (sessionId: string) => Promise<void>) {
    this.#limits = limits;
    this.#close = close;
  }

  /** Open sessions (for tests and the bench). */
  get size(): number {
    return this.#sessions.size;
  }

  /** How many owners hold at least one session. */
  get owners(): number {
    return this.#byOwner.size;
  }

  ownerOf(sessionId: string): string | undefined {
    return this.#sessions.get(sessionId)?.owner;
  }

  /**
   * A session the framework just opened for `owner`, by `request`, which is still being
   * answered (HTTP Stream: the `initialize`; SSE: the event stream, which is the session): it
   * ends with the returned function, and the session is idle from then on. Past `maxPerOwner`, the owner's least
   * recently used session stops being theirs at once (a later request in it gets "session not
   * found") and is closed as soon as no request of it waits for an answer: closing a session
   * of the MCP SDK drops the answers it owes (a JSON answer would never come).
   */
  bind(sessionId: string, owner: string, request: SessionRequest): () => void {
    if (this.#sessions.has(sessionId)) return () => {};
    const entry: SessionEntry = {
      owner,
      inFlight: 0,
      awaiting: 0,
      idleTimer: undefined,
      evicted: false,
      closed: false,
    };
    this.#sessions.set(sessionId, entry);
    let own = this.#byOwner.get(owner);
    if (own === undefined) this.#byOwner.set(owner, (own = new Map()));
    own.set(sessionId, entry);
    const end = this.#start(sessionId, entry, request);
    while (own.size > this.#limits.maxPerOwner) {
      const [oldest] = own.keys();
      this.#evict(oldest!);
    }
    return end;
  }

  /** A request of the session starts; the returned function ends it (call it when its response ends). */
  begin(sessionId: string, request: SessionRequest): () => void {
    const entry = this.#sessions.get(sessionId);
    if (entry === undefined) return () => {};
    if (entry.idleTimer !== undefined) {
      clearTimeout(entry.idleTimer);
      entry.idleTimer = undefined;
    }
    // Most recently used: last in its owner's order.
    const own = this.#byOwner.get(entry.owner)!;
    own.delete(sessionId);
    own.set(sessionId, entry);
    return this.#start(sessionId, entry, request);
  }

  /** The framework no longer has the session (closed, deleted, stream ended). */
  release(sessionId: string): void {
    const entry = this.#sessions.get(sessionId);
    if (entry === undefined) return;
    if (entry.idleTimer !== undefined) clearTimeout(entry.idleTimer);
    this.#sessions.delete(sessionId);
    const own = this.#byOwner.get(entry.owner)!;
    own.delete(sessionId);
    if (own.size === 0) this.#byOwner.delete(entry.owner);
  }

  #start(sessionId: string, entry: SessionEntry, request: SessionRequest): () => void {
    entry.inFlight++;
    if (request.awaitsAnswer) entry.awaiting++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      entry.inFlight--;
      if (request.awaitsAnswer) entry.awaiting--;
      if (entry.evicted) {
        if (entry.awaiting === 0) this.#shut(sessionId, entry);
      } else if (entry.inFlight === 0 && this.#sessions.get(sessionId) === entry) this.#idle(sessionId, entry);
    };
  }

  #idle(sessionId: string, entry: SessionEntry): void {
    if (this.#limits.idleTimeoutMs === Infinity) return;
    entry.idleTimer = setTimeout(() => this.#evict(sessionId), this.#limits.idleTimeoutMs);
    // An idle session never keeps the process alive.
    entry.idleTimer.unref();
  }

  #evict(sessionId: string): void {
    const entry = this.#sessions.get(sessionId);
    if (entry === undefined) return;
    this.release(sessionId);
    entry.evicted = true;
    if (entry.awaiting === 0) this.#shut(sessionId, entry);
  }

  #shut(sessionId: string, entry: SessionEntry): void {
    if (entry.closed) return;
    entry.closed = true;
    // The framework closes it as on DELETE (its event streams end), and forgets it.
    this.#close(sessionId).catch(() => {});
  }
}

/**
 * The registry of one transport's sessions. HTTP Stream: the framework's session map tells
 * when a session opens (bound to the owner of the request that opened it, which is in flight
 * until its response ends) and closes; each message then goes to its own session only
 * (session-router.ts). SSE: the bridge binds a session when its event stream names it.
 */
export function trackSessions(transport: FrameworkTransport, limits: SessionLimits): SessionRegistry {
  const registry = new SessionRegistry(limits, transport.closeSession);
  if (transport.routeSessions !== undefined) {
    const isolation = new SessionIsolation();
    transport.routeSessions({
      opened(sessionId, session) {
        isolation.opened(sessionId, session);
        const scope = callerScope.getStore();
        // Opened other than through the bridge: nobody's, so nobody can use it.
        if (scope?.owner === undefined) return;
        // The request that opens it is an initialize, answered by the session.
        scope.onResponseEnd = registry.bind(sessionId, scope.owner, { awaitsAnswer: true });
      },
      closed(sessionId) {
        isolation.closed(sessionId);
        registry.release(sessionId);
      },
      send: (message, options) => isolation.send(message, options),
    });
  }
  return registry;
}

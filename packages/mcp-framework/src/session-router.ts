/**
 * Keeps the sessions of mcp-framework's HTTP Stream transport apart. The framework connects
 * every session to one MCP SDK server and offers each message that server sends to every
 * session: a response went to whichever session had a pending request of the same JSON-RPC
 * id (clients count ids from 0, so honest users collide), and progress, sampling and
 * elicitation requests went to every session's event stream, where any client could answer.
 *
 * The router stands between the sessions and the server (framework-internals.ts hands it
 * each session and the server's `send`):
 * - on the way in, each request gets an id unique in the process (so the server's own
 *   bookkeeping, keyed by id, never mixes sessions), and so does its progress token; a
 *   cancellation is translated to the id its session's request got, or dropped; an answer
 *   to one of the server's own requests (and progress on it) passes only from the session
 *   that request was sent to;
 * - on the way out, a response goes to the one session whose request it answers, with the
 *   client's own id back; the server's requests and notifications go to the session whose
 *   message is being handled (an async context entered for each incoming message, which the
 *   tool's code runs in), progress only with that session's own token. A notification sent
 *   outside any session's message (a server-wide `list_changed` from the host's own code)
 *   goes to every session, as the framework did.
 *
 * The work per message is a few map operations, whatever the number of open sessions.
 */
import type { FrameworkSession, JsonRpcMessage, SessionRouter } from "./framework-internals.js";
import { callerScope } from "./owners.js";

type Id = string | number;

/** The state of one open session. */
export class RoutedSession {
  /** The client's pending requests: the id the server knows → the client's own id, and our progress token for it. */
  readonly pending = new Map<number, { clientId: Id; token?: number }>();
  /** The same requests by the client's id (typed, `n1` is not `s1`), for its cancellations. */
  readonly byClientId = new Map<string, number>();
  /** Progress tokens given to this session's requests: ours → the client's. */
  readonly tokens = new Map<number, Id>();
  /** Ids of the server's own requests sent to this session, as the MCP SDK matches answers (`Number(id)`). */
  readonly serverRequests = new Set<number>();
  open = true;

  constructor(
    readonly id: string,
    readonly transport: FrameworkSession,
    /** Who opened it (owners.ts), known from the request that opened it; undefined outside the bridge. */
    readonly owner: string | undefined,
  ) {}
}

const clientKey = (id: Id): string => (typeof id === "number" ? `n${id}` : `s${id}`);

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const isId = (value: unknown): value is Id => typeof value === "string" || typeof value === "number";

const isResponse = (message: JsonRpcMessage): boolean =>
  message["method"] === undefined && ("result" in message || "error" in message);

export class SessionIsolation implements SessionRouter {
  readonly #sessions = new Map<string, RoutedSession>();
  /** Every pending client request by the id the server knows. */
  readonly #requests = new Map<number, RoutedSession>();
  /** Every progress token handed to the server. */
  readonly #tokens = new Map<number, RoutedSession>();
  /** The server's own pending requests by `Number(id)`, with the session they went to. */
  readonly #serverRequests = new Map<number, RoutedSession>();
  #next = 0;

  /** Open sessions (for tests and the bench). */
  get size(): number {
    return this.#sessions.size;
  }

  opened(sessionId: string, transport: FrameworkSession): void {
    const session = new RoutedSession(sessionId, transport, callerScope.getStore()?.owner);
    if (this.#sessions.has(sessionId)) this.closed(sessionId);
    this.#sessions.set(sessionId, session);
    const forward = transport.onmessage;
    transport.onmessage = (message, extra) => {
      const translated = this.#incoming(session, message);
      if (translated === undefined || forward === undefined) return;
      // Everything the server does for this message (the tool's code included) runs in this
      // session's context: that is how its requests and notifications find the session.
      callerScope.run({ owner: session.owner, session }, () => forward.call(transport, translated, extra));
    };
  }

  closed(sessionId: string): void {
    const session = this.#sessions.get(sessionId);
    if (session === undefined) return;
    this.#sessions.delete(sessionId);
    session.open = false;
    for (const id of session.pending.keys()) this.#requests.delete(id);
    for (const token of session.tokens.keys()) this.#tokens.delete(token);
    for (const id of session.serverRequests) this.#serverRequests.delete(id);
    session.pending.clear();
    session.byClientId.clear();
    session.tokens.clear();
    session.serverRequests.clear();
  }

  async send(message: JsonRpcMessage, options?: { relatedRequestId?: unknown }): Promise<void> {
    if (isResponse(message)) return this.#respond(message);
    const method = message["method"];
    const params = isObject(message["params"]) ? message["params"] : undefined;
    const current = callerScope.getStore()?.session;
    if (method === "notifications/progress") return this.#progress(message, params, current);
    if (method === "notifications/cancelled" && isId(params?.["requestId"])) {
      // The server gives up one of its own requests: only the session that got it hears of it.
      const key = Number(params["requestId"]);
      const session = this.#serverRequests.get(key);
      this.#forgetServerRequest(key);
      if (session?.open) await session.transport.send(message);
      return;
    }
    const related =
      typeof options?.relatedRequestId === "number" ? this.#requests.get(options.relatedRequestId) : undefined;
    const session = related ?? current;
    if (message["id"] !== undefined) {
      // A request of the server's own (sampling, elicitation, roots): exactly one session answers.
      if (session === undefined || !session.open)
        throw new Error(
          `${String(method)}: no MCP session to send this request to (it was not sent while handling one)`,
        );
      const key = Number(message["id"]);
      this.#serverRequests.set(key, session);
      session.serverRequests.add(key);
      await session.transport.send(message);
      return;
    }
    if (session !== undefined) {
      if (session.open) await session.transport.send(message);
      return;
    }
    // Sent outside any session's message: server-wide (a list_changed from the host's code).
    for (const each of [...this.#sessions.values()]) await each.transport.send(message).catch(() => {});
  }

  /** What reaches the server of a message from `session`'s client; undefined: nothing. */
  #incoming(session: RoutedSession, message: JsonRpcMessage): JsonRpcMessage | undefined {
    if (!session.open) return undefined;
    const method = message["method"];
    const params = isObject(message["params"]) ? message["params"] : undefined;
    if (typeof method === "string" && isId(message["id"])) return this.#request(session, message, params);
    if (isResponse(message)) {
      // An answer to one of the server's requests, matched as the SDK matches it.
      const key = Number(message["id"]);
      if (this.#serverRequests.get(key) !== session) return undefined;
      this.#forgetServerRequest(key);
      return message;
    }
    if (method === "notifications/cancelled") {
      const requestId = params?.["requestId"];
      const id = isId(requestId) ? session.byClientId.get(clientKey(requestId)) : undefined;
      return id === undefined ? undefined : { ...message, params: { ...params, requestId: id } };
    }
    if (method === "notifications/progress") {
      // Progress on one of the server's requests: the SDK reads the token as `Number(token)`.
      const token = params?.["progressToken"];
      return isId(token) && this.#serverRequests.get(Number(token)) === session ? message : undefined;
    }
    return message;
  }

  #request(
    session: RoutedSession,
    message: JsonRpcMessage,
    params: Record<string, unknown> | undefined,
  ): JsonRpcMessage {
    const clientId = message["id"] as Id;
    const id = ++this.#next;
    session.byClientId.set(clientKey(clientId), id);
    this.#requests.set(id, session);
    const meta = isObject(params?.["_meta"]) ? params["_meta"] : undefined;
    const token = meta?.["progressToken"];
    if (!isId(token)) {
      session.pending.set(id, { clientId });
      return { ...message, id };
    }
    const ours = ++this.#next;
    session.pending.set(id, { clientId, token: ours });
    session.tokens.set(ours, token);
    this.#tokens.set(ours, session);
    return { ...message, id, params: { ...params, _meta: { ...meta, progressToken: ours } } };
  }

  async #respond(message: JsonRpcMessage): Promise<void> {
    const id = message["id"];
    const session = typeof id === "number" ? this.#requests.get(id) : undefined;
    // No such request (its session is gone): nobody to tell.
    if (session === undefined) return;
    const { clientId, token } = session.pending.get(id as number)!;
    this.#requests.delete(id as number);
    session.pending.delete(id as number);
    if (session.byClientId.get(clientKey(clientId)) === id) session.byClientId.delete(clientKey(clientId));
    if (token !== undefined) {
      session.tokens.delete(token);
      this.#tokens.delete(token);
    }
    await session.transport.send({ ...message, id: clientId });
  }

  async #progress(
    message: JsonRpcMessage,
    params: Record<string, unknown> | undefined,
    current: RoutedSession | undefined,
  ): Promise<void> {
    const token = params?.["progressToken"];
    const session = typeof token === "number" ? this.#tokens.get(token) : undefined;
    // A token of another session (mcp-framework keeps a tool's token on the shared tool
    // object, so a concurrent call can overwrite it) or of a finished request: dropped.
    if (session === undefined || (current !== undefined && current !== session) || !session.open) return;
    const clientToken = session.tokens.get(token as number)!;
    await session.transport.send({ ...message, params: { ...params, progressToken: clientToken } });
  }

  #forgetServerRequest(key: number): void {
    this.#serverRequests.get(key)?.serverRequests.delete(key);
    this.#serverRequests.delete(key);
  }
}

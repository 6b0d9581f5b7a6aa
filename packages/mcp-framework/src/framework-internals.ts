/**
 * The only module that relies on mcp-framework internals (not its public API). It puts the
 * bridge in front of the `node:http` request listener of the framework's own HTTP Stream and
 * SSE transports, which mcp-framework offers no public hook for. What it needs, all checked
 * before use so an unsupported version fails at start-up instead of silently running
 * unprotected:
 *
 * - `MCPServer.prototype.createTransportFromConfig(config)`: called by `MCPServer.start()`
 *   for each transport config, returns the transport; patched (once, per process) so a
 *   transport whose `auth.provider` registered a hook here gets the bridge;
 * - a transport's `_config` (the merged options: `cors`, `auth`, `maxMessageSize`) and its
 *   `_server` field, which `start()` sets to `http.createServer(listener)` before it listens:
 *   an accessor on the instance swaps that one `request` listener for the bridged one;
 * - `_config.cors.allowedOrigins`, read per request by the framework's own Origin check:
 *   handed to the bridge's rule and removed, so one rule decides (see `takeAllowedOrigins`);
 * - the HTTP Stream transport's `readRequestBody(req)`, which its `handleMcpRequest` calls to
 *   read and parse a POST body: answered on the instance from the body the bridge has already
 *   read (see `handOverBodies`);
 * - the HTTP Stream transport's `_transports` (session id → the MCP SDK's
 *   `StreamableHTTPServerTransport` of that session, whose `onmessage` the framework points
 *   at its one SDK server) and its `send(message)`, which offers every outgoing message to
 *   every session: the session map is observed and `send` replaced, so a router decides
 *   which one session gets each message (see `routeSessions`, session-router.ts);
 * - the SSE transport's `_sessions` (session id → `{ transport }`), to close a session;
 * - the `MCPServer`'s `_taskManager` (one for every session), whose lookups are limited to
 *   the caller's own tasks (see `scopeTasks`);
 * - the `MCPServer`'s `toolsMap`: one object per tool for every session, on which the
 *   framework sets the calling session's SDK server, progress token and abort signal before
 *   each call; those three fields become per call (see `isolateTools`);
 * - the framework's `OAuthAuthProvider` class, whose prototype our provider extends without
 *   running its constructor (see `FrameworkOAuthProviderBase`).
 *
 * Everything else the bridge does uses the `node:http` API and the MCP wire protocol.
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { MCPServer, OAuthAuthProvider as FrameworkOAuthAuthProvider } from "mcp-framework";

/** The mcp-framework versions these internals were checked against. Also the peer dependency range. */
export const SUPPORTED_FRAMEWORK_RANGE = ">=0.2.22 <0.3.0";

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/** What the bridge learns about a transport when `MCPServer.start()` creates it. */
export interface FrameworkTransport {
  type: "http-stream" | "sse";
  /** The transport's merged options (`_config`). */
  config: FrameworkTransportConfig;
  /**
   * HTTP Stream only: gives the transport the body the bridge has read and parsed for this
   * request, which its `readRequestBody` then returns instead of reading the stream again.
   * Undefined for SSE, whose POST handler (the MCP SDK's) reads the stream itself.
   */
  handOverBody?: (req: IncomingMessage, body: unknown) => void;
  /** Closes one of the transport's sessions, as the framework does on DELETE (or the end of an SSE stream). */
  closeSession: (sessionId: string) => Promise<void>;
  /**
   * HTTP Stream only: hands every session the framework opens to `router`, and every message
   * the framework's SDK server sends to `router.send` instead of to every session.
   */
  routeSessions?: (router: SessionRouter) => void;
  /**
   * When the server has tasks enabled: limits task lookups (`tasks/get`, `tasks/result`,
   * `tasks/cancel`, `tasks/list`) to tasks created by the same caller, `ownerOfCall()` naming
   * the caller of the request being handled (undefined outside any: no task is visible).
   */
  scopeTasks?: (ownerOfCall: () => string | undefined) => void;
  /**
   * Makes the per-call fields mcp-framework keeps on each (shared) tool object (`server`,
   * `_progressToken`, `_abortSignal`) per call: `callKey()` names the call being handled
   * (undefined outside any, where the fields behave as before).
   */
  isolateTools?: (callKey: () => object | undefined) => void;
}

/** A JSON-RPC message as the MCP SDK's transports pass it. */
export type JsonRpcMessage = Record<string, unknown>;

/** One HTTP Stream session: the MCP SDK's `StreamableHTTPServerTransport` the framework made for it. */
export interface FrameworkSession {
  /** Writes a message to this session's client (the answer stream of its request, or the session's event stream). */
  send(message: JsonRpcMessage): Promise<void>;
  /** What the session does with a message its client sent: the framework forwards it to its SDK server. */
  onmessage?: ((message: JsonRpcMessage, extra?: unknown) => void) | undefined;
}

/** Decides which session gets each message of the framework's one SDK server (see `routeSessions`). */
export interface SessionRouter {
  /** A session the framework registered, before its first message reaches the server. */
  opened(sessionId: string, session: FrameworkSession): void;
  /** A session the framework forgot (closed, deleted, transport closed). */
  closed(sessionId: string): void;
  /** A message the SDK server sends (`options.relatedRequestId`: the request it belongs to, when the SDK says). */
  send(message: JsonRpcMessage, options?: { relatedRequestId?: unknown }): Promise<void>;
}

export interface FrameworkTransportConfig {
  auth?: { provider?: unknown; endpoints?: Record<string, unknown> };
  cors?: { allowedOrigins?: string[]; maxAge?: string | number };
  maxMessageSize?: number | string;
}

/** Given a transport, returns the wrapper for its request listener (or throws a configuration error). */
export type TransportHook = (transport: FrameworkTransport) => (listener: RequestListener) => RequestListener;

export class UnsupportedFrameworkError extends Error {
  override readonly name = "UnsupportedFrameworkError";
  constructor(missing: string) {
    super(
      `@mcp-oauth/mcp-framework: this mcp-framework version is not supported (${missing}). ` +
        `Install mcp-framework ${SUPPORTED_FRAMEWORK_RANGE}, the range whose transports the OAuth bridge was checked against; ` +
        "without the bridge the server would run unprotected, so it refuses to start.",
    );
  }
}

const hooks = new WeakMap<object, TransportHook>();
const PATCHED = Symbol.for("@mcp-oauth/mcp-framework.bridge-installed");

interface Patchable {
  createTransportFromConfig?: (config: unknown) => unknown;
  [PATCHED]?: true;
}

/** Throws `UnsupportedFrameworkError` unless the `MCPServer` internals the bridge patches are there. */
export function checkFrameworkInternals(server: { prototype: unknown } = MCPServer): void {
  if (typeof (server.prototype as Patchable).createTransportFromConfig !== "function") {
    throw new UnsupportedFrameworkError("MCPServer.prototype.createTransportFromConfig is missing");
  }
}

/**
 * Registers `hook` for transports configured with `auth: { provider }`, installing the
 * `MCPServer` patch on first use. Throws `UnsupportedFrameworkError` if the internals are missing.
 */
export function registerProvider(provider: object, hook: TransportHook): void {
  checkFrameworkInternals();
  checkProviderPrototype();
  hooks.set(provider, hook);
  const proto = MCPServer.prototype as unknown as Patchable;
  if (proto[PATCHED]) return;
  const original = proto.createTransportFromConfig!;
  proto.createTransportFromConfig = function createTransportFromConfig(this: unknown, config: unknown) {
    const transport = original.call(this, config);
    const { auth, options } = (config ?? {}) as {
      auth?: { provider?: unknown };
      options?: { auth?: { provider?: unknown } };
    };
    const provider = (auth ?? options?.auth)?.provider;
    const hookFor = typeof provider === "object" && provider !== null ? hooks.get(provider) : undefined;
    if (hookFor !== undefined) bridgeTransport(transport, hookFor, this);
    return transport;
  };
  Object.defineProperty(proto, PATCHED, { value: true });
}

interface TransportInternals {
  type?: unknown;
  _config?: unknown;
  _server?: unknown;
  start?: (this: unknown) => Promise<void>;
  close?: (this: unknown) => Promise<void>;
  readRequestBody?: (this: unknown, req: IncomingMessage) => Promise<unknown>;
  handleMcpRequest?: unknown;
  _transports?: unknown;
  _sessions?: unknown;
  send?: unknown;
}

/** Puts the bridge in front of one transport's request listener; throws if its internals differ. */
export function bridgeTransport(transport: unknown, hook: TransportHook, server?: unknown): void {
  const internals = transport as TransportInternals;
  const type = internals.type;
  // stdio has no HTTP requests and never calls the provider: nothing to put in front of.
  if (type === "stdio") return;
  if (type !== "http-stream" && type !== "sse")
    throw new UnsupportedFrameworkError(`unknown transport type ${String(type)}`);
  if (typeof internals._config !== "object" || internals._config === null)
    throw new UnsupportedFrameworkError(`the ${type} transport has no _config`);
  if (!Object.hasOwn(internals, "_server"))
    throw new UnsupportedFrameworkError(`the ${type} transport has no _server field`);
  if (typeof internals.start !== "function")
    throw new UnsupportedFrameworkError(`the ${type} transport has no start()`);

  const config = internals._config as FrameworkTransportConfig;
  const scopeTasks = taskScoperOf(server);
  const isolateTools = toolIsolatorOf(server);
  const wrap = hook({
    type,
    config,
    ...(type === "http-stream"
      ? { handOverBody: handOverBodies(internals), ...httpStreamSessions(internals) }
      : { closeSession: sseSessionCloser(internals) }),
    ...(scopeTasks !== undefined ? { scopeTasks } : {}),
    ...(isolateTools !== undefined ? { isolateTools } : {}),
  });
  let current: unknown = internals._server;
  let bridged = false;
  Object.defineProperty(internals, "_server", {
    configurable: true,
    enumerable: true,
    get: () => current,
    set: (value: unknown) => {
      if (value !== undefined && value !== null && !bridged) {
        const server = value as Server;
        const listeners = typeof server.listeners === "function" ? server.listeners("request") : [];
        if (listeners.length !== 1)
          throw new UnsupportedFrameworkError(
            `the ${type} transport's HTTP server has ${listeners.length} request listeners, expected 1`,
          );
        const listener = listeners[0] as RequestListener;
        server.removeListener("request", listener);
        server.on("request", wrap(listener));
        bridged = true;
      }
      current = value;
    },
  });
  const start = internals.start;
  internals.start = async function startBridged(this: unknown): Promise<void> {
    await start.call(this);
    if (!bridged) {
      await internals.close?.call(this);
      throw new UnsupportedFrameworkError(`the ${type} transport started without creating its HTTP server in _server`);
    }
  };
}

/**
 * Makes the HTTP Stream transport's `readRequestBody` answer from the bodies the bridge has
 * read, and returns the function that hands one over. A request handed over is never read
 * from its stream again (the bridge consumed it), so a framework whose request handler read
 * the body some other way would wait forever: that is checked here too.
 */
function handOverBodies(internals: TransportInternals): (req: IncomingMessage, body: unknown) => void {
  const read = internals.readRequestBody;
  if (typeof read !== "function")
    throw new UnsupportedFrameworkError("the http-stream transport has no readRequestBody()");
  const handler = internals.handleMcpRequest;
  if (typeof handler !== "function" || !/\bthis\.readRequestBody\(/.test(Function.prototype.toString.call(handler)))
    throw new UnsupportedFrameworkError(
      "the http-stream transport's handleMcpRequest() does not read bodies through readRequestBody()",
    );
  // Keyed by the request object: an entry goes with its request.
  const bodies = new WeakMap<IncomingMessage, unknown>();
  internals.readRequestBody = function readRequestBodyHandedOver(this: unknown, req: IncomingMessage) {
    return bodies.has(req) ? Promise.resolve(bodies.get(req)) : read.call(this, req);
  };
  return (req, body) => void bodies.set(req, body);
}

type SessionTransports = Record<string, FrameworkSession & { close?: () => Promise<void> }>;

/**
 * The HTTP Stream transport's sessions. Its `handleMcpRequest` registers each session as
 * `this._transports[id] = transport` once the MCP SDK has given it an id (before the
 * session's first message is handed on) and deletes it when the SDK transport closes; its
 * `send(message)` offers each message of its one SDK server to every registered session,
 * and the session with a pending request of the same JSON-RPC id takes a response. The
 * map becomes a proxy (with no prototype, so a session id such as `constructor` is just
 * unknown) that tells the router of each change, and `send` goes to the router.
 */
function httpStreamSessions(internals: TransportInternals): Pick<FrameworkTransport, "closeSession" | "routeSessions"> {
  const handler = internals.handleMcpRequest;
  const source = typeof handler === "function" ? Function.prototype.toString.call(handler) : "";
  if (
    typeof internals._transports !== "object" ||
    internals._transports === null ||
    typeof internals.send !== "function" ||
    !/this\._transports\[sessionId\] = transport/.test(source)
  )
    throw new UnsupportedFrameworkError(
      "the http-stream transport does not keep its sessions in _transports or has no send()",
    );
  let router: SessionRouter | undefined;
  let sessions = Object.assign(Object.create(null) as SessionTransports, internals._transports);
  const proxy = new Proxy({} as SessionTransports, {
    get: (_target, key) => (typeof key === "string" ? sessions[key] : undefined),
    has: (_target, key) => typeof key === "string" && Object.hasOwn(sessions, key),
    set: (_target, key, value: FrameworkSession) => {
      if (typeof key !== "string") return false;
      sessions[key] = value;
      releaseAnsweredStreams(value);
      router?.opened(key, value);
      return true;
    },
    deleteProperty: (_target, key) => {
      if (typeof key !== "string" || !Object.hasOwn(sessions, key)) return true;
      delete sessions[key];
      router?.closed(key);
      return true;
    },
    ownKeys: () => Reflect.ownKeys(sessions),
    getOwnPropertyDescriptor: (_target, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(sessions, key);
      return descriptor === undefined ? undefined : { ...descriptor, configurable: true };
    },
  });
  Object.defineProperty(internals, "_transports", {
    configurable: true,
    enumerable: true,
    get: () => proxy,
    // close() starts over with `{}`: every session it held is gone.
    set: (value: unknown) => {
      const gone = Object.keys(sessions);
      sessions = Object.assign(Object.create(null) as SessionTransports, value);
      for (const id of gone) router?.closed(id);
    },
  });
  return {
    closeSession: async (sessionId) => {
      await sessions[sessionId]?.close?.();
    },
    routeSessions: (installed) => {
      router = installed;
      for (const [id, session] of Object.entries(sessions)) installed.opened(id, session);
      internals.send = (message: JsonRpcMessage, options?: { relatedRequestId?: unknown }) =>
        installed.send(message, options);
    },
  };
}

interface WebStandardInternals {
  _enableJsonResponse?: unknown;
  _streamMapping?: unknown;
  _requestToStreamMapping?: unknown;
}

/**
 * The MCP SDK's Streamable HTTP transport (1.x) in JSON response mode (mcp-framework's
 * `responseMode: "batch"`) keeps an entry per answered POST in `_streamMapping` (the entry
 * holding the answer's resolver, and through the promises made for it the request's async
 * context) until the session closes: a session's memory grew with every request. After each
 * message the session sends, entries whose requests are all answered (none left in
 * `_requestToStreamMapping`) are dropped. Left alone where the SDK's fields differ (a
 * version that cleans up itself).
 */
function releaseAnsweredStreams(session: FrameworkSession): void {
  const web = (session as { _webStandardTransport?: WebStandardInternals })._webStandardTransport;
  const streams = web?._streamMapping;
  const requests = web?._requestToStreamMapping;
  if (web?._enableJsonResponse !== true || !(streams instanceof Map) || !(requests instanceof Map)) return;
  const send = session.send;
  session.send = async function sendThenRelease(this: unknown, ...args: Parameters<FrameworkSession["send"]>) {
    try {
      return await send.apply(this, args);
    } finally {
      const pending = new Set(requests.values());
      for (const [streamId, stream] of streams)
        if ((stream as { resolveJson?: unknown }).resolveJson !== undefined && !pending.has(streamId))
          streams.delete(streamId);
    }
  };
}

/** Closes an SSE session: the framework keeps `{ transport }` per id in `_sessions`, closing it ends the stream. */
function sseSessionCloser(internals: TransportInternals): FrameworkTransport["closeSession"] {
  const sessions = internals._sessions;
  if (!(sessions instanceof Map)) throw new UnsupportedFrameworkError("the sse transport has no _sessions map");
  return async (sessionId) => {
    const session = sessions.get(sessionId) as { transport?: { close?: () => Promise<void> } } | undefined;
    await session?.transport?.close?.();
  };
}

interface TaskState {
  taskId: string;
}

interface TaskManagerInternals {
  tasks?: unknown;
  createTask?: (ttl?: number) => TaskState;
  getTask?: (taskId: string) => TaskState | undefined;
  cancelTask?: (taskId: string) => TaskState;
  listTasks?: (cursor?: string, limit?: number) => { tasks: TaskState[]; nextCursor?: string };
  cleanup?: () => void;
  [TASKS_SCOPED]?: true;
}

const TASKS_SCOPED = Symbol("@mcp-oauth/mcp-framework.tasks-scoped");

/**
 * The server's `TaskManager` (mcp-framework's tasks: one store for every session and every
 * caller, `tasks/list` listing them all and `tasks/get`/`tasks/result`/`tasks/cancel`
 * answering any task id) limited to the caller's own tasks: each task records who created
 * it, and a task of another caller is "not found", as an unknown one. Undefined when the
 * server has no tasks.
 */
function taskScoperOf(server: unknown): FrameworkTransport["scopeTasks"] {
  const manager = (server as { _taskManager?: unknown } | undefined)?._taskManager as TaskManagerInternals | undefined;
  if (manager === undefined || manager === null) return undefined;
  if (
    !(manager.tasks instanceof Map) ||
    typeof manager.createTask !== "function" ||
    typeof manager.getTask !== "function" ||
    typeof manager.cancelTask !== "function" ||
    typeof manager.listTasks !== "function" ||
    typeof manager.cleanup !== "function"
  )
    throw new UnsupportedFrameworkError("the server's _taskManager is not the TaskManager the bridge knows");
  return (ownerOfCall) => {
    if (manager[TASKS_SCOPED]) return;
    Object.defineProperty(manager, TASKS_SCOPED, { value: true });
    const tasks = manager.tasks as Map<string, TaskState>;
    const { createTask, getTask, cancelTask } = manager as Required<TaskManagerInternals>;
    const owners = new WeakMap<TaskState, string>();
    const mine = (task: TaskState | undefined): task is TaskState => {
      const owner = ownerOfCall();
      return task !== undefined && owner !== undefined && owners.get(task) === owner;
    };
    manager.createTask = function createOwnTask(this: unknown, ttl?: number) {
      const owner = ownerOfCall();
      if (owner === undefined) throw new Error("a task needs a caller");
      const task = createTask.call(this, ttl);
      owners.set(task, owner);
      return task;
    };
    manager.getTask = function getOwnTask(this: unknown, taskId: string) {
      const task = getTask.call(this, taskId);
      return mine(task) ? task : undefined;
    };
    manager.cancelTask = function cancelOwnTask(this: unknown, taskId: string) {
      if (!mine(tasks.get(taskId))) throw new Error(`Task not found: ${taskId}`);
      return cancelTask.call(this, taskId);
    };
    // The framework's paging (a cursor is an index into the list), over the caller's tasks only.
    manager.listTasks = function listOwnTasks(this: unknown, cursor?: string, limit = 50) {
      manager.cleanup!.call(this);
      const own = [...tasks.values()].filter(mine);
      const start = cursor ? parseInt(cursor, 10) : 0;
      const page = own.slice(start, start + limit);
      return start + limit < own.length ? { tasks: page, nextCursor: String(start + limit) } : { tasks: page };
    };
  };
}

/**
 * `frameworkRequestHandler()`: the server's `TaskManager` limited to each caller's own tasks,
 * as for a bridged transport. Initializes the server first (`ensureInitialized()`, which
 * `handleRequest()` calls anyway): the `TaskManager` is created there. Nothing to do for a
 * handler that is not an `MCPServer`.
 */
export async function scopeServerTasks(server: unknown, ownerOfCall: () => string | undefined): Promise<void> {
  const initialize = (server as { ensureInitialized?: unknown } | null | undefined)?.ensureInitialized;
  if (typeof initialize !== "function") return;
  await (initialize as () => Promise<void>).call(server);
  taskScoperOf(server)?.(ownerOfCall);
}

/** Fields mcp-framework's `MCPServer` sets on a tool object for the call it is about to run. */
const PER_CALL_TOOL_FIELDS = ["server", "_progressToken", "_abortSignal"] as const;
const TOOLS_ISOLATED = Symbol("@mcp-oauth/mcp-framework.tools-isolated");

/**
 * mcp-framework keeps one object per tool for every session and, before each call, sets on
 * it the SDK server of the calling session (`injectServer`), the call's progress token and
 * abort signal; the tool reads them back while it runs. Two concurrent calls from two
 * sessions overwrite each other's: one session's progress, logging, sampling or elicitation
 * went to the other's server (SSE: one SDK server per session). Each field becomes an
 * accessor keeping one value per call (`callKey()`), and the value set outside any call
 * (the server `MCPServer.start()` injects) for reads outside any.
 */
function toolIsolatorOf(server: unknown): FrameworkTransport["isolateTools"] {
  if (server === undefined || server === null) return undefined;
  const tools = (server as { toolsMap?: unknown }).toolsMap;
  if (!(tools instanceof Map)) throw new UnsupportedFrameworkError("the server has no toolsMap");
  return (callKey) => {
    const marked = server as { [TOOLS_ISOLATED]?: true };
    if (marked[TOOLS_ISOLATED]) return;
    Object.defineProperty(marked, TOOLS_ISOLATED, { value: true });
    for (const tool of tools.values() as Iterable<Record<string, unknown>>) {
      for (const field of PER_CALL_TOOL_FIELDS) {
        let outside: unknown = tool[field];
        const perCall = new WeakMap<object, unknown>();
        Object.defineProperty(tool, field, {
          configurable: true,
          enumerable: true,
          get: () => {
            const key = callKey();
            return key !== undefined && perCall.has(key) ? perCall.get(key) : outside;
          },
          set: (value: unknown) => {
            const key = callKey();
            if (key === undefined) outside = value;
            else perCall.set(key, value);
          },
        });
      }
    }
  };
}

/**
 * The transport's own `cors.allowedOrigins` (`frameworkCors({ allowedOrigins })`), removed
 * from its config: the framework's check would run after the bridge's with other rules (no
 * list: every origin; `*`: none), so the bridge applies them instead.
 */
export function takeAllowedOrigins(config: FrameworkTransportConfig): string[] {
  const origins = config.cors?.allowedOrigins ?? [];
  if (config.cors) delete config.cors.allowedOrigins;
  return [...origins];
}

/**
 * The framework's `OAuthAuthProvider` prototype behind a constructor that does nothing. The
 * transports add `WWW-Authenticate` only for `instanceof` that class, so our provider must
 * extend it; but its constructor builds a validator ours never uses and logs "OAuthAuthProvider
 * initialized with JWT validation" at INFO, whatever ours validates with. Every method the
 * transports call (`PROVIDER_METHODS`) is overridden by ours, so none reads the state that
 * constructor would have set; `checkProviderPrototype` checks at start-up that the framework
 * still has them, so a release that adds or renames one is refused rather than half-inherited.
 */
export const FrameworkOAuthProviderBase =
  function OAuthAuthProvider() {} as unknown as new () => FrameworkOAuthAuthProvider;
FrameworkOAuthProviderBase.prototype = FrameworkOAuthAuthProvider.prototype;

/**
 * The framework provider's methods its transports, `MCPServer` and metadata helper call
 * (auth-handler.js, web-auth-handler.js, oauth-metadata.js in 0.2.x): all overridden by ours.
 */
export const PROVIDER_METHODS = [
  "authenticate",
  "getAuthError",
  "getWWWAuthenticateHeader",
  "getAuthorizationServers",
  "getResource",
] as const;
/** Called only from the framework's own `authenticate`, which ours replaces. */
const PROVIDER_PRIVATE_HELPERS = new Set(["constructor", "extractToken", "validateTokenNotInQueryString"]);

/**
 * Throws `UnsupportedFrameworkError` unless the framework's provider class has exactly the
 * methods ours overrides (plus its own private helpers): a method added in a later release
 * would be inherited and run against state its constructor never set.
 */
export function checkProviderPrototype(prototype: object = FrameworkOAuthAuthProvider.prototype): void {
  const own = Object.getOwnPropertyNames(prototype);
  for (const method of PROVIDER_METHODS) {
    if (typeof (prototype as Record<string, unknown>)[method] !== "function") {
      throw new UnsupportedFrameworkError(`OAuthAuthProvider.prototype.${method} is missing`);
    }
  }
  const known = new Set<string>([...PROVIDER_METHODS, ...PROVIDER_PRIVATE_HELPERS]);
  const unknown = own.filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw new UnsupportedFrameworkError(
      `OAuthAuthProvider.prototype has methods the bridge does not override: ${unknown.join(", ")}`,
    );
  }
}

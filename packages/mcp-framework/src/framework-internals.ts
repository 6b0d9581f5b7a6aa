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
 *   read (see `handOverBodies`).
 *
 * Everything else the bridge does uses the `node:http` API and the MCP wire protocol.
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { MCPServer } from "mcp-framework";

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
    if (hookFor !== undefined) bridgeTransport(transport, hookFor);
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
}

/** Puts the bridge in front of one transport's request listener; throws if its internals differ. */
export function bridgeTransport(transport: unknown, hook: TransportHook): void {
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
  const wrap = hook(
    type === "http-stream" ? { type, config, handOverBody: handOverBodies(internals) } : { type, config },
  );
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

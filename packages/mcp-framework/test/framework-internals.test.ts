/**
 * framework-internals.ts against the real, installed mcp-framework: the internals the bridge
 * needs are there, and each missing one fails loudly, naming the supported version range,
 * instead of leaving a transport unprotected.
 */
import { describe, expect, it } from "@jest/globals";
import { readFileSync } from "node:fs";
import { createServer, IncomingMessage } from "node:http";
import { Socket } from "node:net";
import { HttpStreamTransport, MCPServer, OAuthAuthProvider as FrameworkOAuthAuthProvider } from "mcp-framework";
import {
  bridgeTransport,
  checkFrameworkInternals,
  checkProviderPrototype,
  PROVIDER_METHODS,
  SUPPORTED_FRAMEWORK_RANGE,
  UnsupportedFrameworkError,
  type TransportHook,
} from "../src/framework-internals.js";
import { OAuthAuthProvider } from "../src/index.js";

const OPTIONS = { resource: "http://127.0.0.1:4777/mcp", authorizationServers: ["http://127.0.0.1:4778"] };
const passThrough: TransportHook = () => (listener) => listener;
const RANGE = new RegExp(`mcp-framework ${SUPPORTED_FRAMEWORK_RANGE.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`);

describe("framework internals", () => {
  it("the installed mcp-framework has every internal the bridge needs", () => {
    expect(() => checkFrameworkInternals()).not.toThrow();
    const transport = new HttpStreamTransport({ port: 1 });
    expect(() => bridgeTransport(transport, passThrough)).not.toThrow();
  });

  it("the supported range is the peer dependency range", () => {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
      peerDependencies: Record<string, string>;
    };
    expect(pkg.peerDependencies["mcp-framework"]).toBe(SUPPORTED_FRAMEWORK_RANGE);
  });

  it("without MCPServer.prototype.createTransportFromConfig, constructing the provider fails, naming the range", () => {
    const proto = MCPServer.prototype as unknown as Record<string, unknown>;
    const saved = proto["createTransportFromConfig"];
    delete proto["createTransportFromConfig"];
    try {
      expect(() => new OAuthAuthProvider(OPTIONS)).toThrow(UnsupportedFrameworkError);
      expect(() => new OAuthAuthProvider(OPTIONS)).toThrow(RANGE);
      expect(() => new OAuthAuthProvider(OPTIONS)).toThrow(/createTransportFromConfig/);
    } finally {
      proto["createTransportFromConfig"] = saved;
    }
  });

  it("our provider overrides every method the framework calls on its provider", () => {
    expect(() => checkProviderPrototype()).not.toThrow();
    for (const method of PROVIDER_METHODS) {
      expect(Object.hasOwn(OAuthAuthProvider.prototype, method)).toBe(true);
    }
  });

  it("a framework provider with a method ours does not override is refused when the provider is built", () => {
    const proto = FrameworkOAuthAuthProvider.prototype as unknown as Record<string, unknown>;
    proto["refreshKeys"] = () => undefined;
    try {
      expect(() => new OAuthAuthProvider(OPTIONS)).toThrow(UnsupportedFrameworkError);
      expect(() => new OAuthAuthProvider(OPTIONS)).toThrow(/refreshKeys/);
      expect(() => new OAuthAuthProvider(OPTIONS)).toThrow(RANGE);
    } finally {
      delete proto["refreshKeys"];
    }
  });

  it("a framework provider without a method the transports call is refused, naming it", () => {
    const { getAuthError: _removed, ...rest } = Object.fromEntries(
      Object.getOwnPropertyNames(FrameworkOAuthAuthProvider.prototype).map((name) => [name, () => undefined]),
    );
    expect(() => checkProviderPrototype(rest)).toThrow(/getAuthError is missing/);
  });

  it("a transport without the _server field is refused, naming the range", () => {
    const transport = new HttpStreamTransport({ port: 1 }) as unknown as Record<string, unknown>;
    delete transport["_server"];
    expect(() => bridgeTransport(transport, passThrough)).toThrow(RANGE);
  });

  it("an HTTP Stream transport without readRequestBody() is refused, naming the range", () => {
    const transport = new HttpStreamTransport({ port: 1 }) as unknown as Record<string, unknown>;
    transport["readRequestBody"] = undefined;
    expect(() => bridgeTransport(transport, passThrough)).toThrow(RANGE);
    expect(() => bridgeTransport(transport, passThrough)).toThrow(/readRequestBody/);
  });

  it("an HTTP Stream transport whose handleMcpRequest() reads bodies otherwise is refused, naming the range", () => {
    const transport = new HttpStreamTransport({ port: 1 }) as unknown as Record<string, unknown>;
    transport["handleMcpRequest"] = async function handleMcpRequest(req: IncomingMessage) {
      return JSON.parse(String(await req.toArray()));
    };
    expect(() => bridgeTransport(transport, passThrough)).toThrow(RANGE);
    expect(() => bridgeTransport(transport, passThrough)).toThrow(
      /handleMcpRequest\(\) does not read bodies through readRequestBody/,
    );
  });

  it("readRequestBody() answers a handed-over body, and reads the stream of any other request", async () => {
    const transport = new HttpStreamTransport({ port: 1 });
    let handOver: ((req: IncomingMessage, body: unknown) => void) | undefined;
    bridgeTransport(transport, ({ handOverBody }) => {
      handOver = handOverBody;
      return (listener) => listener;
    });
    const read = (req: IncomingMessage): Promise<unknown> =>
      (transport as unknown as { readRequestBody(req: IncomingMessage): Promise<unknown> }).readRequestBody(req);
    const handed = new IncomingMessage(new Socket());
    const body = { jsonrpc: "2.0", id: 1, method: "ping" };
    handOver!(handed, body);
    await expect(read(handed)).resolves.toBe(body);
    const empty = new IncomingMessage(new Socket());
    handOver!(empty, null);
    await expect(read(empty)).resolves.toBeNull();
    const other = new IncomingMessage(new Socket());
    other.push('{"jsonrpc":"2.0","id":2,"method":"ping"}');
    other.push(null);
    await expect(read(other)).resolves.toEqual({ jsonrpc: "2.0", id: 2, method: "ping" });
  });

  it("an SSE transport is given no body hand-over (the MCP SDK reads its POST bodies itself)", () => {
    let given: unknown = "not called";
    // The SSE transport class is not exported: the framework builds one, as start() does.
    const sse = (
      new MCPServer({ name: "sse", version: "0.0.0" }) as unknown as { createTransportFromConfig(c: unknown): unknown }
    ).createTransportFromConfig({ type: "sse", options: { port: 1 } });
    expect((sse as { type?: unknown }).type).toBe("sse");
    bridgeTransport(sse, ({ handOverBody }) => {
      given = handOverBody;
      return (listener) => listener;
    });
    expect(given).toBeUndefined();
  });

  it("an HTTP Stream transport without its session map or send() is refused, naming the range", () => {
    for (const field of ["_transports", "send"]) {
      const transport = new HttpStreamTransport({ port: 1 }) as unknown as Record<string, unknown>;
      transport[field] = undefined;
      expect(() => bridgeTransport(transport, passThrough)).toThrow(RANGE);
      expect(() => bridgeTransport(transport, passThrough)).toThrow(/_transports or has no send\(\)/);
    }
  });

  it("the HTTP Stream session map tells the router of each session, and send() goes to the router", async () => {
    const transport = new HttpStreamTransport({ port: 1 }) as unknown as Record<string, unknown>;
    const events: string[] = [];
    bridgeTransport(transport, ({ routeSessions }) => {
      routeSessions!({
        opened: (id) => events.push(`opened ${id}`),
        closed: (id) => events.push(`closed ${id}`),
        send: async (message) => void events.push(`send ${String(message["method"])}`),
      });
      return (listener) => listener;
    });
    const sessions = transport["_transports"] as Record<string, unknown>;
    const session = { send: async () => {} };
    sessions["a"] = session;
    expect(sessions["a"]).toBe(session);
    // A session id that names an Object.prototype member is just unknown.
    expect(sessions["constructor"]).toBeUndefined();
    expect(Object.keys(sessions)).toEqual(["a"]);
    delete sessions["a"];
    sessions["b"] = session;
    transport["_transports"] = {};
    await (transport["send"] as (m: unknown) => Promise<void>)({ jsonrpc: "2.0", method: "notifications/x" });
    expect(events).toEqual(["opened a", "closed a", "opened b", "closed b", "send notifications/x"]);
  });

  it("an SSE transport without its session map is refused, naming the range", () => {
    const sse = (
      new MCPServer({ name: "sse", version: "0.0.0" }) as unknown as { createTransportFromConfig(c: unknown): unknown }
    ).createTransportFromConfig({ type: "sse", options: { port: 1 } }) as Record<string, unknown>;
    sse["_sessions"] = {};
    expect(() => bridgeTransport(sse, passThrough)).toThrow(RANGE);
  });

  it("a server whose task store is not the TaskManager the bridge knows is refused, naming the range", () => {
    const transport = new HttpStreamTransport({ port: 1 });
    expect(() => bridgeTransport(transport, passThrough, { _taskManager: { tasks: {} } })).toThrow(RANGE);
    expect(() => bridgeTransport(transport, passThrough, { _taskManager: { tasks: {} } })).toThrow(/_taskManager/);
  });

  it("a server without the tool map the bridge knows is refused, naming the range", () => {
    const transport = new HttpStreamTransport({ port: 1 });
    expect(() => bridgeTransport(transport, passThrough, { toolsMap: {} })).toThrow(RANGE);
    expect(() => bridgeTransport(transport, passThrough, { toolsMap: {} })).toThrow(/toolsMap/);
  });

  it("a tool's per-call fields keep one value per call, and the value set outside any call elsewhere", () => {
    const tool: Record<string, unknown> = { server: "outside", _progressToken: undefined, _abortSignal: undefined };
    let call: object | undefined;
    bridgeTransport(
      new HttpStreamTransport({ port: 1 }),
      ({ isolateTools }) => {
        isolateTools!(() => call);
        return (listener) => listener;
      },
      { toolsMap: new Map([["t", tool]]) },
    );
    const first = {};
    const second = {};
    call = first;
    tool["server"] = "first's";
    tool["_progressToken"] = 1;
    call = second;
    tool["server"] = "second's";
    expect([tool["server"], tool["_progressToken"]]).toEqual(["second's", undefined]);
    call = first;
    expect([tool["server"], tool["_progressToken"]]).toEqual(["first's", 1]);
    call = undefined;
    expect(tool["server"]).toBe("outside");
  });

  it("a transport without _config is refused", () => {
    const transport = new HttpStreamTransport({ port: 1 }) as unknown as Record<string, unknown>;
    delete transport["_config"];
    expect(() => bridgeTransport(transport, passThrough)).toThrow(/_config/);
  });

  it("a transport that starts without creating its server in _server fails to start", async () => {
    let closed = false;
    const transport = {
      type: "http-stream",
      _config: {},
      _server: undefined,
      _transports: {},
      send: async () => {},
      readRequestBody: async (_req: unknown) => null,
      async handleMcpRequest(req: unknown) {
        // As the framework registers a session: this._transports[sessionId] = transport
        return this.readRequestBody(req);
      },
      start: async () => {},
      close: async () => {
        closed = true;
      },
    };
    bridgeTransport(transport, passThrough);
    await expect(transport.start()).rejects.toThrow(RANGE);
    expect(closed).toBe(true);
  });

  it("a server with other than one request listener is refused", async () => {
    const transport = {
      type: "sse",
      _config: {},
      _server: undefined as unknown,
      _sessions: new Map(),
      async start() {
        const server = createServer(() => {});
        server.on("request", () => {});
        this._server = server;
      },
      close: async () => {},
    };
    bridgeTransport(transport, passThrough);
    await expect(transport.start()).rejects.toThrow(/2 request listeners/);
  });
});

/**
 * Sessions on mcp-framework's transports are bounded per owner and expire when idle
 * (`sessions: { maxPerOwner, idleTimeoutMs }`): one valid token opening sessions in a loop
 * no longer grows the server without end. Real transports, small limits; the only waits are
 * for a session to expire, polled, never timed.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "@jest/globals";
import { request as httpRequest, type ClientRequest } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { MCPServer, MCPTool } from "mcp-framework";
import { z } from "zod";
import { McpOAuthConfigError } from "@mcp-oauth/core";
import {
  startTestAuthorizationServer,
  type TestAuthorizationServer,
} from "../../../test/helpers/authorization-server.js";
import { WhoamiTool } from "../../../examples/mcp-framework-server/src/tools.js";
import { DEFAULT_SESSION_LIMITS, OAuthAuthProvider, sessionsFromEnv, type SessionLimits } from "../src/index.js";
import { SessionRegistry, sessionLimits } from "../src/sessions.js";
import { freePort, INITIALIZE, postJson, startFramework, type Started } from "./support.js";

const TOOLS_LIST = { jsonrpc: "2.0", id: 2, method: "tools/list", params: {} } as const;
const PROTOCOL = { "mcp-protocol-version": "2025-06-18" };

let as: TestAuthorizationServer;
beforeAll(async () => {
  as = await startTestAuthorizationServer();
});
afterAll(() => as.close());

interface Running extends Started {
  url: string;
  /** The framework's own session map (HTTP Stream `_transports`, SSE `_sessions`): what it still holds. */
  frameworkSessions(): string[];
  /** HTTP Stream: the MCP SDK transport of a session, as the framework holds it. */
  sdkSession(id: string): Record<string, unknown> | undefined;
}

const running: Running[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.stop()));
});

/** A tool that answers once the test lets it (`release`), after telling it was entered. */
let held: { entered: () => void; release: Promise<void> } | undefined;
class HeldTool extends MCPTool {
  name = "held";
  description = "Answers when the test lets it.";
  schema = z.object({});
  async execute(): Promise<string> {
    held?.entered();
    await held?.release;
    return "done";
  }
}

async function start(
  type: "http-stream" | "sse",
  sessions: Partial<SessionLimits>,
  responseMode: "batch" | "stream" = "stream",
): Promise<Running> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}${type === "sse" ? "/sse" : "/mcp"}`;
  const provider = new OAuthAuthProvider({
    resource: url,
    authorizationServers: [as.issuer],
    scopes: ["mcp:read"],
    sessions,
  });
  const server = new MCPServer({
    name: "limits",
    version: "0.0.0",
    transport: { type, options: { port, host: "127.0.0.1", responseMode, auth: { provider } } },
  });
  server.addTool(WhoamiTool);
  server.addTool(HeldTool);
  const started = await startFramework(server, port);
  const transport = (server as unknown as { bindings: Array<{ transport: Record<string, unknown> }> }).bindings[0]!
    .transport;
  const result = {
    ...started,
    url,
    frameworkSessions: () =>
      type === "sse"
        ? [...(transport["_sessions"] as Map<string, unknown>).keys()]
        : Object.keys(transport["_transports"] as object),
    sdkSession: (id: string) => (transport["_transports"] as Record<string, Record<string, unknown>>)[id],
  };
  running.push(result);
  return result;
}

const bearer = (url: string, sub: string): Record<string, string> => ({
  authorization: `Bearer ${as.mint(url, { sub, scope: "mcp:read" })}`,
});

async function open(url: string, headers: Record<string, string>): Promise<string> {
  const init = await postJson(url, INITIALIZE, headers);
  expect(init.status).toBe(200);
  return init.headers["mcp-session-id"] as string;
}

const use = async (url: string, headers: Record<string, string>, session: string): Promise<number> =>
  (await postJson(url, TOOLS_LIST, { ...headers, ...PROTOCOL, "mcp-session-id": session })).status;

/** An open event stream (GET): resolves once the headers arrived; `ended` when the server ends it. */
function openStream(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; first: Promise<string>; ended: Promise<void>; request: ClientRequest }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { headers: { ...headers, accept: "text/event-stream" }, agent: false });
    request.on("response", (res) => {
      res.setEncoding("utf8");
      const first = new Promise<string>((r) => res.once("data", (chunk: string) => r(chunk)));
      const ended = new Promise<void>((r) => res.once("close", () => r()));
      res.resume();
      resolve({ status: res.statusCode ?? 0, first, ended, request });
    });
    request.on("error", reject);
    request.end();
  });
}

/** Polls until `check` holds (the expiry under test runs on its own timer). */
async function eventually(check: () => Promise<boolean> | boolean): Promise<void> {
  while (!(await check())) await sleep(10);
}

describe("HTTP Stream: sessions per owner", () => {
  it("opening one more than maxPerOwner closes the owner's least recently used session, and only the owner's", async () => {
    const server = await start("http-stream", { maxPerOwner: 2 });
    const alice = bearer(server.url, "alice");
    const bob = bearer(server.url, "bob");
    const bobs = await open(server.url, bob);
    const first = await open(server.url, alice);
    const second = await open(server.url, alice);
    // The first is used again: the second is now the least recently used.
    expect(await use(server.url, alice, first)).toBe(200);
    const third = await open(server.url, alice);
    expect(await use(server.url, alice, second)).toBe(404);
    expect(server.frameworkSessions()).not.toContain(second);
    expect(await use(server.url, alice, first)).toBe(200);
    expect(await use(server.url, alice, third)).toBe(200);
    expect(await use(server.url, bob, bobs)).toBe(200);
    expect(server.frameworkSessions().sort()).toEqual([bobs, first, third].sort());
  });

  it("a flood of sessions from one token keeps at most maxPerOwner of them", async () => {
    const server = await start("http-stream", { maxPerOwner: 3 });
    const alice = bearer(server.url, "alice");
    const opened: string[] = [];
    for (let i = 0; i < 12; i++) opened.push(await open(server.url, alice));
    expect(server.frameworkSessions().sort()).toEqual(opened.slice(-3).sort());
  });
});

describe.each(["batch", "stream"] as const)("HTTP Stream, responseMode %s: a session closed past the bound", (mode) => {
  it("still answers the request it had in flight, then closes", async () => {
    const server = await start("http-stream", { maxPerOwner: 1 }, mode);
    const alice = bearer(server.url, "alice");
    const first = await open(server.url, alice);
    let entered!: () => void;
    let release!: () => void;
    const inTool = new Promise<void>((resolve) => (entered = resolve));
    held = { entered, release: new Promise<void>((resolve) => (release = resolve)) };
    const call = postJson(
      server.url,
      { jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "held", arguments: {} } },
      { ...alice, ...PROTOCOL, "mcp-session-id": first },
    );
    await inTool;
    await open(server.url, alice);
    // No longer the owner's: a new request in it is refused at once.
    expect(await use(server.url, alice, first)).toBe(404);
    release();
    const answer = await call;
    expect([answer.status, answer.body]).toEqual([200, expect.stringContaining('\\"done\\"')]);
    await eventually(() => !server.frameworkSessions().includes(first));
    held = undefined;
  });
});

describe("HTTP Stream, responseMode batch: a session's memory does not grow with its requests", () => {
  it("keeps no entry per answered request (the MCP SDK's JSON mode kept one until the session closed)", async () => {
    const server = await start("http-stream", {}, "batch");
    const alice = bearer(server.url, "alice");
    const session = await open(server.url, alice);
    for (let i = 0; i < 30; i++) expect(await use(server.url, alice, session)).toBe(200);
    const web = server.sdkSession(session)!["_webStandardTransport"] as { _streamMapping: Map<string, unknown> };
    expect(web._streamMapping.size).toBe(0);
  });
});

describe("HTTP Stream: idle sessions expire", () => {
  it("a session idle for idleTimeoutMs is closed, in the framework too", async () => {
    const server = await start("http-stream", { idleTimeoutMs: 50 });
    const alice = bearer(server.url, "alice");
    const session = await open(server.url, alice);
    expect(server.frameworkSessions()).toContain(session);
    await eventually(() => !server.frameworkSessions().includes(session));
    expect(await use(server.url, alice, session)).toBe(404);
  });

  it("a session with a request in flight (its open event stream) is not idle; it expires once the stream ends", async () => {
    // Long enough for the stream to open after initialize on a loaded machine.
    const server = await start("http-stream", { idleTimeoutMs: 500 });
    const alice = bearer(server.url, "alice");
    const session = await open(server.url, alice);
    const stream = await openStream(server.url, { ...alice, ...PROTOCOL, "mcp-session-id": session });
    expect(stream.status).toBe(200);
    // Several idle timeouts pass with the stream open.
    await sleep(1500);
    expect(await use(server.url, alice, session)).toBe(200);
    stream.request.destroy();
    await eventually(() => !server.frameworkSessions().includes(session));
  });
});

describe("SSE: sessions per owner", () => {
  it("opening one more event stream than maxPerOwner ends the owner's least recently used one", async () => {
    const server = await start("sse", { maxPerOwner: 2 });
    const alice = bearer(server.url, "alice");
    const streams = [];
    for (let i = 0; i < 3; i++) {
      const stream = await openStream(server.url, alice);
      expect(stream.status).toBe(200);
      await stream.first;
      streams.push(stream);
    }
    await streams[0]!.ended;
    expect(server.frameworkSessions()).toHaveLength(2);
    for (const stream of streams) stream.request.destroy();
    await eventually(() => server.frameworkSessions().length === 0);
  });
});

describe("the sessions option and its environment variables", () => {
  it("has documented defaults", () => {
    expect(DEFAULT_SESSION_LIMITS).toEqual({ maxPerOwner: 20, idleTimeoutMs: 1_800_000 });
  });

  it.each([
    [{ maxPerOwner: 0 }, /sessions\.maxPerOwner/],
    [{ maxPerOwner: 1.5 }, /sessions\.maxPerOwner/],
    [{ maxPerOwner: Number.NaN }, /sessions\.maxPerOwner/],
    [{ idleTimeoutMs: 0 }, /sessions\.idleTimeoutMs/],
    [{ idleTimeoutMs: -1 }, /sessions\.idleTimeoutMs/],
    [{ idleTimeoutMs: 2 ** 31 }, /sessions\.idleTimeoutMs/],
  ])("refuses %p at construction", (sessions, message) => {
    const make = (): OAuthAuthProvider =>
      new OAuthAuthProvider({ resource: "http://127.0.0.1:1/mcp", authorizationServers: [as.issuer], sessions });
    expect(make).toThrow(McpOAuthConfigError);
    expect(make).toThrow(message);
  });

  it("accepts the bounds of idleTimeoutMs: 1 and 2^31 - 1 milliseconds", () => {
    for (const idleTimeoutMs of [1, 2 ** 31 - 1])
      expect(sessionLimits({ idleTimeoutMs })).toEqual({ maxPerOwner: 20, idleTimeoutMs });
  });

  it("never binds a bound session id again, to another owner", () => {
    const registry = new SessionRegistry({ maxPerOwner: 20, idleTimeoutMs: Infinity }, () => Promise.resolve());
    registry.bind("s1", "alice", { awaitsAnswer: false });
    registry.bind("s1", "mallory", { awaitsAnswer: false });
    expect([registry.ownerOf("s1"), registry.size]).toEqual(["alice", 1]);
  });

  it("accepts Infinity for no bound and no expiry", () => {
    expect(
      () =>
        new OAuthAuthProvider({
          resource: "http://127.0.0.1:1/mcp",
          authorizationServers: [as.issuer],
          sessions: { maxPerOwner: Infinity, idleTimeoutMs: Infinity },
        }),
    ).not.toThrow();
  });

  it("reads OAUTH_SESSIONS_MAX_PER_OWNER and OAUTH_SESSION_IDLE_TIMEOUT_MS", () => {
    expect(sessionsFromEnv({})).toEqual({});
    expect(sessionsFromEnv({ OAUTH_SESSIONS_MAX_PER_OWNER: " 5 ", OAUTH_SESSION_IDLE_TIMEOUT_MS: "60000" })).toEqual({
      maxPerOwner: 5,
      idleTimeoutMs: 60_000,
    });
    expect(sessionsFromEnv({ OAUTH_SESSIONS_MAX_PER_OWNER: "", OAUTH_SESSION_IDLE_TIMEOUT_MS: "infinity" })).toEqual({
      idleTimeoutMs: Infinity,
    });
    expect(() => sessionsFromEnv({ OAUTH_SESSIONS_MAX_PER_OWNER: "many" })).toThrow(/OAUTH_SESSIONS_MAX_PER_OWNER/);
    expect(() => sessionsFromEnv({ OAUTH_SESSION_IDLE_TIMEOUT_MS: "-5" })).toThrow(/OAUTH_SESSION_IDLE_TIMEOUT_MS/);
  });
});

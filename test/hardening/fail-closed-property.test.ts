/**
 * Fail closed, as a property (fast-check), on every host: Express, a plain node:http server
 * (the middlewares over `http.createServer`), and each mcp-framework transport (HTTP Stream
 * with batch and with stream responses, SSE) behind the bridge. Over methods (odd ones
 * included), header combinations (`Origin` allowed, refused, empty or absent;
 * `Access-Control-Request-Method`/`-Headers`; `Authorization` valid, invalid, empty,
 * duplicated, another scheme, absent; an API key where the bridge has `alsoAccept`), bodies
 * and path spellings (letter case, trailing and doubled slashes, `%6Dcp`, absolute-form,
 * asterisk-form, the SSE message path, the metadata paths), sent byte for byte over raw
 * sockets: every request gets exactly the library's answer (metadata, 204/403 preflight,
 * 400/401/403/405/415) or reaches the handler with the verdict it earned, which the handler
 * records and checks; nothing throws, nothing hangs, and the server answers afterwards.
 *
 * On mcp-framework the handler is a probe between the bridge and the framework's own
 * listener: the provider's transport hook is replaced by the same bridge (`createBridge`,
 * same resource server and options) wrapped around the probe.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import express from "express";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { APIKeyAuthProvider, logger, MCPServer } from "mcp-framework";
import { ERROR_RESPONSES, type AuthInfo } from "@mcp-oauth/core";
import { mcpOAuth, type McpOAuthMiddlewareOptions } from "@mcp-oauth/express";
import { OAuthAuthProvider } from "@mcp-oauth/mcp-framework";
import { createBridge } from "../../packages/mcp-framework/src/bridge.js";
import { registerProvider, type RequestListener } from "../../packages/mcp-framework/src/framework-internals.js";
import { bridged } from "../../packages/mcp-framework/src/verdicts.js";
import { DEFAULT_SESSION_LIMITS } from "../../packages/mcp-framework/src/sessions.js";
import { WhoamiTool, WriteNoteTool } from "../../examples/mcp-framework-server/src/tools.js";
import { startTestAuthorizationServer, type TestAuthorizationServer } from "../helpers/authorization-server.js";
import { freePort } from "../helpers/listen.js";
import { rawSocketRequest, type RawSocketResponse } from "../helpers/raw-socket.js";
import { watchUnhandledRejections, within, type RejectionWatch } from "./support.js";

// The framework logs every request at INFO; a failure's output should show the counterexample.
logger.info = () => {};
logger.warn = () => {};

const RUNS = { numRuns: 100 };
const APP = "https://app.example.com";
const EVIL = "https://evil.example.com";
const API_KEY = "key-for-the-property";
const POLICY = { tools: { write_note: ["mcp:write"] } };

type OriginKind = "none" | "app" | "own" | "evil" | "null" | "empty";
type AuthKind = "none" | "valid" | "invalid" | "empty" | "duplicated" | "basic" | "apikey";
type BodyKind = "none" | "initialize" | "write_note" | "utf7" | "garbage";

interface RequestSpec {
  method: string;
  path: string;
  origin: OriginKind;
  requestMethod: "none" | "POST" | "empty";
  requestHeaders: boolean;
  auth: AuthKind;
  body: BodyKind;
}

interface Target {
  name: string;
  port: number;
  resource: string;
  /** Paths the metadata document is served at (answered whatever the method and headers). */
  metadataPaths: readonly string[];
  /** Whether an API key earns a verdict (the bridge's `alsoAccept`). */
  apiKey: boolean;
  /** Requests the handler saw without the verdict it asserts: must stay empty. */
  violations: string[];
  close(): Promise<void>;
}

const INITIALIZE = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "property", version: "0" } },
});
const WRITE_NOTE = JSON.stringify({
  jsonrpc: "2.0",
  id: 2,
  method: "tools/call",
  params: { name: "write_note", arguments: { text: "x" } },
});
/** `write_note` only to a reader honouring charset=utf-7 (see packages/*\/test/body-encoding.test.ts). */
const UTF7 =
  '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"arguments":{"text":"x"},' +
  '"name":"whoami+ACI-,+ACI-name+ACI-:+ACI-write_note"}}';

let as: TestAuthorizationServer;
let rejections: RejectionWatch;
const targets: Target[] = [];

/** What the handler puts on its answer: the verdict it saw (`x-verdict`). */
function recordVerdict(
  violations: string[],
  req: IncomingMessage,
  res: ServerResponse,
  verdict: string | undefined,
): boolean {
  if (verdict === undefined) {
    violations.push(`${req.method} ${req.url} reached the handler without a verdict`);
    res.statusCode = 599;
    return false;
  }
  res.setHeader("x-verdict", verdict);
  return true;
}

function subOf(auth: AuthInfo | undefined): string | undefined {
  const sub = (auth?.extra as { sub?: unknown } | undefined)?.sub;
  return typeof sub === "string" ? sub : undefined;
}

async function expressTarget(kind: "express" | "node:http"): Promise<Target> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  const resource = `http://127.0.0.1:${port}/mcp`;
  const options: McpOAuthMiddlewareOptions = {
    resource,
    authorizationServers: [as.issuer],
    scopePolicy: POLICY,
    cors: { allowedOrigins: [APP] },
  };
  const oauth = mcpOAuth(options);
  const violations: string[] = [];
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const auth = (req as IncomingMessage & { auth?: AuthInfo }).auth;
    recordVerdict(violations, req, res, subOf(auth));
    res.end("reached");
  };
  if (kind === "express") {
    const app = express();
    app.use(oauth);
    // No body parser: one after mcpOAuth would answer a body it cannot parse (on any method)
    // before the handler; body handling is body-encoding.test.ts's (packages/express).
    app.use((req, res) => handler(req, res));
    server.on("request", app);
  } else {
    server.on("request", (req: IncomingMessage, res: ServerResponse) => oauth(req, res, () => handler(req, res)));
  }
  return {
    name: kind,
    port,
    resource,
    metadataPaths: oauth.resourceServer.metadataPaths,
    apiKey: false,
    violations,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function frameworkTarget(transport: "http-stream" | "sse", responseMode: "batch" | "stream"): Promise<Target> {
  const port = await freePort();
  const endpoint = transport === "sse" ? "/sse" : "/mcp";
  const resource = `http://127.0.0.1:${port}${endpoint}`;
  const alsoAccept = [new APIKeyAuthProvider({ keys: [API_KEY] })];
  const provider = new OAuthAuthProvider({
    resource,
    authorizationServers: [as.issuer],
    scopePolicy: POLICY,
    cors: { allowedOrigins: [APP] },
    alsoAccept,
  });
  const violations: string[] = [];
  // The probe between the bridge and the framework's listener.
  const bridge = createBridge(provider.resourceServer, {
    alsoAccept,
    cors: { allowedOrigins: [APP] },
    sessions: DEFAULT_SESSION_LIMITS,
  });
  registerProvider(provider, (frameworkTransport) => {
    const wrap = bridge(frameworkTransport);
    return (listener: RequestListener) =>
      wrap((req, res) => {
        const context = bridged.get(req) as { sub?: unknown } | undefined;
        const verdict =
          context === undefined ? undefined : typeof context.sub === "string" ? context.sub : "also-accept";
        if (recordVerdict(violations, req, res, verdict)) listener(req, res);
        else res.end();
      });
  });
  const server = new MCPServer({
    name: "fail-closed-property",
    version: "0.0.0",
    transport:
      transport === "sse"
        ? { type: "sse", options: { port, endpoint: "/sse", messageEndpoint: "/messages", auth: { provider } } }
        : { type: "http-stream", options: { port, endpoint: "/mcp", responseMode, auth: { provider } } },
  });
  server.addTool(WhoamiTool);
  server.addTool(WriteNoteTool);
  let failure: unknown;
  const running = server.start().catch((error: unknown) => {
    failure = error;
  });
  for (let i = 0; ; i++) {
    if (failure !== undefined) throw failure;
    const res = await rawSocketRequest(port, "GET", "/health").catch(() => undefined);
    if (res !== undefined) break;
    if (i > 500) throw new Error(`${transport} did not start`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    name: `mcp-framework ${transport}${transport === "http-stream" ? ` (${responseMode})` : ""}`,
    port,
    resource,
    metadataPaths: provider.resourceServer.metadataPaths,
    apiKey: true,
    violations,
    close: async () => {
      await server.stop();
      await running;
    },
  };
}

beforeAll(async () => {
  as = await startTestAuthorizationServer();
  targets.push(
    await expressTarget("express"),
    await expressTarget("node:http"),
    await frameworkTarget("http-stream", "batch"),
    await frameworkTarget("http-stream", "stream"),
    await frameworkTarget("sse", "batch"),
  );
  rejections = watchUnhandledRejections();
}, 60_000);
afterAll(async () => {
  rejections.stop();
  await Promise.all(targets.map((t) => t.close()));
  await as.close();
});

const request: fc.Arbitrary<RequestSpec> = fc.record({
  method: fc.constantFrom("GET", "POST", "DELETE", "OPTIONS", "HEAD", "PUT", "PATCH", "PROPFIND", "M-SEARCH", "PURGE"),
  path: fc.constantFrom(
    "{endpoint}",
    "/mcp",
    "/MCP",
    "/mcp/",
    "//mcp",
    "/%6Dcp",
    "/x/../mcp",
    "{absolute}",
    "*",
    "/sse",
    "/messages?sessionId=x",
    "/health",
    "/",
    "/.well-known/oauth-protected-resource",
    "/.well-known/oauth-protected-resource{endpoint}",
    "/.well-known/OAUTH-protected-resource{endpoint}",
  ),
  origin: fc.constantFrom<OriginKind>("none", "app", "own", "evil", "null", "empty"),
  requestMethod: fc.constantFrom("none", "POST", "empty"),
  requestHeaders: fc.boolean(),
  auth: fc.constantFrom<AuthKind>("none", "valid", "invalid", "empty", "duplicated", "basic", "apikey"),
  body: fc.constantFrom<BodyKind>("none", "initialize", "write_note", "utf7", "garbage"),
});

/** The request target on the wire. */
function targetOf(spec: RequestSpec, target: Target): string {
  const endpoint = new URL(target.resource).pathname;
  return spec.path.replace("{absolute}", `http://127.0.0.1:${target.port}${endpoint}`).replace("{endpoint}", endpoint);
}

function send(spec: RequestSpec, target: Target): Promise<RawSocketResponse> {
  const headers: Record<string, string> = {};
  const origin = {
    none: undefined,
    app: APP,
    own: new URL(target.resource).origin,
    evil: EVIL,
    null: "null",
    empty: "",
  }[spec.origin];
  if (origin !== undefined) headers["Origin"] = origin;
  if (spec.requestMethod !== "none")
    headers["Access-Control-Request-Method"] = spec.requestMethod === "POST" ? "POST" : "";
  if (spec.requestHeaders) headers["Access-Control-Request-Headers"] = "authorization, content-type";
  const extraHeaderLines: [string, string][] = [];
  const valid = `Bearer ${as.mint(target.resource)}`;
  if (spec.auth === "valid") headers["Authorization"] = valid;
  if (spec.auth === "invalid") headers["Authorization"] = "Bearer not-a-token";
  if (spec.auth === "empty") headers["Authorization"] = "";
  if (spec.auth === "basic") headers["Authorization"] = "Basic dXNlcjpwYXNz";
  if (spec.auth === "duplicated") extraHeaderLines.push(["Authorization", valid], ["Authorization", valid]);
  if (spec.auth === "apikey") headers["X-API-Key"] = API_KEY;
  let body: string | undefined;
  if (spec.body !== "none") {
    headers["Content-Type"] = spec.body === "utf7" ? "application/json; charset=utf-7" : "application/json";
    headers["Accept"] = "application/json, text/event-stream";
    body = { initialize: INITIALIZE, write_note: WRITE_NOTE, utf7: UTF7, garbage: "{not json" }[spec.body];
  }
  return within(
    rawSocketRequest(target.port, spec.method, targetOf(spec, target), {
      headers,
      extraHeaderLines,
      ...(body !== undefined ? { body } : {}),
    }),
    5000,
    `${spec.method} ${targetOf(spec, target)}`,
  );
}

type Expected = { reach: string } | { status: number; error?: string; preflight?: string; metadata?: true };

/** What the library must do with the request: the oracle, from the rules alone. */
function expected(spec: RequestSpec, target: Target): Expected {
  const wire = targetOf(spec, target);
  const path = wire.startsWith("http://") ? new URL(wire).pathname : wire.split("?")[0]!;
  if (target.metadataPaths.includes(path)) {
    if (spec.method === "GET" || spec.method === "HEAD") return { status: 200, metadata: true };
    if (spec.method === "OPTIONS") return { status: 204 };
    return { status: 405 };
  }
  const origin = {
    none: undefined,
    app: APP,
    own: new URL(target.resource).origin,
    evil: EVIL,
    null: "null",
    empty: "",
  }[spec.origin];
  if (origin !== undefined && origin !== APP && origin !== new URL(target.resource).origin)
    return { status: 403, error: "access_denied" };
  if (spec.method === "OPTIONS" && origin !== undefined && spec.requestMethod === "POST")
    return { status: 204, preflight: origin };
  let verdict: string;
  switch (spec.auth) {
    case "valid":
      verdict = "alice";
      break;
    case "duplicated":
      return { status: 400, error: "invalid_request" };
    case "invalid":
      return { status: 401, error: "invalid_token" };
    case "basic":
      return { status: 401, error: "unauthorized" };
    case "apikey":
      if (!target.apiKey) return { status: 401, error: "unauthorized" };
      verdict = "also-accept";
      break;
    default:
      return { status: 401, error: "unauthorized" };
  }
  if (spec.method === "POST") {
    if (spec.body === "utf7") return { status: 415, error: "invalid_request" };
    if (spec.body === "garbage") return { status: 400, error: "invalid_request" };
    // alsoAccept callers have no scopes: the scope policy is OAuth's.
    if (spec.body === "write_note" && verdict === "alice") return { status: 403, error: "insufficient_scope" };
  }
  return { reach: verdict };
}

function check(spec: RequestSpec, target: Target, res: RawSocketResponse): void {
  const want = expected(spec, target);
  const context = { target: target.name, spec, status: res.status, verdict: res.headers["x-verdict"] };
  if ("reach" in want) {
    expect(context).toEqual({ ...context, verdict: want.reach });
    return;
  }
  expect(context).toEqual({ ...context, status: want.status, verdict: undefined });
  if (want.preflight !== undefined) expect(res.headers["access-control-allow-origin"]).toBe(want.preflight);
  if (spec.method === "HEAD" || want.status === 204) return;
  const body = JSON.parse(res.body) as Record<string, unknown>;
  if (want.metadata) {
    expect(body["resource"]).toBe(target.resource);
    return;
  }
  // The library's JSON shape, with a description from the one table (405: the metadata endpoint's own).
  expect(Object.keys(body).sort()).toEqual(["error", "error_description"]);
  if (want.error === undefined) return;
  const known = Object.values(ERROR_RESPONSES).some(
    (row) => row.error === body["error"] && row.description === body["error_description"],
  );
  expect({ ...context, body, known }).toEqual({ ...context, body: { ...body, error: want.error }, known: true });
}

describe("every request gets the library's answer or reaches the handler with its verdict", () => {
  it.each([
    "express",
    "node:http",
    "mcp-framework http-stream (batch)",
    "mcp-framework http-stream (stream)",
    "mcp-framework sse",
  ])(
    "%s",
    async (name) => {
      const target = targets.find((t) => t.name === name)!;
      await fc.assert(
        fc.asyncProperty(request, async (spec) => {
          check(spec, target, await send(spec, target));
        }),
        RUNS,
      );
      expect(target.violations).toEqual([]);
      expect(rejections.reasons).toEqual([]);
      // Still alive.
      const alive = await within(rawSocketRequest(target.port, "GET", new URL(target.resource).pathname), 5000);
      expect(alive.status).toBe(401);
    },
    120_000,
  );
});

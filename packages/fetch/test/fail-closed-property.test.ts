/**
 * Fail closed, as a property (fast-check), on the Fetch adapter: `mcpOAuthHono()` in a Hono
 * app and `createFetchProtection().handle()` in a bare fetch handler, both on
 * @hono/node-server. Over methods, `Origin` (allowed, own, refused, `null`, empty, absent),
 * `Access-Control-Request-*`, `Authorization` (valid, invalid, empty, duplicated, another
 * scheme, absent), bodies (including another charset) and path spellings, sent byte for byte
 * over raw sockets: every request gets the library's answer or reaches the handler with the
 * verdict it earned, which the handler checks; nothing hangs, and the server answers afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { Hono } from "hono";
import { serve, type ServerType } from "@hono/node-server";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ERROR_RESPONSES, type AuthInfo } from "@mcp-oauth/core";
import { createFetchProtection, type FetchProtectionOptions } from "@mcp-oauth/fetch";
import { mcpOAuthHono, type McpOAuthHonoVariables } from "@mcp-oauth/fetch/hono";
import {
  startTestAuthorizationServer,
  type TestAuthorizationServer,
} from "../../../test/helpers/authorization-server.js";
import { freePort } from "../../../test/helpers/listen.js";
import { rawSocketRequest, type RawSocketResponse } from "../../../test/helpers/raw-socket.js";
import { within } from "../../../test/hardening/support.js";

const APP = "https://app.example.com";
const WRITE_NOTE = JSON.stringify({
  jsonrpc: "2.0",
  id: 2,
  method: "tools/call",
  params: { name: "write_note", arguments: { text: "x" } },
});
const WHOAMI = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "whoami" } });

interface Target {
  name: string;
  port: number;
  resource: string;
  metadataPaths: readonly string[];
  violations: string[];
  server: ServerType;
}

let as: TestAuthorizationServer;
const targets: Target[] = [];

/** The handler behind the protection: records a request without a verdict, echoes the subject and the body it got. */
async function reached(violations: string[], request: Request, auth: AuthInfo | undefined): Promise<Response> {
  const sub = (auth?.extra as { sub?: unknown } | undefined)?.sub;
  if (typeof sub !== "string") {
    violations.push(`${request.method} ${request.url} reached the handler without a verdict`);
    return new Response(null, { status: 599 });
  }
  return new Response(await request.text(), { status: 200, headers: { "x-verdict": sub } });
}

async function start(
  name: string,
  build: (options: FetchProtectionOptions, violations: string[]) => (r: Request) => Response | Promise<Response>,
): Promise<Target> {
  const port = await freePort();
  const resource = `http://127.0.0.1:${port}/mcp`;
  const options: FetchProtectionOptions = {
    resource,
    authorizationServers: [as.issuer],
    scopePolicy: { tools: { write_note: ["mcp:write"] } },
    cors: { allowedOrigins: [APP] },
  };
  const violations: string[] = [];
  const server = serve({ fetch: build(options, violations), port, hostname: "127.0.0.1" });
  await new Promise<void>((resolve) => server.once("listening", resolve));
  expect((server.address() as AddressInfo).port).toBe(port);
  const metadataPaths = ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"];
  return { name, port, resource, metadataPaths, violations, server };
}

beforeAll(async () => {
  as = await startTestAuthorizationServer();
  targets.push(
    await start("hono", (options, violations) => {
      const app = new Hono<{ Variables: McpOAuthHonoVariables }>();
      app.use(mcpOAuthHono(options));
      app.all("*", (c) => reached(violations, c.req.raw, c.get("authInfo")));
      return (request) => app.fetch(request);
    }),
    await start("fetch handler", (options, violations) => {
      const protection = createFetchProtection(options);
      return async (request) => {
        const outcome = await protection.handle(request);
        if (outcome instanceof Response) return outcome;
        return protection.finish(outcome.request, await reached(violations, outcome.request, outcome.authInfo));
      };
    }),
  );
}, 60_000);

afterAll(async () => {
  for (const { server } of targets) {
    (server as Server).closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  await as?.close();
});

type OriginKind = "none" | "app" | "own" | "evil" | "null" | "empty";
interface Spec {
  method: string;
  path: string;
  origin: OriginKind;
  requestMethod: "none" | "POST" | "empty";
  auth: "none" | "valid" | "invalid" | "empty" | "duplicated" | "basic";
  body: "none" | "whoami" | "write_note" | "utf7" | "garbage";
}

const spec: fc.Arbitrary<Spec> = fc.record({
  method: fc.constantFrom("GET", "POST", "DELETE", "OPTIONS", "HEAD", "PUT", "PATCH", "PROPFIND"),
  path: fc.constantFrom(
    "/mcp",
    "/MCP",
    "/mcp/",
    "//mcp",
    "/%6Dcp",
    "/x/../mcp",
    "{absolute}",
    "/",
    "/other?x=1",
    "/.well-known/oauth-protected-resource",
    "/.well-known/oauth-protected-resource/mcp",
    "/.well-known/OAUTH-protected-resource/mcp",
  ),
  origin: fc.constantFrom<OriginKind>("none", "app", "own", "evil", "null", "empty"),
  requestMethod: fc.constantFrom("none", "POST", "empty"),
  auth: fc.constantFrom("none", "valid", "invalid", "empty", "duplicated", "basic"),
  body: fc.constantFrom("none", "whoami", "write_note", "utf7", "garbage"),
});

function originOf(kind: OriginKind, target: Target): string | undefined {
  return {
    none: undefined,
    app: APP,
    own: new URL(target.resource).origin,
    evil: "https://evil.example",
    null: "null",
    empty: "",
  }[kind];
}

type Expected = { reach: string } | { status: number; error?: string; metadata?: true };

/** The oracle, from the rules alone (the same as test/hardening/fail-closed-property.test.ts). */
function expected(s: Spec, target: Target, wire: string): Expected {
  const path = new URL(wire, `http://127.0.0.1:${target.port}`).pathname;
  if (target.metadataPaths.includes(path)) {
    if (s.method === "GET" || s.method === "HEAD") return { status: 200, metadata: true };
    return s.method === "OPTIONS" ? { status: 204 } : { status: 405 };
  }
  const origin = originOf(s.origin, target);
  if (origin !== undefined && origin !== APP && origin !== new URL(target.resource).origin)
    return { status: 403, error: "access_denied" };
  if (s.method === "OPTIONS" && origin !== undefined && s.requestMethod === "POST") return { status: 204 };
  if (s.auth === "duplicated") return { status: 400, error: "invalid_request" };
  if (s.auth === "invalid") return { status: 401, error: "invalid_token" };
  if (s.auth !== "valid") return { status: 401, error: "unauthorized" };
  if (s.method === "POST") {
    if (s.body === "utf7") return { status: 415, error: "invalid_request" };
    if (s.body === "garbage") return { status: 400, error: "invalid_request" };
    if (s.body === "write_note") return { status: 403, error: "insufficient_scope" };
  }
  return { reach: "alice" };
}

async function checkOne(s: Spec, target: Target): Promise<void> {
  const wire = s.path === "{absolute}" ? `http://127.0.0.1:${target.port}/mcp` : s.path;
  const headers: Record<string, string> = {};
  const origin = originOf(s.origin, target);
  if (origin !== undefined) headers["Origin"] = origin;
  if (s.requestMethod !== "none") headers["Access-Control-Request-Method"] = s.requestMethod === "POST" ? "POST" : "";
  const valid = `Bearer ${as.mint(target.resource)}`;
  const extraHeaderLines: [string, string][] = [];
  if (s.auth === "valid") headers["Authorization"] = valid;
  if (s.auth === "invalid") headers["Authorization"] = "Bearer not-a-token";
  if (s.auth === "empty") headers["Authorization"] = "";
  if (s.auth === "basic") headers["Authorization"] = "Basic dXNlcjpwYXNz";
  if (s.auth === "duplicated") extraHeaderLines.push(["Authorization", valid], ["Authorization", valid]);
  let body: string | undefined;
  if (s.body !== "none") {
    headers["Content-Type"] = s.body === "utf7" ? "application/json; charset=utf-7" : "application/json";
    body = { whoami: WHOAMI, write_note: WRITE_NOTE, utf7: WRITE_NOTE, garbage: "{not json" }[s.body];
  }
  const res: RawSocketResponse = await within(
    rawSocketRequest(target.port, s.method, wire, {
      headers,
      extraHeaderLines,
      ...(body !== undefined ? { body } : {}),
    }),
    5000,
    `${s.method} ${wire}`,
  );
  const want = expected(s, target, wire);
  const context = { target: target.name, spec: s, status: res.status, verdict: res.headers["x-verdict"] };
  if ("reach" in want) {
    expect(context).toEqual({ ...context, status: 200, verdict: want.reach });
    // The body the handler got is the body sent (GET and HEAD have none).
    if (s.method === "POST" || s.method === "PUT" || s.method === "PATCH") expect(res.body).toBe(body ?? "");
    return;
  }
  expect(context).toEqual({ ...context, status: want.status, verdict: undefined });
  if (s.method === "HEAD" || want.status === 204) return;
  const answer = JSON.parse(res.body) as Record<string, unknown>;
  if (want.metadata) {
    expect(answer["resource"]).toBe(target.resource);
    return;
  }
  expect(Object.keys(answer).sort()).toEqual(["error", "error_description"]);
  if (want.error === undefined) return;
  const known = Object.values(ERROR_RESPONSES).some(
    (row) => row.error === answer["error"] && row.description === answer["error_description"],
  );
  expect({ ...context, answer, known }).toEqual({ ...context, answer: { ...answer, error: want.error }, known: true });
}

describe("every request gets the library's answer or reaches the handler with its verdict", () => {
  it.each(["hono", "fetch handler"])(
    "%s",
    async (name) => {
      const target = targets.find((t) => t.name === name)!;
      await fc.assert(
        fc.asyncProperty(spec, (s) => checkOne(s, target)),
        { numRuns: 100 },
      );
      expect(target.violations).toEqual([]);
      const alive = await within(rawSocketRequest(target.port, "GET", "/mcp"), 5000);
      expect(alive.status).toBe(401);
    },
    120_000,
  );
});

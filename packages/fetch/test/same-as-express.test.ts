/**
 * The Fetch adapter answers as the Express middleware does: the same requests, sent to
 * `mcpOAuth()` on node:http and to `createFetchProtection()` on @hono/node-server with the
 * same options, get the same status, the same body and the same headers (all but the
 * transport's own: date, connection, length). Refusals, preflights, the metadata documents,
 * and the CORS headers of a request that goes on all come from the core's decisions; this
 * test keeps the two writers of those decisions equal.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { serve, type ServerType } from "@hono/node-server";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import { mcpOAuth } from "@mcp-oauth/express";
import { createFetchProtection, type FetchProtection } from "@mcp-oauth/fetch";
import {
  startTestAuthorizationServer,
  type TestAuthorizationServer,
} from "../../../test/helpers/authorization-server.js";

const RESOURCE = "https://mcp.example/mcp";
const BODY_LIMIT = 2048;
const TRANSPORT_HEADERS = new Set(["date", "connection", "keep-alive", "content-length", "transfer-encoding"]);

let as: TestAuthorizationServer;
let express: Server;
let web: ServerType;
let expressUrl: string;
let webUrl: string;
let protection: FetchProtection;

beforeAll(async () => {
  as = await startTestAuthorizationServer();
  const shared = {
    resource: RESOURCE,
    authorizationServers: [as.issuer],
    scopes: ["mcp:read"],
    scopePolicy: { tools: { write_note: ["mcp:write"] } },
    cors: { allowedOrigins: ["https://app.example"] },
  };
  const middleware = mcpOAuth({ ...shared, requireScopes: { bodyLimit: BODY_LIMIT } });
  express = createServer((req, res) =>
    middleware(req, res, () => {
      res.statusCode = 200;
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ reached: true }));
    }),
  );
  await new Promise<void>((resolve) => express.listen(0, "127.0.0.1", resolve));
  expressUrl = `http://127.0.0.1:${(express.address() as AddressInfo).port}`;

  protection = createFetchProtection({ ...shared, bodyLimitBytes: BODY_LIMIT });
  web = serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: async (request) => {
      const outcome = await protection.handle(request);
      if (outcome instanceof Response) return outcome;
      return protection.finish(outcome.request, Response.json({ reached: true }));
    },
  });
  await new Promise<void>((resolve) => web.once("listening", resolve));
  webUrl = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
});

afterAll(async () => {
  express?.closeAllConnections();
  await new Promise((resolve) => express?.close(resolve));
  (web as Server | undefined)?.closeAllConnections();
  await new Promise((resolve) => web?.close(resolve));
  await as?.close();
});

interface Seen {
  status: number;
  body: string;
  headers: Record<string, string>;
}

async function send(base: string, path: string, init: RequestInit): Promise<Seen> {
  const res = await fetch(base + path, init);
  const headers: Record<string, string> = {};
  for (const [name, value] of res.headers) if (!TRANSPORT_HEADERS.has(name)) headers[name] = value;
  return { status: res.status, body: await res.text(), headers };
}

const json = (body: unknown): string => JSON.stringify(body);
const call = (name: string): string =>
  json({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name, arguments: {} } });
const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });
const JSON_TYPE = { "content-type": "application/json" };

const cases: [string, string, () => RequestInit][] = [
  ["GET without a token", "/mcp", () => ({})],
  ["HEAD without a token", "/mcp", () => ({ method: "HEAD" })],
  [
    "POST without a token, allowed origin",
    "/mcp",
    () => ({ method: "POST", headers: { origin: "https://app.example" } }),
  ],
  ["POST from a disallowed origin", "/mcp", () => ({ method: "POST", headers: { origin: "https://evil.example" } })],
  [
    "a preflight from an allowed origin",
    "/mcp",
    () => ({
      method: "OPTIONS",
      headers: {
        origin: "https://app.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization",
      },
    }),
  ],
  [
    "a preflight from a disallowed origin",
    "/mcp",
    () => ({ method: "OPTIONS", headers: { origin: "https://evil.example", "access-control-request-method": "POST" } }),
  ],
  [
    "an OPTIONS that is no preflight",
    "/mcp",
    () => ({ method: "OPTIONS", headers: { "access-control-request-method": "POST" } }),
  ],
  [
    "the path-suffixed metadata",
    "/.well-known/oauth-protected-resource/mcp",
    () => ({ headers: { origin: "https://x.example" } }),
  ],
  ["the root metadata, HEAD", "/.well-known/oauth-protected-resource", () => ({ method: "HEAD" })],
  [
    "OPTIONS at the metadata",
    "/.well-known/oauth-protected-resource/mcp",
    () => ({
      method: "OPTIONS",
      headers: {
        origin: "https://x.example",
        "access-control-request-method": "GET",
        "access-control-request-headers": "x-a",
      },
    }),
  ],
  ["POST at the metadata", "/.well-known/oauth-protected-resource", () => ({ method: "POST" })],
  ["a token that is no JWT", "/mcp", () => ({ headers: bearer("abc") })],
  ["a malformed Authorization header", "/mcp", () => ({ headers: { authorization: "Bearer a b" } })],
  ["another scheme", "/mcp", () => ({ headers: { authorization: "Basic eDp5" } })],
  ["a token in the query too", "/mcp?access_token=x", () => ({ headers: bearer(as.mint(RESOURCE)) })],
  [
    "a token in a form body",
    "/mcp",
    () => ({
      method: "POST",
      headers: { ...bearer(as.mint(RESOURCE)), "content-type": "application/x-www-form-urlencoded" },
      body: "access_token=x",
    }),
  ],
  [
    "an expired token",
    "/mcp",
    () => ({ headers: bearer(as.mint(RESOURCE, { exp: Math.floor(Date.now() / 1000) - 60 })) }),
  ],
  ["a token of another resource", "/mcp", () => ({ headers: bearer(as.mint("https://other.example/mcp")) })],
  ["a token without the base scope", "/mcp", () => ({ headers: bearer(as.mint(RESOURCE, { scope: "other" })) })],
  [
    "write_note without mcp:write (step-up)",
    "/mcp",
    () => ({
      method: "POST",
      headers: { ...bearer(as.mint(RESOURCE)), ...JSON_TYPE, origin: "https://app.example" },
      body: call("write_note"),
    }),
  ],
  [
    "write_note with mcp:write",
    "/mcp",
    () => ({
      method: "POST",
      headers: {
        ...bearer(as.mint(RESOURCE, { scope: "mcp:read mcp:write" })),
        ...JSON_TYPE,
        origin: "https://app.example",
      },
      body: call("write_note"),
    }),
  ],
  [
    "whoami with mcp:read, no origin",
    "/mcp",
    () => ({ method: "POST", headers: { ...bearer(as.mint(RESOURCE)), ...JSON_TYPE }, body: call("whoami") }),
  ],
  [
    "a body in charset utf-7",
    "/mcp",
    () => ({
      method: "POST",
      headers: { ...bearer(as.mint(RESOURCE)), "content-type": "application/json; charset=utf-7" },
      body: call("whoami"),
    }),
  ],
  [
    "a gzip body",
    "/mcp",
    () => ({
      method: "POST",
      headers: { ...bearer(as.mint(RESOURCE)), ...JSON_TYPE, "content-encoding": "gzip" },
      body: gzipSync(call("whoami")),
    }),
  ],
  [
    "a media type that only mentions JSON",
    "/mcp",
    () => ({
      method: "POST",
      headers: { ...bearer(as.mint(RESOURCE)), "content-type": "text/plain; x=application/json" },
      body: call("write_note"),
    }),
  ],
  [
    "a body that is no JSON",
    "/mcp",
    () => ({ method: "POST", headers: { ...bearer(as.mint(RESOURCE)), ...JSON_TYPE }, body: "{" }),
  ],
  [
    "a body over the limit",
    "/mcp",
    () => ({
      method: "POST",
      headers: { ...bearer(as.mint(RESOURCE)), ...JSON_TYPE },
      body: json({ jsonrpc: "2.0", id: 1, method: "ping", params: { pad: "x".repeat(BODY_LIMIT) } }),
    }),
  ],
];

describe("createFetchProtection answers as mcpOAuth does", () => {
  it.each(cases)("%s", async (_name, path, init) => {
    const request = init();
    const [fromExpress, fromFetch] = await Promise.all([send(expressUrl, path, request), send(webUrl, path, request)]);
    expect(fromFetch).toEqual(fromExpress);
  });
});

describe("what the application gets", () => {
  it("a request whose body is still readable and is the bytes judged", async () => {
    const body = call("whoami");
    const outcome = await protection.handle(
      new Request(`${webUrl}/mcp`, {
        method: "POST",
        headers: { ...bearer(as.mint(RESOURCE)), ...JSON_TYPE },
        body,
      }),
    );
    if (outcome instanceof Response) throw new Error(`refused: ${outcome.status}`);
    expect(await outcome.request.text()).toBe(body);
    expect(outcome.authInfo.scopes).toEqual(["mcp:read"]);
    expect(outcome.authInfo.resource?.href).toBe(RESOURCE);
  });

  it("never a verdict for a request the policy refused, whatever the body's spelling", async () => {
    const outcome = await protection.handle(
      new Request(`${webUrl}/mcp`, {
        method: "POST",
        headers: { ...bearer(as.mint(RESOURCE)), "content-type": 'APPLICATION/JSON; Charset="UTF-8"' },
        body: `\uFEFF${call("write_note")}`,
      }),
    );
    expect(outcome).toBeInstanceOf(Response);
    expect((outcome as Response).status).toBe(403);
  });
});

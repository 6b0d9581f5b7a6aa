/**
 * A token the cache already knows is decided synchronously: next() (or the refusal) happens
 * before the middleware returns, with no promise in between.
 */
import { afterAll, beforeAll, expect, it } from "@jest/globals";
import type { IncomingMessage, ServerResponse } from "node:http";
import { requireBearer, requireScopes, ResourceServer } from "@mcp-oauth/express";
import {
  startTestAuthorizationServer,
  type TestAuthorizationServer,
} from "../../../test/helpers/authorization-server.js";

const RESOURCE = "http://127.0.0.1:4888/mcp";
let as: TestAuthorizationServer;
beforeAll(async () => {
  as = await startTestAuthorizationServer();
});
afterAll(() => as.close());

function call(
  mw: (req: IncomingMessage, res: ServerResponse, next: (e?: unknown) => void) => void,
  token: string,
  body?: unknown,
): { sync: boolean; status: number | undefined; done: Promise<void> } {
  const req = {
    method: "POST",
    url: "/mcp",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    rawHeaders: [],
    body,
  } as unknown as IncomingMessage;
  let resolve!: () => void;
  const done = new Promise<void>((r) => {
    resolve = r;
  });
  const res = {
    statusCode: 200,
    headersSent: false,
    setHeader() {},
    removeHeader() {},
    getHeader() {
      return undefined;
    },
    end() {
      resolve();
    },
    destroy() {
      resolve();
    },
  } as unknown as ServerResponse;
  let finished = false;
  mw(req, res, () => {
    finished = true;
    resolve();
  });
  const endedSync = (res as { statusCode: number }).statusCode !== 200;
  return { sync: finished || endedSync, status: finished ? 200 : (res as { statusCode: number }).statusCode, done };
}

it("decides a cached valid token, and a remembered rejection, before returning", async () => {
  const server = new ResourceServer({ resource: RESOURCE, authorizationServers: [as.issuer], scopes: ["mcp:read"] });
  const bearer = requireBearer(server);
  const good = as.mint(RESOURCE);
  const first = call(bearer, good);
  expect(first.sync).toBe(false);
  await first.done;
  expect(call(bearer, good)).toMatchObject({ sync: true, status: 200 });

  const wrongAudience = as.mint("http://127.0.0.1:4888/other");
  await call(bearer, wrongAudience).done;
  expect(call(bearer, wrongAudience)).toMatchObject({ sync: true, status: 401 });

  const noScope = as.mint(RESOURCE, { scope: "other" });
  await call(bearer, noScope).done;
  expect(call(bearer, noScope)).toMatchObject({ sync: true, status: 403 });
});

it("checks the scope policy synchronously when the body is already parsed", () => {
  const server = new ResourceServer({
    resource: RESOURCE,
    authorizationServers: [as.issuer],
    scopePolicy: { tools: { write_note: ["mcp:write"] } },
  });
  const scopes = requireScopes(server);
  const req = {
    method: "POST",
    url: "/mcp",
    headers: {},
    auth: { token: "t", clientId: "c", scopes: ["mcp:read"] },
    body: { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "write_note" } },
  } as unknown as IncomingMessage;
  let status = 0;
  const res = {
    statusCode: 200,
    headersSent: false,
    setHeader() {},
    removeHeader() {},
    getHeader() {
      return undefined;
    },
    destroy() {},
    end() {
      status = (res as unknown as { statusCode: number }).statusCode;
    },
  } as unknown as ServerResponse;
  scopes(req, res, () => {
    status = 200;
  });
  expect(status).toBe(403);
});

/**
 * The user story's configuration (`auth: { provider: new OAuthAuthProvider(...) }`) on the
 * framework's own transports, no Express: everything the Express side guarantees. The
 * reference for documents and answers is the library itself (protectedResourceMetadata()
 * on a plain node:http server, ResourceServer.answer()), so a difference is a failure.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import diagnostics from "node:diagnostics_channel";
import { createServer, request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { connect } from "node:net";
import { McpOAuthError } from "@mcp-oauth/core";
import { HttpStreamTransport } from "mcp-framework";
import { protectedResourceMetadata } from "@mcp-oauth/express";
import {
  startTestAuthorizationServer,
  type TestAuthorizationServer,
} from "../../../test/helpers/authorization-server.js";
import { listen } from "../../../test/helpers/listen.js";
import {
  bearerChallenge,
  INITIALIZE,
  postJson,
  rawRequest,
  startExample,
  type RawResponse,
  type RunningExample,
} from "./support.js";

let as: TestAuthorizationServer;
beforeAll(async () => {
  as = await startTestAuthorizationServer();
});
afterAll(() => as.close());

const TOOLS_LIST = { jsonrpc: "2.0", id: 2, method: "tools/list", params: {} } as const;
const callTool = (name: string, args: Record<string, unknown> = {}): Record<string, unknown> => ({
  jsonrpc: "2.0",
  id: 3,
  method: "tools/call",
  params: { name, arguments: args },
});
const session = (id: string): Record<string, string> => ({
  "mcp-session-id": id,
  "mcp-protocol-version": "2025-06-18",
});

/** Headers that differ between two servers for reasons unrelated to the answer. */
const VOLATILE = new Set(["date", "connection", "keep-alive", "transfer-encoding", "ratelimit", "ratelimit-policy"]);
const stable = (headers: IncomingHttpHeaders): Record<string, unknown> =>
  Object.fromEntries(Object.entries(headers).filter(([name]) => !VOLATILE.has(name)));

/** The library's own answer for a refusal, as a response would carry it. */
function expectLibraryAnswer(
  ex: RunningExample,
  res: RawResponse,
  code: ConstructorParameters<typeof McpOAuthError>[0],
): void {
  const answer = ex.provider.resourceServer.answer(new McpOAuthError(code, "test"));
  expect({ status: res.status, body: JSON.parse(res.body) as unknown }).toEqual({
    status: answer.status,
    body: answer.body,
  });
  for (const [name, value] of Object.entries(answer.headers))
    expect([name, res.headers[name.toLowerCase()]]).toEqual([name, value]);
}

/** A request with an absolute-form target (RFC 9112 section 3.2.2) over a raw socket; the status code. */
function absoluteForm(
  port: number,
  method: string,
  target: string,
  headers: Record<string, string>,
  body = "",
): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let received = "";
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      received += chunk;
    });
    socket.on("error", reject);
    socket.on("close", () => {
      const match = /^HTTP\/1\.1 (\d{3})/.exec(received);
      if (match) resolve(Number(match[1]));
      else reject(new Error(`no status line in ${JSON.stringify(received.slice(0, 80))}`));
    });
    const lines = [
      `${method} ${target} HTTP/1.1`,
      `Host: 127.0.0.1:${port}`,
      "Connection: close",
      `Content-Length: ${Buffer.byteLength(body)}`,
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    ];
    socket.end(`${lines.join("\r\n")}\r\n\r\n${body}`);
  });
}

/** Opens an SSE stream and returns its first event's data (the message URL); `close()` ends the stream. */
function sseEndpoint(url: string, token: string): Promise<{ status: number; data: string | undefined; close(): void }> {
  return new Promise((resolve, reject) => {
    const close = (): void => {
      req.destroy();
    };
    const req = httpRequest(
      url,
      { headers: { accept: "text/event-stream", authorization: `Bearer ${token}` }, agent: false },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
          const match = /event: endpoint\r?\ndata: ([^\r\n]*)/.exec(text);
          if (match || res.statusCode !== 200) resolve({ status: res.statusCode ?? 0, data: match?.[1], close });
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, data: undefined, close }));
      },
    );
    req.on("error", (error) => {
      if (!req.destroyed) reject(error);
    });
    req.end();
  });
}

describe.each([
  ["http-stream", "batch"],
  ["http-stream", "stream"],
  ["sse", "batch"],
] as const)("%s transport (%s): the library in front", (transport, mode) => {
  let ex: RunningExample;
  let reference: Awaited<ReturnType<typeof listen>>;
  let readToken: string;
  const metadataUrls = (): string[] => [
    `${ex.origin}/.well-known/oauth-protected-resource${new URL(ex.url).pathname}`,
    `${ex.origin}/.well-known/oauth-protected-resource`,
  ];

  beforeAll(async () => {
    ex = await startExample({
      MCP_TRANSPORT: transport,
      MCP_RESPONSE_MODE: mode,
      OAUTH_AUTHORIZATION_SERVER: as.issuer,
      OAUTH_SCOPES: "mcp:read",
    });
    const metadata = protectedResourceMetadata(ex.provider.resourceServer);
    reference = await listen(createServer((req, res) => metadata(req, res, () => res.writeHead(404).end())));
    readToken = as.mint(ex.url, { sub: "gina", scope: "mcp:read" });
  });
  afterAll(async () => {
    await Promise.all([ex.stop(), reference.close()]);
  });

  it("challenges name the path-suffixed metadata URL", async () => {
    const res = await postJson(ex.url, INITIALIZE);
    expect(bearerChallenge(res.headers["www-authenticate"])["resource_metadata"]).toBe(metadataUrls()[0]);
  });

  it.each([
    ["GET", {}],
    ["HEAD", {}],
    ["OPTIONS", {}],
    ["OPTIONS", { origin: "https://any.example", "access-control-request-method": "GET" }],
    ["POST", {}],
    ["DELETE", { authorization: "Bearer not-a-jwt" }],
  ] as const)(
    "metadata, %s %j: the same status, headers and document as protectedResourceMetadata(), at both URLs",
    async (method, headers) => {
      for (const url of metadataUrls()) {
        const path = new URL(url).pathname;
        const [got, expected] = await Promise.all([
          rawRequest(url, { method, headers: { ...headers } }),
          rawRequest(`${reference.url}${path}`, { method, headers: { ...headers } }),
        ]);
        expect({ path, status: got.status, headers: stable(got.headers), body: got.body }).toEqual({
          path,
          status: expected.status,
          headers: stable(expected.headers),
          body: expected.body,
        });
      }
      if (method === "GET") {
        const doc = JSON.parse((await rawRequest(metadataUrls()[0]!)).body) as Record<string, unknown>;
        expect(doc).toMatchObject({
          resource: ex.url,
          authorization_servers: [as.issuer],
          scopes_supported: expect.arrayContaining(["mcp:read"]),
          bearer_methods_supported: ["header"],
        });
      }
    },
  );

  it("a malformed JSON body without a token: 401, the library's answer (authentication before the body)", async () => {
    const target = transport === "sse" ? `${ex.origin}/messages?sessionId=x` : ex.url;
    const res = await rawRequest(target, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{not json",
    });
    expectLibraryAnswer(ex, res, "token_missing");
  });

  it("a malformed JSON body with a valid token: 400, never a 500", async () => {
    const target = transport === "sse" ? `${ex.origin}/messages?sessionId=x` : ex.url;
    const res = await rawRequest(target, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${readToken}` },
      body: "{not json",
    });
    expectLibraryAnswer(ex, res, "body_invalid");
  });

  it("refusals carry the library's bodies and challenges", async () => {
    const res = await postJson(ex.url, INITIALIZE, { authorization: "Bearer not-a-jwt" });
    expectLibraryAnswer(ex, res, "token_malformed");
  });

  it.each([
    ["/MCP"],
    ["/mcp/"],
    ["/./mcp"],
    ["/x/../mcp"],
    ["/%6Dcp"],
    ["/%6dcp"],
    ["/mcp?x=1"],
    ["//mcp"],
    ["/mcp#x"],
    ["/health"],
    ["/SSE"],
    ["/sse/"],
    ["/%73se"],
    ["/messages?sessionId=x"],
    ["/Messages"],
    ["/.well-known/../mcp"],
    ["/nothing-here"],
  ])("%s without a token: 401 (no path spelling reaches the framework unauthenticated)", async (path) => {
    for (const method of ["GET", "POST", "DELETE"]) {
      const res = await rawRequest(`${ex.origin}${path}`, {
        method,
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
        ...(method === "POST" ? { body: JSON.stringify(INITIALIZE) } : {}),
      });
      expect([method, path, res.status]).toEqual([method, path, 401]);
    }
  });

  it("absolute-form targets over a raw socket without a token: 401; with one the framework routes them", async () => {
    const endpoint = new URL(ex.url).pathname;
    const headers = { "Content-Type": "application/json", Accept: "application/json, text/event-stream" };
    for (const target of [
      `http://127.0.0.1:${ex.port}${endpoint}`,
      `http://127.0.0.1:${ex.port}/messages?sessionId=x`,
      `http://127.0.0.1:${ex.port}/.well-known/../mcp`,
    ]) {
      expect([target, await absoluteForm(ex.port, "POST", target, headers, JSON.stringify(INITIALIZE))]).toEqual([
        target,
        401,
      ]);
      expect([target, await absoluteForm(ex.port, "GET", target, { Accept: "text/event-stream" })]).toEqual([
        target,
        401,
      ]);
    }
    if (transport === "http-stream") {
      const status = await absoluteForm(
        ex.port,
        "POST",
        `http://127.0.0.1:${ex.port}/mcp`,
        { ...headers, Authorization: `Bearer ${readToken}` },
        JSON.stringify(INITIALIZE),
      );
      expect(status).toBe(200);
    }
  });

  it("the Origin rule: the resource's own origin is allowed by default, another is 403 (preflight too), preflights are never authenticated", async () => {
    const own = ex.origin;
    const evil = "https://evil.example";
    const preflight = (origin: string): Promise<RawResponse> =>
      rawRequest(ex.url, {
        method: "OPTIONS",
        headers: {
          origin,
          "access-control-request-method": "POST",
          "access-control-request-headers": "authorization, content-type, mcp-session-id",
        },
      });
    const ok = await preflight(own);
    expect(ok.status).toBe(204);
    expect(ok.headers["access-control-allow-origin"]).toBe(own);
    expect(ok.headers["www-authenticate"]).toBeUndefined();
    expect(String(ok.headers["access-control-allow-headers"]).toLowerCase()).toContain("authorization");
    expectLibraryAnswer(ex, await preflight(evil), "origin_not_allowed");
    expectLibraryAnswer(
      ex,
      await postJson(ex.url, INITIALIZE, { origin: evil, authorization: `Bearer ${readToken}` }),
      "origin_not_allowed",
    );
    const refused = await postJson(ex.url, INITIALIZE, { origin: own });
    expect(refused.status).toBe(401);
    expect(refused.headers["access-control-allow-origin"]).toBe(own);
    expect(String(refused.headers["access-control-expose-headers"]).toLowerCase()).toContain("www-authenticate");
  });

  if (transport === "http-stream") {
    it("the body is read once: the transport is handed the bridge's parse with the request the server received, never a copy to read again", async () => {
      const proto = HttpStreamTransport.prototype as unknown as Record<
        "handleMcpRequest",
        (this: unknown, req: unknown, ...rest: unknown[]) => Promise<unknown>
      >;
      const { handleMcpRequest } = proto;
      const handled: unknown[] = [];
      // The requests the framework handles are the ones the server received, whose stream the
      // bridge has consumed: a transport reading them again would never answer.
      proto.handleMcpRequest = function seen(req, ...rest) {
        handled.push(req);
        return handleMcpRequest.call(this, req, ...rest);
      };
      const received = new Set<unknown>();
      const onRequest = (message: unknown): void => void received.add((message as { request: unknown }).request);
      diagnostics.subscribe("http.server.request.start", onRequest);
      try {
        const init = await postJson(ex.url, INITIALIZE, { authorization: `Bearer ${readToken}` });
        expect(init.status).toBe(200);
        const headers = { authorization: `Bearer ${readToken}`, ...session(init.headers["mcp-session-id"] as string) };
        const called = await postJson(ex.url, callTool("whoami"), headers);
        expect(called.status).toBe(200);
        expect(called.body).toContain("gina");
        // An empty body reaches the transport as its own reading gives it (null): the SDK's parse error.
        const empty = await rawRequest(ex.url, {
          method: "POST",
          headers: { ...headers, "content-type": "application/json", accept: "application/json, text/event-stream" },
          body: "",
        });
        expect(empty.status).toBe(400);
        expect(empty.body).toContain("Parse error: Invalid JSON-RPC message");
      } finally {
        proto.handleMcpRequest = handleMcpRequest;
        diagnostics.unsubscribe("http.server.request.start", onRequest);
      }
      expect(handled).toHaveLength(3);
      expect(handled.every((req) => received.has(req))).toBe(true);
    });

    it("write_note needs mcp:write: 403 insufficient_scope naming every needed scope; whoami passes", async () => {
      const init = await postJson(ex.url, INITIALIZE, { authorization: `Bearer ${readToken}` });
      expect(init.status).toBe(200);
      const id = init.headers["mcp-session-id"] as string;
      const denied = await postJson(ex.url, callTool("write_note", { text: "x" }), {
        authorization: `Bearer ${readToken}`,
        ...session(id),
      });
      expect(denied.status).toBe(403);
      const challenge = bearerChallenge(denied.headers["www-authenticate"]);
      expect(challenge["error"]).toBe("insufficient_scope");
      expect(challenge["scope"]!.split(" ").sort()).toEqual(["mcp:read", "mcp:write"]);
      const allowed = await postJson(ex.url, callTool("whoami"), {
        authorization: `Bearer ${readToken}`,
        ...session(id),
      });
      expect(allowed.status).toBe(200);
      expect(allowed.body).toContain("gina");
      const writer = as.mint(ex.url, { sub: "gina", scope: "mcp:read mcp:write" });
      const written = await postJson(ex.url, callTool("write_note", { text: "x" }), {
        authorization: `Bearer ${writer}`,
        ...session(id),
      });
      expect(written.status).toBe(200);
      expect(written.body).toContain("saved note");
    });

    it("a session belongs to the subject that opened it: another subject gets the unknown-session answer", async () => {
      const init = await postJson(ex.url, INITIALIZE, { authorization: `Bearer ${readToken}` });
      const id = init.headers["mcp-session-id"] as string;
      expect(typeof id).toBe("string");
      const other = as.mint(ex.url, { sub: "mallory", scope: "mcp:read" });
      const [stolen, unknown] = await Promise.all([
        postJson(ex.url, TOOLS_LIST, { authorization: `Bearer ${other}`, ...session(id) }),
        postJson(ex.url, TOOLS_LIST, {
          authorization: `Bearer ${other}`,
          ...session("00000000-0000-4000-8000-000000000000"),
        }),
      ]);
      expect(stolen.status).toBe(404);
      expect({ status: stolen.status, body: stolen.body }).toEqual({ status: unknown.status, body: unknown.body });
      const stolenDelete = await rawRequest(ex.url, {
        method: "DELETE",
        headers: { authorization: `Bearer ${other}`, ...session(id) },
      });
      expect(stolenDelete.status).toBe(404);
      // The owner's session is untouched, also with a fresh token of the same subject.
      const again = await postJson(ex.url, TOOLS_LIST, {
        authorization: `Bearer ${as.mint(ex.url, { sub: "gina", scope: "mcp:read" })}`,
        ...session(id),
      });
      expect(again.status).toBe(200);
    });
  } else {
    it("an SSE session belongs to the subject that opened the stream: another subject gets the unknown-session answer", async () => {
      const opened = await sseEndpoint(ex.url, readToken);
      expect(opened.status).toBe(200);
      const messages = `${ex.origin}${opened.data!}`;
      const other = as.mint(ex.url, { sub: "mallory", scope: "mcp:read" });
      const encoded = messages.replace("sessionId=", "session%49d=");
      const [stolen, stolenEncoded, unknown, own] = await Promise.all([
        postJson(messages, INITIALIZE, { authorization: `Bearer ${other}` }),
        // The framework decodes the parameter name: so must the check.
        postJson(encoded, INITIALIZE, { authorization: `Bearer ${other}` }),
        postJson(`${ex.origin}/messages?sessionId=00000000-0000-4000-8000-000000000000`, INITIALIZE, {
          authorization: `Bearer ${other}`,
        }),
        postJson(messages, INITIALIZE, { authorization: `Bearer ${readToken}` }),
      ]);
      expect(stolen.status).toBe(404);
      expect({ status: stolen.status, body: stolen.body }).toEqual({ status: unknown.status, body: unknown.body });
      expect({ status: stolenEncoded.status, body: stolenEncoded.body }).toEqual({
        status: unknown.status,
        body: unknown.body,
      });
      expect(own.status).toBe(202);
      opened.close();
    });

    it("write_note over SSE with an mcp:read token: 403 insufficient_scope", async () => {
      const opened = await sseEndpoint(ex.url, readToken);
      const res = await postJson(`${ex.origin}${opened.data!}`, callTool("write_note", { text: "x" }), {
        authorization: `Bearer ${readToken}`,
      });
      opened.close();
      expect(res.status).toBe(403);
      expect(bearerChallenge(res.headers["www-authenticate"])["scope"]!.split(" ").sort()).toEqual([
        "mcp:read",
        "mcp:write",
      ]);
    });
  }
});

describe("OAUTH_ALLOWED_ORIGINS=*: any origin, as oauthCors()", () => {
  let ex: RunningExample;
  beforeAll(async () => {
    ex = await startExample({
      MCP_TRANSPORT: "http-stream",
      OAUTH_AUTHORIZATION_SERVER: as.issuer,
      OAUTH_SCOPES: "mcp:read",
      OAUTH_ALLOWED_ORIGINS: "*",
    });
  });
  afterAll(() => ex.stop());

  it("a browser origin is allowed and reflected", async () => {
    const origin = "https://app.example";
    const res = await postJson(ex.url, INITIALIZE, {
      origin,
      authorization: `Bearer ${as.mint(ex.url, { scope: "mcp:read" })}`,
    });
    expect(res.status).toBe(200);
    expect(res.headers["access-control-allow-origin"]).toBe(origin);
    const preflight = await rawRequest(ex.url, {
      method: "OPTIONS",
      headers: { origin, "access-control-request-method": "POST" },
    });
    expect(preflight.status).toBe(204);
  });
});

/**
 * The scope policy judges a resource URI as the MCP SDK routes it. The SDK's McpServer (v1
 * `@modelcontextprotocol/sdk` and v2 `@modelcontextprotocol/server`) finds the resource of a
 * `resources/read` by `new URL(uri).toString()`, so `CONFIG://secret`, ` config://secret` or
 * `file:///etc/x/../secret.txt` read the protected resource: each spelling must need its
 * scopes. Tools and prompts are found by the exact name, so no other spelling reaches them.
 * Real authorization server, real `mcpOAuth()`, real SDK servers on their HTTP transports.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import express from "express";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { z } from "zod";
import * as z4 from "zod/v4";
import { completable as completableV1 } from "@modelcontextprotocol/sdk/server/completable.js";
import { McpServer as McpServerV1 } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { SubscribeRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { NodeStreamableHTTPServerTransport } from "@modelcontextprotocol/node";
import { toNodeHandler } from "@modelcontextprotocol/node";
import {
  completable as completableV2,
  createMcpHandler,
  McpServer as McpServerV2,
  type McpHttpHandler,
} from "@modelcontextprotocol/server";
import { mcpOAuth, type McpScopePolicy } from "@mcp-oauth/express";
import {
  startTestAuthorizationServer,
  type TestAuthorizationServer,
} from "../../../test/helpers/authorization-server.js";
import { bearerChallenge, listen, type Listening } from "./support.js";

const SECRET = "the secret content";
/** What the completer of a protected prompt's argument suggests: data only its scope may see. */
const SECRET_CUSTOMER = "secret-customer-of-the-admin-report";
const POLICY: McpScopePolicy = {
  resources: { "config://secret": ["mcp:admin"], "file:///etc/secret.txt": ["mcp:admin"] },
  tools: { write_note: ["mcp:write"] },
  prompts: { secret_prompt: ["mcp:admin"], admin_report: ["mcp:admin"] },
};

/** Spellings the SDK routes to a protected resource (the URI as registered is the first of each list). */
const VARIANTS: Record<string, readonly string[]> = {
  "config://secret": [
    "config://secret",
    "CONFIG://secret",
    " config://secret",
    "conf\tig://secret",
    "config://secret\n",
  ],
  "file:///etc/secret.txt": [
    "file:///etc/secret.txt",
    "FILE:///etc/secret.txt",
    "file:///etc/x/../secret.txt",
    "file:///etc/x/%2e%2e/secret.txt",
    "file://localhost/etc/secret.txt",
    "file:/etc/secret.txt",
  ],
};
const SPELLINGS = Object.entries(VARIANTS).flatMap(([registered, spellings]) =>
  spellings.map((spelling) => [registered, spelling] as const),
);

/** Tool and prompt names that are not the protected one, though a lenient lookup might make them so. */
const NAME_VARIANTS = ["WRITE_NOTE", " write_note", "write_note ", "write_note\u0000", "write\u200bnote"];

/** What the SDK's handlers ran, so a test can tell that a refused spelling reached nothing. */
interface Trace {
  reads: string[];
  subscribes: string[];
  toolCalls: number;
  promptGets: number;
  completions: number;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: unknown) => Promise<void>;

/** A fresh v1 McpServer per request (stateless Streamable HTTP, JSON responses). */
function v1Handler(trace: Trace): Handler {
  return async (req, res, body) => {
    const server = new McpServerV1(
      { name: "policy-v1", version: "1.0.0" },
      { capabilities: { resources: { subscribe: true } } },
    );
    for (const uri of Object.keys(VARIANTS)) {
      server.registerResource(uri, uri, {}, async (url) => {
        trace.reads.push(url.href);
        return { contents: [{ uri: url.href, text: SECRET }] };
      });
    }
    server.registerTool("write_note", { description: "needs mcp:write" }, async () => {
      trace.toolCalls++;
      return { content: [{ type: "text", text: "saved" }] };
    });
    server.registerPrompt("secret_prompt", { description: "needs mcp:admin" }, async () => {
      trace.promptGets++;
      return { messages: [{ role: "user", content: { type: "text", text: SECRET } }] };
    });
    server.registerPrompt(
      "admin_report",
      {
        description: "needs mcp:admin",
        argsSchema: {
          customer: completableV1(z.string(), () => {
            trace.completions++;
            return [SECRET_CUSTOMER];
          }),
        },
      },
      async () => ({ messages: [{ role: "user", content: { type: "text", text: SECRET } }] }),
    );
    // McpServer has no subscribe handler: an application adds one, and finds the resource as
    // resources/read does.
    server.server.setRequestHandler(SubscribeRequestSchema, async (request) => {
      trace.subscribes.push(new URL(request.params.uri).toString());
      return {};
    });
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on("close", () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  };
}

/** The same with the v2 server. */
function v2Handler(trace: Trace): Handler {
  return async (req, res, body) => {
    const server = new McpServerV2(
      { name: "policy-v2", version: "1.0.0" },
      { capabilities: { resources: { subscribe: true } } },
    );
    for (const uri of Object.keys(VARIANTS)) {
      server.registerResource(uri, uri, {}, async (url) => {
        trace.reads.push(url.href);
        return { contents: [{ uri: url.href, text: SECRET }] };
      });
    }
    server.registerTool("write_note", { description: "needs mcp:write" }, async () => {
      trace.toolCalls++;
      return { content: [{ type: "text", text: "saved" }] };
    });
    server.registerPrompt("secret_prompt", { description: "needs mcp:admin" }, async () => {
      trace.promptGets++;
      return { messages: [{ role: "user", content: { type: "text", text: SECRET } }] };
    });
    server.registerPrompt(
      "admin_report",
      {
        description: "needs mcp:admin",
        // zod 3.25's `zod/v4` is a Standard Schema the v2 server reads at run time; its types
        // lack the JSON Schema half the v2 signature names (zod 4.x has it).
        argsSchema: z4.object({
          customer: completableV2(z4.string(), () => {
            trace.completions++;
            return [SECRET_CUSTOMER];
          }),
        }) as never,
      },
      async () => ({ messages: [{ role: "user", content: { type: "text", text: SECRET } }] }),
    );
    server.server.setRequestHandler("resources/subscribe", async (request) => {
      trace.subscribes.push(new URL(request.params.uri).toString());
      return {};
    });
    const transport = new NodeStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    res.on("close", () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  };
}

let as: TestAuthorizationServer;
const hosts: Record<"v1" | "v2", { listening: Listening; trace: Trace }> = {} as never;

beforeAll(async () => {
  as = await startTestAuthorizationServer();
  for (const [version, handlerFor] of [
    ["v1", v1Handler],
    ["v2", v2Handler],
  ] as const) {
    const trace: Trace = { reads: [], subscribes: [], toolCalls: 0, promptGets: 0, completions: 0 };
    const http = createServer();
    const listening = await listen(http);
    const resource = `${listening.url}/mcp`;
    const app = express();
    app.use(mcpOAuth({ resource, authorizationServers: [as.issuer], scopePolicy: POLICY }));
    app.use(express.json());
    const handle = handlerFor(trace);
    app.post("/mcp", (req, res) => {
      handle(req, res, req.body).catch(() => {
        if (!res.headersSent) res.status(500).end();
      });
    });
    http.on("request", app);
    hosts[version] = { listening, trace };
  }
});

afterAll(async () => {
  await Promise.all(Object.values(hosts).map(({ listening }) => listening.close()));
  await as.close();
});

/** Tokens for one host: each host's resource is its own audience. */
function tokensFor(version: "v1" | "v2"): { read: string; admin: string } {
  const resource = `${hosts[version].listening.url}/mcp`;
  return {
    read: as.mint(resource, { scope: "mcp:read" }),
    admin: as.mint(resource, { scope: "mcp:read mcp:write mcp:admin" }),
  };
}

async function post(
  version: "v1" | "v2",
  token: string,
  method: string,
  params: Record<string, unknown>,
): Promise<{ status: number; body: Record<string, unknown>; challenge: string | null }> {
  const res = await fetch(`${hosts[version].listening.url}/mcp`, {
    method: "POST",
    headers: {
      Authorization: `Bearer ${token}`,
      "Content-Type": "application/json",
      Accept: "application/json, text/event-stream",
      "MCP-Protocol-Version": "2025-06-18",
    },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const text = await res.text();
  return {
    status: res.status,
    body: text === "" ? {} : (JSON.parse(text) as Record<string, unknown>),
    challenge: res.headers.get("www-authenticate"),
  };
}

describe.each(["v1", "v2"] as const)("the MCP SDK %s server behind mcpOAuth() with a resource policy", (version) => {
  it.each(SPELLINGS)(
    "reads %j when asked for %j with an mcp:admin token (the SDK routes it there)",
    async (registered, spelling) => {
      const { admin } = tokensFor(version);
      const { trace } = hosts[version];
      const before = trace.reads.length;
      const res = await post(version, admin, "resources/read", { uri: spelling });
      expect(res.status).toBe(200);
      expect(res.body["result"]).toEqual({ contents: [{ uri: registered, text: SECRET }] });
      expect(trace.reads.slice(before)).toEqual([registered]);
    },
  );

  it.each(SPELLINGS)(
    "refuses %j spelled %j to an mcp:read token: 403 on resources/read and resources/subscribe",
    async (_registered, spelling) => {
      const { read } = tokensFor(version);
      const { trace } = hosts[version];
      const [reads, subscribes] = [trace.reads.length, trace.subscribes.length];
      for (const method of ["resources/read", "resources/subscribe"]) {
        const res = await post(version, read, method, { uri: spelling });
        expect(res.status).toBe(403);
        expect(res.body).toEqual({ error: "insufficient_scope", error_description: expect.any(String) });
        expect(bearerChallenge(res.challenge ?? undefined)["scope"]).toBe("mcp:admin");
      }
      expect(trace.reads.length).toBe(reads);
      expect(trace.subscribes.length).toBe(subscribes);
    },
  );

  it("subscribes an mcp:admin token to a variant, which the application reads as the protected URI", async () => {
    const { admin } = tokensFor(version);
    const { trace } = hosts[version];
    const before = trace.subscribes.length;
    const res = await post(version, admin, "resources/subscribe", { uri: "CONFIG://secret" });
    expect(res.status).toBe(200);
    expect(trace.subscribes.slice(before)).toEqual(["config://secret"]);
  });

  it.each(["secret", "", "::", "http://[/"])(
    "refuses the URI %j, which the URL parser refuses, to an mcp:read token",
    async (uri) => {
      const { read } = tokensFor(version);
      const res = await post(version, read, "resources/read", { uri });
      expect(res.status).toBe(403);
      expect(bearerChallenge(res.challenge ?? undefined)["scope"]).toBe("mcp:admin");
    },
  );

  it.each(NAME_VARIANTS)("finds no tool and no prompt for %j: the SDK compares names exactly", async (name) => {
    const { read } = tokensFor(version);
    const { trace } = hosts[version];
    const [toolCalls, promptGets] = [trace.toolCalls, trace.promptGets];
    const tool = await post(version, read, "tools/call", { name, arguments: {} });
    expect(tool.status).toBe(200);
    expect(JSON.stringify(tool.body)).not.toContain("saved");
    const prompt = await post(version, read, "prompts/get", { name: name.replace("write_note", "secret_prompt") });
    expect(prompt.status).toBe(200);
    expect(prompt.body["error"]).toBeDefined();
    expect(trace.toolCalls).toBe(toolCalls);
    expect(trace.promptGets).toBe(promptGets);
  });

  it("refuses the exact tool and prompt names to an mcp:read token and runs them for the scopes they need", async () => {
    const { read, admin } = tokensFor(version);
    expect((await post(version, read, "tools/call", { name: "write_note", arguments: {} })).status).toBe(403);
    expect((await post(version, read, "prompts/get", { name: "secret_prompt" })).status).toBe(403);
    const tool = await post(version, admin, "tools/call", { name: "write_note", arguments: {} });
    expect(JSON.stringify(tool.body)).toContain("saved");
    const prompt = await post(version, admin, "prompts/get", { name: "secret_prompt" });
    expect(JSON.stringify(prompt.body)).toContain(SECRET);
  });

  it("refuses completion/complete of a protected prompt's argument to an mcp:read token: the completer is the prompt's code", async () => {
    const { read, admin } = tokensFor(version);
    const { trace } = hosts[version];
    const before = trace.completions;
    const complete = { ref: { type: "ref/prompt", name: "admin_report" }, argument: { name: "customer", value: "" } };
    const refused = await post(version, read, "completion/complete", complete);
    expect(JSON.stringify(refused.body)).not.toContain(SECRET_CUSTOMER);
    expect(refused.status).toBe(403);
    expect(bearerChallenge(refused.challenge ?? undefined)["scope"]).toBe("mcp:admin");
    expect(trace.completions).toBe(before);
    const granted = await post(version, admin, "completion/complete", complete);
    expect(granted.status).toBe(200);
    expect(JSON.stringify(granted.body)).toContain(SECRET_CUSTOMER);
  });
});

describe("subscriptions/listen (MCP 2026-07-28) on the v2 createMcpHandler: its resourceSubscriptions need the resources' scopes", () => {
  // The modern replacement of resources/subscribe: the SDK streams `notifications/resources/updated`
  // for every URI in `notifications.resourceSubscriptions` (compared with the published URI exactly).
  let listening: Listening;
  let handler: McpHttpHandler;
  let resource: string;

  beforeAll(async () => {
    handler = createMcpHandler(() => {
      const server = new McpServerV2(
        { name: "listen-v2", version: "1.0.0" },
        { capabilities: { resources: { subscribe: true } } },
      );
      server.registerResource("secret", "config://secret", {}, async (url) => ({
        contents: [{ uri: url.href, text: SECRET }],
      }));
      return server;
    });
    const node = toNodeHandler(handler);
    const http = createServer();
    listening = await listen(http);
    resource = `${listening.url}/mcp`;
    const app = express();
    app.use(mcpOAuth({ resource, authorizationServers: [as.issuer], scopePolicy: POLICY }));
    app.use(express.json());
    app.post("/mcp", (req, res) => void node(req, res, req.body));
    http.on("request", app);
  });

  afterAll(async () => {
    await handler.close();
    await listening.close();
  });

  /** Opens a listen for `uris`; returns the status and the first event (the stream is then closed). */
  async function listenTo(token: string, uris: string[]): Promise<{ status: number; first: string }> {
    const abort = new AbortController();
    const res = await fetch(resource, {
      method: "POST",
      signal: abort.signal,
      headers: {
        Authorization: `Bearer ${token}`,
        "Content-Type": "application/json",
        Accept: "application/json, text/event-stream",
        "MCP-Protocol-Version": "2026-07-28",
        "Mcp-Method": "subscriptions/listen",
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "subscriptions/listen",
        params: {
          notifications: { resourceSubscriptions: uris },
          _meta: {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientInfo": { name: "probe", version: "1.0.0" },
            "io.modelcontextprotocol/clientCapabilities": {},
          },
        },
      }),
    });
    const reader = res.body!.getReader();
    const chunk = await reader.read();
    abort.abort();
    return { status: res.status, first: chunk.value === undefined ? "" : new TextDecoder().decode(chunk.value) };
  }

  it.each([["config://secret"], ["CONFIG://secret"], ["notes://mine", "config://secret"]])(
    "refuses a listen to %j (and more) to an mcp:read token: 403 naming mcp:admin, no subscription",
    async (...uris) => {
      const refused = await listenTo(as.mint(resource, { scope: "mcp:read" }), uris);
      expect(refused.first).not.toContain("subscriptions/acknowledged");
      expect(refused.status).toBe(403);
      expect(JSON.parse(refused.first)).toEqual({ error: "insufficient_scope", error_description: expect.any(String) });
    },
  );

  it("lets an mcp:read token listen to other resources, and an mcp:admin token to the protected one", async () => {
    const other = await listenTo(as.mint(resource, { scope: "mcp:read" }), ["notes://mine"]);
    expect(other.status).toBe(200);
    expect(other.first).toContain("subscriptions/acknowledged");
    const admin = await listenTo(as.mint(resource, { scope: "mcp:read mcp:admin" }), ["config://secret"]);
    expect(admin.status).toBe(200);
    expect(admin.first).toContain('"resourceSubscriptions":["config://secret"]');
  });
});

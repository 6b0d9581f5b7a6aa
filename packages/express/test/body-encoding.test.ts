/**
 * Execute exactly what was authorized, on Express with the real MCP SDK (v1) Streamable
 * HTTP transport: the scope policy judges the body the host will run, whatever the body
 * parser's place (after mcpOAuth as examples/express-server has it, before it, or none with
 * a `req.body` left by a parser that did not read: body-parser 1.x's `{}`). A charset other
 * than UTF-8, a Content-Encoding or an ambiguous media type in a body we must read is
 * refused (415) before anything is decided; a UTF-8 BOM and duplicate keys are read as
 * the host reads them (BOM dropped, the last key wins).
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import express, { type Express } from "express";
import { createServer } from "node:http";
import { gzipSync } from "node:zlib";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { z } from "zod";
import { ERROR_RESPONSES } from "@mcp-oauth/core";
import { mcpOAuth } from "@mcp-oauth/express";
import {
  startTestAuthorizationServer,
  type TestAuthorizationServer,
} from "../../../test/helpers/authorization-server.js";
import { rawSocketRequest, type RawSocketResponse } from "../../../test/helpers/raw-socket.js";
import { listen, type Listening } from "./support.js";

const RESOURCE = "http://127.0.0.1:4444/mcp";
const MCP_HEADERS = { Accept: "application/json, text/event-stream" };

const call = (name: string, id = 7): Record<string, unknown> => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name, arguments: { text: "pwned" } },
});

/**
 * `whoami` to a reader that decodes UTF-8, `write_note` to one that honours `charset=utf-7`
 * (iconv-lite, used by body-parser and by the SDK's SSE transport): `+ACI-` is `"` in
 * UTF-7, and of the two `name` keys the last wins.
 */
const UTF7_SMUGGLE =
  '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"arguments":{"text":"pwned"},' +
  '"name":"whoami+ACI-,+ACI-name+ACI-:+ACI-write_note"}}';

const refusalOf = (code: keyof typeof ERROR_RESPONSES): Record<string, string> => {
  const row = ERROR_RESPONSES[code];
  return { error: row?.error ?? "(no row)", error_description: row?.description ?? "(no row)" };
};

let as: TestAuthorizationServer;
let readToken: string;
/** Every `write_note` the MCP server ran. */
const written: string[] = [];

beforeAll(async () => {
  as = await startTestAuthorizationServer();
  readToken = as.mint(RESOURCE, { scope: "mcp:read" });
});
afterAll(() => as.close());

function mcpServer(): McpServer {
  const server = new McpServer({ name: "body-encoding", version: "0.0.0" });
  server.registerTool("whoami", { description: "who" }, async (extra) => ({
    content: [{ type: "text", text: JSON.stringify({ sub: extra.authInfo?.extra?.["sub"] }) }],
  }));
  server.registerTool(
    "write_note",
    { description: "needs mcp:write", inputSchema: { text: z.string() } },
    async ({ text }) => {
      written.push(text);
      return { content: [{ type: "text", text: "saved" }] };
    },
  );
  return server;
}

type Placement = "parser after" | "parser before" | "req.body preset, no parser" | "text parser before";

/** An Express host with the SDK's stateless Streamable HTTP transport, the parser where `placement` says. */
function hostApp(placement: Placement): Express {
  const app = express();
  if (placement === "parser before") app.use(express.json());
  // A host that reads the body as text and parses it itself.
  if (placement === "text parser before") app.use(express.text({ type: ["application/json", "text/plain"] }));
  // body-parser 1.x (Express 4) sets `req.body = {}` on a request it does not parse.
  if (placement === "req.body preset, no parser")
    app.use((req, _res, next) => {
      req.body ??= {};
      next();
    });
  app.use(
    mcpOAuth({
      resource: RESOURCE,
      authorizationServers: [as.issuer],
      scopePolicy: { tools: { write_note: ["mcp:write"] } },
    }),
  );
  if (placement === "parser after") app.use(express.json());
  app.post("/mcp", async (req, res) => {
    const server = mcpServer();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on("close", () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    // Without a parser the transport reads the stream itself.
    const parsed =
      placement === "req.body preset, no parser"
        ? undefined
        : placement === "text parser before"
          ? JSON.parse(req.body as string)
          : req.body;
    await transport.handleRequest(req, res, parsed);
  });
  return app;
}

describe.each<Placement>(["parser after", "parser before", "req.body preset, no parser", "text parser before"])(
  "%s",
  (placement) => {
    let server: Listening;
    beforeAll(async () => {
      server = await listen(createServer(hostApp(placement)));
    });
    afterAll(() => server.close());

    const post = (body: string, headers: Record<string, string> = {}): Promise<RawSocketResponse> =>
      rawSocketRequest(server.port, "POST", "/mcp", {
        headers: {
          Authorization: `Bearer ${readToken}`,
          "Content-Type": "application/json",
          ...MCP_HEADERS,
          ...headers,
        },
        body,
      });

    const expectNothingWritten = (): void => expect(written).toEqual([]);

    it("the plain write_note call: 403 insufficient_scope", async () => {
      const res = await post(JSON.stringify(call("write_note")));
      expect(res.status).toBe(403);
      expectNothingWritten();
    });

    it("write_note smuggled through charset=utf-7: never run", async () => {
      const res = await post(UTF7_SMUGGLE, { "Content-Type": "application/json; charset=utf-7" });
      expectNothingWritten();
      // The parser in front decoded it as the host does: judged as write_note. Otherwise the
      // library reads it, and refuses any charset but UTF-8.
      if (placement === "parser before" || placement === "text parser before") expect(res.status).toBe(403);
      else expect([res.status, JSON.parse(res.body)]).toEqual([415, refusalOf("unsupported_media_type")]);
    });

    it("write_note gzip-compressed: never run", async () => {
      const gzipped = gzipSync(JSON.stringify(call("write_note")));
      const res = await rawSocketRequest(server.port, "POST", "/mcp", {
        headers: {
          Authorization: `Bearer ${readToken}`,
          "Content-Type": "application/json",
          "Content-Encoding": "gzip",
          ...MCP_HEADERS,
        },
        body: gzipped,
      });
      expectNothingWritten();
      if (placement === "parser before" || placement === "text parser before") expect(res.status).toBe(403);
      else expect([res.status, JSON.parse(res.body)]).toEqual([415, refusalOf("unsupported_media_type")]);
    });

    it("a media type that only mentions application/json: refused by the library, never run", async () => {
      const res = await post(JSON.stringify(call("write_note")), { "Content-Type": "text/plain; x=application/json" });
      expectNothingWritten();
      if (placement !== "parser before" && placement !== "text parser before")
        expect([res.status, JSON.parse(res.body)]).toEqual([415, refusalOf("unsupported_media_type")]);
      else expect(res.status).not.toBe(200);
    });

    it("a UTF-8 BOM is read as the host reads it: whoami runs, write_note is judged as write_note", async () => {
      const bom = "\uFEFF";
      const whoami = await post(bom + JSON.stringify(call("whoami")));
      if (placement === "req.body preset, no parser") {
        // Allowed by the library; the SDK then finds the stream we read empty: a host that
        // has no parser must hand the transport `req.body` (docs/security.md).
        expect([whoami.status, JSON.parse(whoami.body).error?.code]).toEqual([400, -32700]);
      } else {
        expect(whoami.status).toBe(200);
        expect(whoami.body).toContain('\\"sub\\":\\"alice\\"');
      }
      const write = await post(bom + JSON.stringify(call("write_note")));
      expect(write.status).toBe(403);
      expectNothingWritten();
    });

    it("duplicate keys are read as the host reads them (the last wins)", async () => {
      const res = await post(
        '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"whoami","arguments":{"text":"x"},"name":"write_note"}}',
      );
      expect(res.status).toBe(403);
      expectNothingWritten();
    });
  },
);

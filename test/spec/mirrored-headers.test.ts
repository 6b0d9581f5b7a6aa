/**
 * MCP 2026-07-28, Streamable HTTP, request metadata: clients mirror the JSON-RPC method
 * and tool name into `Mcp-Method` and `Mcp-Name` (SEP-2243) and tool parameters into
 * `Mcp-Param-*`. The MCP server checks them against the body; "intermediaries that enforce
 * policy based on mirrored headers SHOULD verify" the protocol version first. The scope
 * policy is no such intermediary: it decides from the body it lets through, so a header
 * that disagrees with the body changes nothing. And "intermediate servers that do not
 * recognize an Mcp-Param-{Name} header MUST forward it": the middlewares hand every header
 * to the transport unchanged.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import express, { type Express } from "express";
import request from "supertest";
import { mcpOAuth } from "@mcp-oauth/express";
import { startTestAuthorizationServer, type TestAuthorizationServer } from "../helpers/authorization-server.js";

const RESOURCE = "http://127.0.0.1:4444/mcp";

let as: TestAuthorizationServer;
let app: Express;

const call = (name: string, args: Record<string, unknown> = {}): unknown => ({
  jsonrpc: "2.0",
  id: 1,
  method: "tools/call",
  params: { name, arguments: args, _meta: { "io.modelcontextprotocol/protocolVersion": "2026-07-28" } },
});

beforeAll(async () => {
  as = await startTestAuthorizationServer();
  app = express();
  app.use(
    mcpOAuth({
      resource: RESOURCE,
      authorizationServers: [as.issuer],
      scopes: ["mcp:read"],
      scopePolicy: { tools: { write_note: ["mcp:write"] } },
    }),
  );
  app.use(express.json());
  app.use((req, res) => {
    res.json({
      name: (req.body as { params?: { name?: string } }).params?.name,
      headers: {
        method: req.headers["mcp-method"],
        name: req.headers["mcp-name"],
        region: req.headers["mcp-param-region"],
        version: req.headers["mcp-protocol-version"],
      },
    });
  });
});

afterAll(() => as.close());

const post = (token: string, headers: Record<string, string>, body: unknown) =>
  request(app)
    .post("/mcp")
    .set({ Authorization: `Bearer ${token}`, "MCP-Protocol-Version": "2026-07-28", ...headers })
    .send(body as object);

describe("Mcp-Method and Mcp-Name (2026-07-28)", () => {
  it("the scope policy decides from the body: a header naming a harmless tool does not let write_note through", async () => {
    const res = await post(
      as.mint(RESOURCE, { scope: "mcp:read" }),
      { "Mcp-Method": "tools/call", "Mcp-Name": "whoami" },
      call("write_note", { text: "x" }),
    );
    expect(res.status).toBe(403);
    expect(res.body.error).toBe("insufficient_scope");
    expect(res.headers["www-authenticate"]).toContain('scope="mcp:read mcp:write"');
  });

  it("a header naming a guarded tool does not refuse a harmless call (the transport judges the mismatch)", async () => {
    const res = await post(
      as.mint(RESOURCE, { scope: "mcp:read" }),
      { "Mcp-Method": "tools/call", "Mcp-Name": "write_note" },
      call("whoami"),
    );
    expect(res.status).toBe(200);
    expect(res.body.name).toBe("whoami");
  });
});

describe("Mcp-Param-* headers (2026-07-28)", () => {
  it("reach the transport unchanged, with the mirrored method, name and version", async () => {
    const res = await post(
      as.mint(RESOURCE, { scope: "mcp:read mcp:write" }),
      { "Mcp-Method": "tools/call", "Mcp-Name": "write_note", "Mcp-Param-Region": "=?base64?dXMtd2VzdDE=?=" },
      call("write_note", { region: "us-west1" }),
    );
    expect(res.status).toBe(200);
    expect(res.body.headers).toEqual({
      method: "tools/call",
      name: "write_note",
      region: "=?base64?dXMtd2VzdDE=?=",
      version: "2026-07-28",
    });
  });
});

/**
 * The scope policy covers `completion/complete`: mcp-framework runs the `complete()` of the
 * prompt a `ref/prompt` names and of the resource whose URI a `ref/resource` names, that
 * prompt's or resource's own code, which may suggest what only its scope should see. Real
 * HTTP Stream transport behind the bridge, the MCP SDK v1 client, the local oidc-provider.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { MCPPrompt, MCPResource, MCPServer } from "mcp-framework";
import { z } from "zod";
import { OAuthAuthProvider } from "@mcp-oauth/mcp-framework";
import { WhoamiTool } from "../../../examples/mcp-framework-server/src/tools.js";
import {
  startTestAuthorizationServer,
  type TestAuthorizationServer,
} from "../../../test/helpers/authorization-server.js";
import { connectStreamableHttp, freePort, startFramework, type Started } from "./support.js";

const SECRET_CUSTOMER = "secret-customer-only-admins-see";
const completions = { prompt: 0, resource: 0 };

type Message = Awaited<ReturnType<MCPPrompt["getMessages"]>>[number];

class AdminReportPrompt extends MCPPrompt<{ customer: string }> {
  name = "admin_report";
  description = "needs mcp:admin";
  schema = { customer: { type: z.string(), description: "customer", required: true } };
  async generateMessages(): Promise<Message[]> {
    return [{ role: "user", content: { type: "text", text: "report" } }];
  }
  override async complete() {
    completions.prompt++;
    return { values: [SECRET_CUSTOMER] };
  }
}

class SecretResource extends MCPResource {
  uri = "config://secret";
  name = "secret";
  override description = "needs mcp:admin";
  async read() {
    return [{ uri: this.uri, text: "secret" }];
  }
  override async complete() {
    completions.resource++;
    return { values: [SECRET_CUSTOMER] };
  }
}

let as: TestAuthorizationServer | undefined;
let started: Started | undefined;
let url: string;
const clients: Client[] = [];

beforeAll(async () => {
  as = await startTestAuthorizationServer();
  const issuer = as.issuer;
  const port = await freePort();
  url = `http://127.0.0.1:${port}/mcp`;
  const provider = new OAuthAuthProvider({
    resource: url,
    authorizationServers: [issuer],
    scopePolicy: { prompts: { admin_report: ["mcp:admin"] }, resources: { "config://secret": ["mcp:admin"] } },
  });
  const server = new MCPServer({
    name: "completion-policy",
    version: "0.0.0",
    transport: { type: "http-stream", options: { port, auth: { provider } } },
  });
  // The framework's handlers need at least one tool.
  server.addTool(WhoamiTool);
  server.addPrompt(AdminReportPrompt);
  server.addResource(SecretResource);
  started = await startFramework(server, port);
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
  await started?.stop();
  await as?.close();
});

async function client(scope: string): Promise<Client> {
  const connected = await connectStreamableHttp(url, as!.mint(url, { scope }));
  clients.push(connected);
  return connected;
}

const REFS = [
  ["ref/prompt", { type: "ref/prompt", name: "admin_report" }, "prompt"],
  ["ref/resource", { type: "ref/resource", uri: "config://secret" }, "resource"],
] as const;

describe("completion/complete behind the bridge", () => {
  it.each(REFS)(
    "refuses a %s to the protected one to an mcp:read token: its complete() never runs",
    async (_name, ref, kind) => {
      const reader = await client("mcp:read");
      const before = completions[kind];
      await expect(reader.complete({ ref, argument: { name: "customer", value: "" } })).rejects.toThrow(
        /"error":"insufficient_scope"/,
      );
      expect(completions[kind]).toBe(before);
    },
  );

  it.each(REFS)("answers a %s to the protected one for an mcp:admin token", async (_name, ref, _kind) => {
    const admin = await client("mcp:read mcp:admin");
    const result = await admin.complete({ ref, argument: { name: "customer", value: "" } });
    expect(result.completion.values).toEqual([SECRET_CUSTOMER]);
  });
});

/**
 * mcp-framework's one task store through `frameworkRequestHandler()` (stateless: a task is
 * created in one request and read in later ones): each caller lists, reads and cancels only
 * the tasks they created, with mcpOAuth in front and with the provider validating alone.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import express from "express";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { getRequestContext, MCPServer, MCPTool } from "mcp-framework";
import { z } from "zod";
import { mcpOAuth } from "@mcp-oauth/express";
import { frameworkRequestHandler, OAuthAuthProvider, type OAuthRequestContext } from "@mcp-oauth/mcp-framework";
import {
  startTestAuthorizationServer,
  type TestAuthorizationServer,
} from "../../../test/helpers/authorization-server.js";
import { postJson } from "./support.js";

class TaskTool extends MCPTool {
  name = "task_whoami";
  description = "Returns the caller's subject, as a task when asked.";
  schema = z.object({});
  override execution = { taskSupport: "optional" as const };
  async execute(): Promise<{ sub: string }> {
    return { sub: String((getRequestContext() as Partial<OAuthRequestContext> | undefined)?.sub) };
  }
}

let as: TestAuthorizationServer;
beforeAll(async () => {
  as = await startTestAuthorizationServer();
});
afterAll(() => as.close());

describe.each([
  ["mcpOAuth in front", true],
  ["the provider alone", false],
])("tasks through frameworkRequestHandler(), %s", (_name, inFront) => {
  let http: Server;
  let url: string;
  beforeAll(async () => {
    http = createServer();
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`;
    const options = { resource: url, authorizationServers: [as.issuer] };
    const mcp = new MCPServer({
      name: "tasks-front",
      version: "0.0.0",
      tasks: { enabled: true },
      auth: { provider: new OAuthAuthProvider(options) },
    });
    mcp.addTool(TaskTool);
    const app = express();
    if (inFront) app.use(mcpOAuth(options));
    app.use(express.json());
    app.all("/mcp", frameworkRequestHandler(mcp));
    http.on("request", app);
  });
  afterAll(
    () =>
      new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      }),
  );

  const ask = async (
    sub: string,
    method: string,
    params: Record<string, unknown>,
  ): Promise<Record<string, unknown>> => {
    const res = await postJson(
      url,
      { jsonrpc: "2.0", id: 1, method, params },
      { authorization: `Bearer ${as.mint(url, { sub })}`, "mcp-protocol-version": "2025-06-18" },
    );
    expect(res.status).toBe(200);
    return JSON.parse(res.body) as Record<string, unknown>;
  };

  it("bob neither lists nor reads nor cancels alice's task; alice does", async () => {
    const created = await ask("alice", "tools/call", { name: "task_whoami", arguments: {}, task: { ttl: 60_000 } });
    const taskId = (created["result"] as { task: { taskId: string } }).task.taskId;
    const listed = async (sub: string): Promise<string[]> =>
      ((await ask(sub, "tasks/list", {}))["result"] as { tasks: Array<{ taskId: string }> }).tasks.map((t) => t.taskId);
    expect(await listed("alice")).toContain(taskId);
    expect(await listed("bob")).not.toContain(taskId);
    for (const method of ["tasks/get", "tasks/result", "tasks/cancel"]) {
      const answer = await ask("bob", method, { taskId });
      expect([method, answer["result"], JSON.stringify(answer["error"])]).toEqual([
        method,
        undefined,
        expect.stringContaining("Task not found"),
      ]);
    }
    expect((await ask("alice", "tasks/get", { taskId }))["result"]).toMatchObject({ taskId });
  });
});

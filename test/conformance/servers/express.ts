/**
 * The conformance suite's "everything" server on Express and the MCP SDK v1 (stateful
 * Streamable HTTP at /mcp), with a switch for our protection: `protect: false` is the server
 * as the SDK's docs build it (`createMcpExpressApp`, whose Host check is its DNS rebinding
 * protection), `protect: true` is the same server with `app.use(mcpOAuth(...))` in front of
 * the MCP routes, configured by `OAUTH_*` as the Express example is. The SDK's builder parses
 * JSON first, so mcpOAuth meets an already parsed body here (the example has the README's
 * order, mcpOAuth before `express.json()`). `PORT` and `HOST` as in the examples.
 */
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Request, Response } from "express";
import { McpServer, ResourceTemplate } from "@modelcontextprotocol/sdk/server/mcp.js";
import { completable } from "@modelcontextprotocol/sdk/server/completable.js";
import { createMcpExpressApp } from "@modelcontextprotocol/sdk/server/express.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import {
  CreateMessageResultSchema,
  ElicitResultSchema,
  isInitializeRequest,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
  type ServerNotification,
  type ServerRequest,
} from "@modelcontextprotocol/sdk/types.js";
import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import { z } from "zod";
import { mcpOAuth, optionsFromEnv, type AuthInfo } from "@mcp-oauth/express";
import type { Environment } from "@mcp-oauth/core";
import {
  completionsFor,
  DEFAULTS_SCHEMA,
  delay,
  ELICITATION_SCHEMA,
  ENUMS_SCHEMA,
  promptWithArgumentsText,
  RED_PIXEL_PNG,
  SILENT_WAV,
  templateText,
  TEXTS,
  TOOL_SCOPES,
  URIS,
  type RunningConformanceServer,
} from "./fixtures.js";

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

const text = (value: string) => ({ type: "text" as const, text: value });

function registerTools(server: McpServer): void {
  server.registerTool("test_simple_text", { description: "Returns simple text" }, async () => ({
    content: [text(TEXTS.simpleText)],
  }));
  server.registerTool("test_image_content", { description: "Returns an image" }, async () => ({
    content: [{ type: "image", data: RED_PIXEL_PNG, mimeType: "image/png" }],
  }));
  server.registerTool("test_audio_content", { description: "Returns audio" }, async () => ({
    content: [{ type: "audio", data: SILENT_WAV, mimeType: "audio/wav" }],
  }));
  server.registerTool("test_embedded_resource", { description: "Returns an embedded resource" }, async () => ({
    content: [
      { type: "resource", resource: { uri: URIS.embedded, mimeType: "text/plain", text: TEXTS.embeddedResource } },
    ],
  }));
  server.registerTool(
    "test_multiple_content_types",
    { description: "Returns text, an image and a resource" },
    async () => ({
      content: [
        text(TEXTS.mixedIntro),
        { type: "image", data: RED_PIXEL_PNG, mimeType: "image/png" },
        { type: "resource", resource: { uri: URIS.mixed, mimeType: "application/json", text: TEXTS.mixedResource } },
      ],
    }),
  );
  server.registerTool(
    "test_tool_with_logging",
    { description: "Logs three messages while it runs" },
    async (extra: Extra) => {
      for (const [index, line] of TEXTS.logLines.entries()) {
        if (index > 0) await delay(50);
        // On the request's own stream (related to it), as a client without a GET stream expects.
        await extra.sendNotification({ method: "notifications/message", params: { level: "info", data: line } });
      }
      return { content: [text("Logging tool completed")] };
    },
  );
  server.registerTool("test_error_handling", { description: "Always fails" }, async (): Promise<never> => {
    throw new Error(TEXTS.errorTool);
  });
  server.registerTool(
    "test_tool_with_progress",
    { description: "Reports progress 0, 50 and 100 of 100" },
    async (extra: Extra) => {
      const progressToken = extra._meta?.progressToken;
      for (const progress of [0, 50, 100]) {
        if (progress > 0) await delay(50);
        if (progressToken !== undefined)
          await extra.sendNotification({
            method: "notifications/progress",
            params: { progressToken, progress, total: 100 },
          });
      }
      return { content: [text("Progress tool completed")] };
    },
  );
  server.registerTool(
    "test_sampling",
    { description: "Asks the client's LLM", inputSchema: { prompt: z.string().describe("The prompt") } },
    async ({ prompt }, extra: Extra) => {
      const result = await extra.sendRequest(
        {
          method: "sampling/createMessage",
          params: { messages: [{ role: "user", content: text(prompt) }], maxTokens: 100 },
        },
        CreateMessageResultSchema,
      );
      const answer = result.content.type === "text" ? result.content.text : JSON.stringify(result.content);
      return { content: [text(`LLM response: ${answer}`)] };
    },
  );
  const elicit = async (message: string, requestedSchema: object, extra: Extra) =>
    extra.sendRequest(
      { method: "elicitation/create", params: { message, requestedSchema } } as ServerRequest,
      ElicitResultSchema,
    );
  server.registerTool(
    "test_elicitation",
    { description: "Asks the user", inputSchema: { message: z.string().describe("The message") } },
    async ({ message }, extra: Extra) => {
      const result = await elicit(message, ELICITATION_SCHEMA, extra);
      return {
        content: [text(`User response: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`)],
      };
    },
  );
  for (const [name, schema] of [
    ["test_elicitation_sep1034_defaults", DEFAULTS_SCHEMA],
    ["test_elicitation_sep1330_enums", ENUMS_SCHEMA],
  ] as const) {
    server.registerTool(name, { description: `Elicitation with ${name.slice(16)}` }, async (extra) => {
      const result = await elicit("Please review the form", schema, extra);
      return {
        content: [
          text(`Elicitation completed: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`),
        ],
      };
    });
  }
}

function registerResources(server: McpServer): void {
  server.registerResource(
    "static-text",
    URIS.staticText,
    { description: "A static text resource", mimeType: "text/plain" },
    async (uri) => ({ contents: [{ uri: uri.href, mimeType: "text/plain", text: TEXTS.staticText }] }),
  );
  server.registerResource(
    "static-binary",
    URIS.staticBinary,
    { description: "A static binary resource", mimeType: "image/png" },
    async (uri) => ({ contents: [{ uri: uri.href, mimeType: "image/png", blob: RED_PIXEL_PNG }] }),
  );
  server.registerResource(
    "watched-resource",
    URIS.watched,
    { description: "A resource clients subscribe to", mimeType: "text/plain" },
    async (uri) => ({ contents: [{ uri: uri.href, mimeType: "text/plain", text: "watched" }] }),
  );
  server.registerResource(
    "template",
    new ResourceTemplate(URIS.template, { list: undefined }),
    { description: "Data for an id", mimeType: "application/json" },
    async (uri, { id }) => ({
      contents: [{ uri: uri.href, mimeType: "application/json", text: templateText(String(id)) }],
    }),
  );
  // resources-subscribe / -unsubscribe: McpServer has no handlers of its own for these.
  const subscribed = new Set<string>();
  server.server.registerCapabilities({ resources: { subscribe: true, listChanged: true } });
  server.server.setRequestHandler(SubscribeRequestSchema, async (request) => {
    subscribed.add(request.params.uri);
    return {};
  });
  server.server.setRequestHandler(UnsubscribeRequestSchema, async (request) => {
    subscribed.delete(request.params.uri);
    return {};
  });
}

function registerPrompts(server: McpServer): void {
  server.registerPrompt("test_simple_prompt", { description: "A prompt without arguments" }, async () => ({
    messages: [{ role: "user", content: text(TEXTS.simplePrompt) }],
  }));
  server.registerPrompt(
    "test_prompt_with_arguments",
    {
      description: "A prompt with two arguments",
      argsSchema: {
        arg1: completable(z.string().describe("First test argument"), (value) => completionsFor(value)),
        arg2: z.string().describe("Second test argument"),
      },
    },
    async ({ arg1, arg2 }) => ({ messages: [{ role: "user", content: text(promptWithArgumentsText(arg1, arg2)) }] }),
  );
  server.registerPrompt(
    "test_prompt_with_embedded_resource",
    {
      description: "A prompt embedding a resource",
      argsSchema: { resourceUri: z.string().describe("URI of the resource to embed") },
    },
    async ({ resourceUri }) => ({
      messages: [
        {
          role: "user",
          content: {
            type: "resource",
            resource: { uri: resourceUri, mimeType: "text/plain", text: TEXTS.promptResource },
          },
        },
        { role: "user", content: text(TEXTS.promptResourceAfter) },
      ],
    }),
  );
  server.registerPrompt("test_prompt_with_image", { description: "A prompt with an image" }, async () => ({
    messages: [
      { role: "user", content: { type: "image", data: RED_PIXEL_PNG, mimeType: "image/png" } },
      { role: "user", content: text(TEXTS.promptImageAfter) },
    ],
  }));
}

function createMcpServer(): McpServer {
  const server = new McpServer(
    { name: "mcp-oauth-conformance-express", version: "0.0.0" },
    { capabilities: { logging: {} } },
  );
  registerTools(server);
  registerResources(server);
  registerPrompts(server);
  return server;
}

/** Who opened a session: the docs' rule, a session serves only the subject that opened it. */
const ownerOf = (auth: AuthInfo | undefined): string => {
  const extra = (auth?.extra ?? {}) as { iss?: string; sub?: string };
  return JSON.stringify([extra.iss ?? "", extra.sub ?? auth?.clientId ?? ""]);
};

export async function startExpressConformanceServer(
  env: Environment,
  { protect }: { protect: boolean },
): Promise<RunningConformanceServer> {
  const host = env["HOST"] || "127.0.0.1";
  const app = createMcpExpressApp({ host });
  const httpServer = createServer(app);
  await new Promise<void>((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(Number(env["PORT"] ?? 0), host, () => resolve());
  });
  const ownUrl = `http://${host}:${(httpServer.address() as AddressInfo).port}/mcp`;
  if (protect) {
    app.use(
      mcpOAuth({
        ...optionsFromEnv(env, env["OAUTH_RESOURCE"] ? {} : { resource: ownUrl }),
        resourceName: "mcp-oauth conformance server (Express)",
        scopePolicy: { tools: TOOL_SCOPES },
      }),
    );
  }

  const sessions = new Map<string, { transport: StreamableHTTPServerTransport; owner: string }>();
  const sessionNotFound = (res: Response): void => {
    res.status(404).json({ jsonrpc: "2.0", error: { code: -32001, message: "Session not found" }, id: null });
  };
  app.post("/mcp", async (req: Request, res: Response) => {
    const owner = ownerOf(req.auth);
    const sessionId = req.header("mcp-session-id");
    if (sessionId !== undefined) {
      const session = sessions.get(sessionId);
      if (!session || session.owner !== owner) return sessionNotFound(res);
      return session.transport.handleRequest(req, res, req.body);
    }
    if (!isInitializeRequest(req.body)) {
      res
        .status(400)
        .json({ jsonrpc: "2.0", error: { code: -32000, message: "No session: initialize first" }, id: null });
      return;
    }
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        sessions.set(id, { transport, owner });
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    await createMcpServer().connect(transport);
    await transport.handleRequest(req, res, req.body);
  });
  const existingSession = async (req: Request, res: Response): Promise<void> => {
    const session = sessions.get(req.header("mcp-session-id") ?? "");
    if (!session || session.owner !== ownerOf(req.auth)) return sessionNotFound(res);
    await session.transport.handleRequest(req, res);
  };
  app.get("/mcp", existingSession);
  app.delete("/mcp", existingSession);

  return {
    url: ownUrl,
    close: async () => {
      await Promise.all([...sessions.values()].map(({ transport }) => transport.close()));
      sessions.clear();
      await new Promise<void>((resolve) => {
        httpServer.close(() => resolve());
        httpServer.closeAllConnections();
      });
    },
  };
}

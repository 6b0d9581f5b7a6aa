/**
 * The conformance suite's "everything" server on mcp-framework (its HTTP Stream transport at
 * /mcp, `MCP_RESPONSE_MODE` `batch` or `stream`), with a switch for our protection:
 * `protect: false` is the framework on its own, its Origin allow-list (the framework's DNS
 * rebinding protection) set to the server's origin; `protect: true` is the same server with
 * `auth: { provider: new OAuthAuthProvider(...) }` configured by `OAUTH_*`, as the
 * mcp-framework example is. `PORT` (a fixed port: the framework cannot report an ephemeral
 * one) and `HOST` as in the examples. Only the framework's own API: what it cannot do fails
 * with and without protection alike (resources-templates-read: it reads resources by exact
 * URI only, and lists every resource class in resources/list, so a template cannot be one).
 */
import { connect } from "node:net";
import { MCPPrompt, MCPResource, MCPServer, MCPTool, type ElicitationFieldSchema } from "mcp-framework";
import { z } from "zod";
import { OAuthAuthProvider, optionsFromEnv } from "@mcp-oauth/mcp-framework";
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
  TEXTS,
  TOOL_SCOPES,
  URIS,
  type RunningConformanceServer,
} from "./fixtures.js";

const noArguments = z.object({});

class SimpleTextTool extends MCPTool {
  name = "test_simple_text";
  description = "Returns simple text";
  schema = noArguments;
  async execute(): Promise<string> {
    return TEXTS.simpleText;
  }
}

class ImageTool extends MCPTool {
  name = "test_image_content";
  description = "Returns an image";
  schema = noArguments;
  async execute(): Promise<unknown> {
    return { type: "image", data: RED_PIXEL_PNG, mimeType: "image/png" };
  }
}

class AudioTool extends MCPTool {
  name = "test_audio_content";
  description = "Returns audio";
  schema = noArguments;
  async execute(): Promise<unknown> {
    return { type: "audio", data: SILENT_WAV, mimeType: "audio/wav" };
  }
}

class EmbeddedResourceTool extends MCPTool {
  name = "test_embedded_resource";
  description = "Returns an embedded resource";
  schema = noArguments;
  async execute(): Promise<unknown> {
    return { type: "resource", resource: { uri: URIS.embedded, mimeType: "text/plain", text: TEXTS.embeddedResource } };
  }
}

class MixedContentTool extends MCPTool {
  name = "test_multiple_content_types";
  description = "Returns text, an image and a resource";
  schema = noArguments;
  async execute(): Promise<unknown> {
    return [
      { type: "text", text: TEXTS.mixedIntro },
      { type: "image", data: RED_PIXEL_PNG, mimeType: "image/png" },
      { type: "resource", resource: { uri: URIS.mixed, mimeType: "application/json", text: TEXTS.mixedResource } },
    ];
  }
}

class LoggingTool extends MCPTool {
  name = "test_tool_with_logging";
  description = "Logs three messages while it runs";
  schema = noArguments;
  async execute(): Promise<string> {
    for (const [index, line] of TEXTS.logLines.entries()) {
      if (index > 0) await delay(50);
      await this.log("info", line);
    }
    return "Logging tool completed";
  }
}

class ErrorTool extends MCPTool {
  name = "test_error_handling";
  description = "Always fails";
  schema = noArguments;
  async execute(): Promise<never> {
    throw new Error(TEXTS.errorTool);
  }
}

class ProgressTool extends MCPTool {
  name = "test_tool_with_progress";
  description = "Reports progress 0, 50 and 100 of 100";
  schema = noArguments;
  async execute(): Promise<string> {
    for (const progress of [0, 50, 100]) {
      if (progress > 0) await delay(50);
      await this.reportProgress(progress, 100);
    }
    // The framework sends progress unrelated to the request (on the GET stream, not the call's
    // own): give the last one time to reach the client before the result ends the call.
    await delay(50);
    return "Progress tool completed";
  }
}

class SamplingTool extends MCPTool {
  name = "test_sampling";
  description = "Asks the client's LLM";
  schema = z.object({ prompt: z.string().describe("The prompt") });
  async execute({ prompt }: { prompt: string }): Promise<string> {
    const result = await this.samplingRequest({
      messages: [{ role: "user", content: { type: "text", text: prompt } }],
      maxTokens: 100,
    });
    return `LLM response: ${result.content.type === "text" ? result.content.text : JSON.stringify(result.content)}`;
  }
}

/** The suite's schemas as mcp-framework's field records (`elicit` rebuilds the object schema). */
const fields = (
  schema: { properties: object },
  required: readonly string[] = [],
): Record<string, ElicitationFieldSchema> =>
  Object.fromEntries(
    Object.entries(schema.properties).map(([name, field]) => [name, { ...field, optional: !required.includes(name) }]),
  ) as Record<string, ElicitationFieldSchema>;

class ElicitationTool extends MCPTool {
  name = "test_elicitation";
  description = "Asks the user";
  schema = z.object({ message: z.string().describe("The message") });
  async execute({ message }: { message: string }): Promise<string> {
    const result = await this.elicit(message, fields(ELICITATION_SCHEMA, ELICITATION_SCHEMA.required));
    return `User response: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`;
  }
}

class ElicitationDefaultsTool extends MCPTool {
  name = "test_elicitation_sep1034_defaults";
  description = "Elicitation with a default for every primitive type";
  schema = noArguments;
  async execute(): Promise<string> {
    const result = await this.elicit("Please review the form", fields(DEFAULTS_SCHEMA));
    return `Elicitation completed: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`;
  }
}

class ElicitationEnumsTool extends MCPTool {
  name = "test_elicitation_sep1330_enums";
  description = "Elicitation with the five enum shapes";
  schema = noArguments;
  async execute(): Promise<string> {
    const result = await this.elicit("Please choose", fields(ENUMS_SCHEMA));
    return `Elicitation completed: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`;
  }
}

class StaticTextResource extends MCPResource {
  uri = URIS.staticText;
  name = "static-text";
  override description = "A static text resource";
  override mimeType = "text/plain";
  async read() {
    return [{ uri: this.uri, mimeType: this.mimeType, text: TEXTS.staticText }];
  }
}

class StaticBinaryResource extends MCPResource {
  uri = URIS.staticBinary;
  name = "static-binary";
  override description = "A static binary resource";
  override mimeType = "image/png";
  async read() {
    return [{ uri: this.uri, mimeType: this.mimeType, blob: RED_PIXEL_PNG }];
  }
}

const subscribed = new Set<string>();

class WatchedResource extends MCPResource {
  uri = URIS.watched;
  name = "watched-resource";
  override description = "A resource clients subscribe to";
  override mimeType = "text/plain";
  async read() {
    return [{ uri: this.uri, mimeType: this.mimeType, text: "watched" }];
  }
  override async subscribe(): Promise<void> {
    subscribed.add(this.uri);
  }
  override async unsubscribe(): Promise<void> {
    subscribed.delete(this.uri);
  }
}

type Message = Awaited<ReturnType<MCPPrompt["getMessages"]>>[number];

/** Prompt messages as the MCP schema has them: the framework's type wants `text` on every content, even an image's. */
const wire = (messages: { role: string; content: object }[]): Message[] => messages as Message[];

class SimplePrompt extends MCPPrompt {
  name = "test_simple_prompt";
  description = "A prompt without arguments";
  schema = {};
  async generateMessages(): Promise<Message[]> {
    return [{ role: "user", content: { type: "text", text: TEXTS.simplePrompt } }];
  }
}

class PromptWithArguments extends MCPPrompt<{ arg1: string; arg2: string }> {
  name = "test_prompt_with_arguments";
  description = "A prompt with two arguments";
  schema = {
    arg1: { type: z.string(), description: "First test argument", required: true },
    arg2: { type: z.string(), description: "Second test argument", required: true },
  };
  async generateMessages({ arg1, arg2 }: { arg1: string; arg2: string }): Promise<Message[]> {
    return [{ role: "user", content: { type: "text", text: promptWithArgumentsText(arg1, arg2) } }];
  }
  override async complete(argumentName: string, value: string) {
    return { values: argumentName === "arg1" ? completionsFor(value) : [] };
  }
}

class PromptWithEmbeddedResource extends MCPPrompt<{ resourceUri: string }> {
  name = "test_prompt_with_embedded_resource";
  description = "A prompt embedding a resource";
  schema = { resourceUri: { type: z.string(), description: "URI of the resource to embed", required: true } };
  async generateMessages({ resourceUri }: { resourceUri: string }): Promise<Message[]> {
    return wire([
      {
        role: "user",
        content: {
          type: "resource",
          resource: { uri: resourceUri, mimeType: "text/plain", text: TEXTS.promptResource },
        },
      },
      { role: "user", content: { type: "text", text: TEXTS.promptResourceAfter } },
    ]);
  }
}

class PromptWithImage extends MCPPrompt {
  name = "test_prompt_with_image";
  description = "A prompt with an image";
  schema = {};
  async generateMessages(): Promise<Message[]> {
    return wire([
      { role: "user", content: { type: "image", data: RED_PIXEL_PNG, mimeType: "image/png" } },
      { role: "user", content: { type: "text", text: TEXTS.promptImageAfter } },
    ]);
  }
}

/** Resolves once something accepts TCP connections on `port`. */
async function listening(host: string, port: number, failed: () => unknown): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (failed() !== undefined) throw failed();
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, host, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`mcp-framework server on ${host}:${port} did not start`);
    await delay(20);
  }
}

/**
 * Starts an mcp-framework server on `host:port` (its `start()` resolves only at `stop()`, so
 * it is not awaited): resolves once the port accepts connections, with the function that stops it.
 */
export async function startInBackground(server: MCPServer, host: string, port: number): Promise<() => Promise<void>> {
  let failure: unknown;
  const running = server.start().catch((error: unknown) => {
    failure = error ?? new Error("mcp-framework failed to start");
  });
  const stop = async (): Promise<void> => {
    await server.stop();
    await running;
  };
  try {
    await listening(host, port, () => failure);
  } catch (error) {
    await stop().catch(() => {});
    throw error;
  }
  return stop;
}

export async function startFrameworkConformanceServer(
  env: Environment,
  { protect }: { protect: boolean },
): Promise<RunningConformanceServer> {
  const host = env["HOST"] || "127.0.0.1";
  const port = Number(env["PORT"]);
  if (!Number.isInteger(port) || port <= 0) throw new Error("PORT must be a fixed port for mcp-framework");
  const responseMode = (env["MCP_RESPONSE_MODE"] ?? "batch") as "batch" | "stream";
  const origin = `http://${host}:${port}`;
  const url = `${origin}/mcp`;
  const auth = protect
    ? {
        provider: new OAuthAuthProvider({
          ...optionsFromEnv(env, env["OAUTH_RESOURCE"] ? {} : { resource: url }),
          resourceName: "mcp-oauth conformance server (mcp-framework)",
          scopePolicy: { tools: TOOL_SCOPES },
        }),
      }
    : undefined;
  const server = new MCPServer({
    name: "mcp-oauth-conformance-mcp-framework",
    version: "0.0.0",
    logging: true,
    transport: {
      type: "http-stream",
      options: {
        port,
        host,
        endpoint: "/mcp",
        responseMode,
        // Without our provider, the framework's own Origin check is the DNS rebinding protection.
        ...(protect ? { auth } : { cors: { allowedOrigins: [origin] } }),
      },
    },
  });
  for (const Tool of [
    SimpleTextTool,
    ImageTool,
    AudioTool,
    EmbeddedResourceTool,
    MixedContentTool,
    LoggingTool,
    ErrorTool,
    ProgressTool,
    SamplingTool,
    ElicitationTool,
    ElicitationDefaultsTool,
    ElicitationEnumsTool,
  ])
    server.addTool(Tool);
  for (const Resource of [StaticTextResource, StaticBinaryResource, WatchedResource]) server.addResource(Resource);
  for (const Prompt of [SimplePrompt, PromptWithArguments, PromptWithEmbeddedResource, PromptWithImage])
    server.addPrompt(Prompt);

  return { url, close: await startInBackground(server, host, port) };
}

/**
 * The provider's own options are the Express middlewares' (`cors` as `oauthCors()`,
 * `protectedResourceMetadata` as `protectedResourceMetadata()`), validated the same way:
 * the metadata options when the provider is built, the Origin rule (which joins the
 * transport's own `cors.allowedOrigins`) when `MCPServer.start()` creates the transport.
 */
import { describe, expect, it } from "@jest/globals";
import { MCPServer } from "mcp-framework";
import { McpOAuthConfigError } from "@mcp-oauth/core";
import { OAuthAuthProvider, frameworkCors, type OAuthAuthProviderOptions } from "@mcp-oauth/mcp-framework";
import { WhoamiTool } from "../../../examples/mcp-framework-server/src/tools.js";
import { freePort, rawRequest } from "./support.js";

const base = { resource: "http://127.0.0.1:1/mcp", authorizationServers: ["https://auth.example.com"] };

function thrownBy(build: () => unknown): unknown {
  try {
    build();
  } catch (error) {
    return error;
  }
  return undefined;
}

/**
 * What `start()` rejected with; if the server listens instead (the option was accepted), it
 * is stopped, so a regression fails the test instead of leaving a server behind.
 */
async function startUpFailure(server: MCPServer, port: number): Promise<unknown> {
  let failure: unknown;
  const running = server.start().then(
    () => undefined,
    (error: unknown) => {
      failure = error;
    },
  );
  for (let waitedMs = 0; failure === undefined && waitedMs < 10_000; waitedMs += 20) {
    const listening = await rawRequest(`http://127.0.0.1:${port}/health`).then(
      () => true,
      () => false,
    );
    if (listening) {
      await server.stop();
      await running;
      return "started";
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return failure;
}

describe("at construction", () => {
  it.each([
    [{ protectedResourceMetadata: { rateLimit: { limit: 0 } } }, "rateLimit.limit"],
    [{ protectedResourceMetadata: { rateLimit: { windowMs: -1 } } }, "rateLimit.windowMs"],
    [{ protectedResourceMetadata: { cacheControl: "a\nb" } }, "protectedResourceMetadata.cacheControl"],
    [{ cache: { maxEntries: 0 } }, "cache.maxEntries"],
  ])("%j is refused naming %s", (extra, option) => {
    const error = thrownBy(() => new OAuthAuthProvider({ ...base, ...(extra as Partial<OAuthAuthProviderOptions>) }));
    expect(error).toBeInstanceOf(McpOAuthConfigError);
    expect((error as McpOAuthConfigError).option).toBe(option);
  });
});

describe("when MCPServer.start() creates the transport", () => {
  it.each([
    ["the provider's cors.allowedOrigins as a string", { cors: { allowedOrigins: "https://app.example.com" } }, {}],
    [
      "a trailing slash in the transport's frameworkCors()",
      {},
      { cors: frameworkCors({ allowedOrigins: ["https://app.example.com/"] }) },
    ],
  ])("%s fails start-up naming cors.allowedOrigins", async (_name, providerExtra, transportExtra) => {
    const port = await freePort();
    const provider = new OAuthAuthProvider({ ...base, ...(providerExtra as Partial<OAuthAuthProviderOptions>) });
    const server = new MCPServer({
      name: "options",
      version: "0.0.0",
      transport: { type: "http-stream", options: { port, host: "127.0.0.1", auth: { provider }, ...transportExtra } },
    });
    server.addTool(WhoamiTool);
    expect(await startUpFailure(server, port)).toEqual(expect.objectContaining({ option: "cors.allowedOrigins" }));
  });
});

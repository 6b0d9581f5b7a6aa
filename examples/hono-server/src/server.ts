/** Starts the Hono example on HOST:PORT through @hono/node-server, configured only by the environment. */
import { serve, type ServerType } from "@hono/node-server";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Environment } from "@mcp-oauth/core";
import { createExampleApp, type ExampleApp } from "./app.js";

export interface RunningExample {
  /** The MCP endpoint URL. */
  url: string;
  example: ExampleApp;
  server: ServerType;
  close(): Promise<void>;
}

export async function startExampleServer(env: Environment = process.env): Promise<RunningExample> {
  const host = env["HOST"] || "127.0.0.1";
  const port = Number(env["PORT"] ?? 3000);
  // The resource URL needs the port (PORT=0: known once listening), and the app the resource
  // URL: listen with a handler that calls the app once it exists.
  let example: ExampleApp | undefined;
  const server = serve({
    fetch: (request) => (example === undefined ? new Response(null, { status: 503 }) : example.app.fetch(request)),
    port,
    hostname: host,
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.once("listening", () => resolve());
  });
  const address = server.address() as AddressInfo;
  // A wildcard bind address is no URL a client can use: default the resource to loopback.
  const publicHost = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host;
  const urlHost = publicHost.includes(":") ? `[${publicHost}]` : publicHost;
  try {
    example = createExampleApp({ env, defaultResource: `http://${urlHost}:${address.port}/mcp` });
  } catch (error) {
    server.close();
    throw error;
  }
  const running = example;
  return {
    url: env["OAUTH_RESOURCE"] || `http://${urlHost}:${address.port}/mcp`,
    example: running,
    server,
    close: async () => {
      await running.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as Server).closeAllConnections();
      });
    },
  };
}

/** Starts the example on HOST:PORT, configured only by the environment. */
// @ts-nocheck

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Environment } from "@mcp-oauth/core";
import { createExampleApp, type ExampleApp } from "./app.js";

export interface RunningExample {
  /** The MCP endpoint URL. */
  url: string;
  example: ExampleApp;
  server: Server;
  close(): Promise<void>;
}

export async function startExampleServer(env: Environment = process.env): Promise<RunningExample> {
  const host = env["HOST"] || "127.0.0.1";
  const port = Number(env["PORT"] ?? 3000);
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  // A wildcard bind address is no URL a client can use: default the resource to loopback.
  const publicHost = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host;
  const urlHost = publicHost.includes(":") ? `[${publicHost}]` : publicHost;
  let example: ExampleApp;
  try {
    example = createExampleApp({ env, defaultResource: `http://${urlHost}:${address.port}/mcp` });
  } catch (error) {
    server.close();
    throw error;
  }
  server.on("request", example.app);
  return {
    url: env["OAUTH_RESOURCE"] || `http://${urlHost}:${address.port}/mcp`,
    example,
    server,
    close: async () => {
      await example.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/**
 * Helpers for the mcp-framework bridge tests: free ports (the framework's transports need
 * a fixed port), starting an `MCPServer` whose `start()` only resolves at `stop()`, raw
 * requests over fresh connections, strict challenge parsing, and the MCP SDK v1 client.
 */
import { expect } from "@jest/globals";
import { logger, type MCPServer } from "mcp-framework";
import { ERROR_RESPONSES } from "@mcp-oauth/core";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { parseChallenge } from "../../../test/helpers/challenge-parser.js";
import { createFrameworkExample, type FrameworkExample } from "../../../examples/mcp-framework-server/src/server.js";
import { freePort } from "../../../test/helpers/listen.js";

// mcp-framework writes every request to stderr at INFO and WARN (its public `logger`); with
// thousands of requests per test that would bury a failure. Errors stay visible (the bridge
// sends each response to its own session only: no "Error sending message to session" line
// per other open session, as the framework's broadcast logged).
logger.info = () => {};
logger.warn = () => {};

export interface Started {
  port: number;
  origin: string;
  stop(): Promise<void>;
}

/**
 * Starts a framework server on `port`: `start()` never resolves before `stop()`, so it is
 * not awaited; any HTTP answer means it listens (behind the bridge, `/health` needs a token too).
 */
export async function startFramework(server: MCPServer, port: number): Promise<Started> {
  let failure: unknown;
  const running = server.start().catch((error: unknown) => {
    failure = error;
  });
  const origin = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (failure !== undefined) throw failure;
    try {
      await rawRequest(`${origin}/health`);
      break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`framework server on port ${port} did not start`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    port,
    origin,
    stop: async () => {
      await server.stop();
      await running;
    },
  };
}

export type RunningExample = FrameworkExample & Started;

/** The example server, configured only by `env` (PORT and HOST are filled in). */
export async function startExample(env: Record<string, string>): Promise<RunningExample> {
  const port = await freePort();
  const example = createFrameworkExample({ HOST: "127.0.0.1", PORT: String(port), ...env });
  const started = await startFramework(example.server, port);
  return { ...example, ...started };
}

import { rawRequest, type RawResponse } from "../../../test/helpers/raw-request.js";
export { rawRequest, type RawResponse };

export const INITIALIZE = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw-test", version: "0" } },
} as const;

/** A JSON-RPC POST as the Streamable HTTP client sends it. */
export function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string | string[]> = {},
): Promise<RawResponse> {
  return rawRequest(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
    body: JSON.stringify(body),
  });
}

/** The `WWW-Authenticate` header parsed strictly (RFC 7235); fails unless it is one Bearer challenge. */
export function bearerChallenge(header: string | string[] | Headers | null | undefined): Record<string, string> {
  const value = header instanceof Headers ? header.get("www-authenticate") : header;
  expect(typeof value).toBe("string");
  const { scheme, params } = parseChallenge(value as string);
  expect(scheme).toBe("Bearer");
  return params;
}

/** A comma-separated header value as a lowercase list. */
export function headerList(value: string | string[] | null | undefined): string[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value.join(",") : value)
    .split(",")
    .map((v) => v.trim().toLowerCase())
    .filter((v) => v !== "");
}

/** The payload of a JWT, unverified (to learn the client_id the real flow registered). */
export function jwtPayload(token: string): Record<string, unknown> {
  const part = token.split(".")[1];
  if (part === undefined) throw new Error("not a JWT");
  return JSON.parse(Buffer.from(part, "base64url").toString("utf8")) as Record<string, unknown>;
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** The library's refusal body for a status and description, from the one table (error-responses.ts). */
export function errorBody(status: number, description: string): Record<string, unknown> {
  const row = Object.values(ERROR_RESPONSES).find((r) => r.description === description && r.status === status);
  if (row === undefined) throw new Error(`no ${status} answer described "${description}"`);
  return { error: row.error, error_description: description };
}

export const DESCRIPTIONS = {
  missing: "A bearer token is required",
  scheme: "Use the Bearer authentication scheme",
  malformedHeader: "The Authorization header is malformed",
  queryToken: "Access tokens are accepted only in the Authorization header",
  malformed: "The access token is malformed",
  expired: "The access token expired",
  audience: "The access token was not issued for this resource",
  signature: "The access token signature is invalid",
  notYetValid: "The access token is not valid yet",
  scope: "The access token lacks the scope this request needs",
  outage: "The access token cannot be checked right now; retry later",
} as const;

export interface Whoami {
  sub: string | undefined;
  clientId: string | undefined;
  scopes: string[];
}

/** Calls `whoami` and returns what the tool read from `getRequestContext()`. */
export async function callWhoami(client: Client): Promise<Whoami> {
  const result = await client.callTool({ name: "whoami", arguments: {} });
  expect(result.isError).toBeFalsy();
  const content = result.content as Array<{ type: string; text?: string }>;
  expect(content).toHaveLength(1);
  expect(content[0]!.type).toBe("text");
  return JSON.parse(content[0]!.text!) as Whoami;
}

/** A connected SDK v1 client over Streamable HTTP, sending `token` on every request. */
export async function connectStreamableHttp(url: string, token: string, fetchImpl?: typeof fetch): Promise<Client> {
  const client = new Client({ name: "mcp-oauth-test", version: "0.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
    ...(fetchImpl ? { fetch: fetchImpl } : {}),
  });
  await client.connect(transport);
  return client;
}

/**
 * A connected SDK v1 client over the legacy SSE transport. `streamToken` goes on the
 * event stream (undefined: none), `messageToken` on the POSTed messages.
 */
export async function connectSse(url: string, streamToken: string | undefined, messageToken: string): Promise<Client> {
  const client = new Client({ name: "mcp-oauth-test", version: "0.0.0" });
  const transport = new SSEClientTransport(new URL(url), {
    requestInit: { headers: { Authorization: `Bearer ${messageToken}` } },
    eventSourceInit: {
      fetch: (input, init) => {
        const headers = new Headers(init?.headers);
        if (streamToken === undefined) headers.delete("authorization");
        else headers.set("authorization", `Bearer ${streamToken}`);
        return fetch(input, { ...init, headers });
      },
    },
  });
  await client.connect(transport);
  return client;
}

export { freePort };

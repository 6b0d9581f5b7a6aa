/**
 * The example servers as DPoP tests start them (Express, mcp-framework HTTP Stream and SSE,
 * Hono), configured only by the environment, and requests to them carrying a token and
 * proofs: the shared part of the DPoP black-box tests.
 */
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { startExampleServer as startExpress } from "../../examples/express-server/src/server.js";
import { startExampleServer as startHono } from "../../examples/hono-server/src/server.js";
import { createFrameworkExample } from "../../examples/mcp-framework-server/src/server.js";
import { RedisReplayStore, RedisTokenCache } from "@mcp-oauth/redis";
import type { ResourceServer } from "@mcp-oauth/core";
import { logger } from "mcp-framework";
import { freePort } from "../helpers/listen.js";
import { rawRequest, type RawResponse } from "../helpers/raw-request.js";
import { dpopProof, splitChallenges, type DpopKey, type ProofSpec } from "../helpers/dpop.js";
import { parseChallenge } from "../helpers/challenge-parser.js";

// mcp-framework logs every request at INFO and WARN: a passing test prints nothing.
logger.info = () => {};
logger.warn = () => {};

export type HostName = "express" | "mcp-framework http-stream" | "mcp-framework sse" | "hono";

export interface RunningHost {
  name: HostName;
  /** The MCP endpoint (`/mcp`, or `/sse` for SSE). */
  url: string;
  /** The method of the request that opens MCP there: POST (Streamable HTTP) or GET (SSE). */
  method: "POST" | "GET";
  /** Where it listens (`http://127.0.0.1:PORT`): the URL's origin unless OAUTH_RESOURCE names another. */
  listening: string;
  resourceServer: ResourceServer;
  stop(): Promise<void>;
}

export const INITIALIZE = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "dpop-test", version: "0" } },
} as const;

async function closeStores(server: ResourceServer): Promise<void> {
  const cache = server.options.cache?.store;
  const replay = server.options.dpop.replayStore;
  await Promise.all([
    cache instanceof RedisTokenCache ? cache.close() : undefined,
    replay instanceof RedisReplayStore ? replay.close() : undefined,
  ]);
}

/** Starts `name` with `env` (PORT and HOST filled in), once it answers. */
export async function startHost(name: HostName, env: Record<string, string>): Promise<RunningHost> {
  if (name === "express" || name === "hono") {
    const start = name === "express" ? startExpress : startHono;
    const running = await start({ HOST: "127.0.0.1", PORT: "0", ...env });
    const resourceServer =
      name === "express"
        ? (running.example as Awaited<ReturnType<typeof startExpress>>["example"]).oauth.resourceServer
        : (running.example as Awaited<ReturnType<typeof startHono>>["example"]).oauth.protection.resourceServer;
    const { port } = running.server.address() as AddressInfo;
    return {
      name,
      url: running.url,
      method: "POST",
      listening: `http://127.0.0.1:${port}`,
      resourceServer,
      stop: async () => {
        await running.close();
        if (name === "hono") await closeStores(resourceServer);
      },
    };
  }
  const transport = name === "mcp-framework sse" ? "sse" : "http-stream";
  const port = await freePort();
  const example = createFrameworkExample({ ...env, HOST: "127.0.0.1", PORT: String(port), MCP_TRANSPORT: transport });
  let failure: unknown;
  const running = example.server.start().catch((error: unknown) => {
    failure = error;
  });
  const stop = async (): Promise<void> => {
    await example.server.stop();
    await running;
    await closeStores(example.provider.resourceServer);
  };
  for (let attempt = 0; ; attempt++) {
    if (failure !== undefined) {
      await stop();
      throw failure;
    }
    const up = await rawRequest(`http://127.0.0.1:${port}/health-of-the-listener`).then(
      () => true,
      () => false,
    );
    if (up) break;
    if (attempt > 400) {
      await stop();
      throw new Error("the example did not start");
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  const endpoint = transport === "sse" ? "/sse" : "/mcp";
  return {
    name,
    url: env["OAUTH_RESOURCE"] ?? `http://127.0.0.1:${port}${endpoint}`,
    method: transport === "sse" ? "GET" : "POST",
    listening: `http://127.0.0.1:${port}`,
    resourceServer: example.provider.resourceServer,
    stop,
  };
}

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
}

/**
 * The answer's status and headers to the request that opens MCP at `url` (an event stream is
 * closed as soon as its headers arrive). `dpop`: one value per `DPoP` header line.
 */
export function open(
  host: RunningHost,
  headers: { authorization?: string; dpop?: string | string[]; [name: string]: string | string[] | undefined },
  target: string = host.url,
  body: unknown = INITIALIZE,
): Promise<Answer> {
  const sent: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) sent[name] = value;
  if (host.method === "GET") {
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        target,
        { method: "GET", headers: { accept: "text/event-stream", ...sent }, agent: false },
        (res) => {
          resolve({ status: res.statusCode ?? 0, headers: res.headers });
          res.destroy();
        },
      );
      req.on("error", reject);
      req.end();
    });
  }
  return rawRequest(target, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...sent },
    body: JSON.stringify(body),
  }).then((res: RawResponse) => ({ status: res.status, headers: res.headers }));
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** A proof for a request to `host` (its method and URL) with `token`, changed by `spec`. */
export function proofFor(host: RunningHost, key: DpopKey, token: string, spec: ProofSpec = {}): Promise<string> {
  return dpopProof(key, { htm: host.method, htu: host.url, accessToken: token, ...spec }, nowSeconds());
}

/** The challenges of an answer by scheme: `{ Bearer: {...}, DPoP: {...} }`. */
export function challengesOf(answer: Answer): Record<string, Record<string, string>> {
  const header = answer.headers["www-authenticate"];
  if (typeof header !== "string") return {};
  const found: Record<string, Record<string, string>> = {};
  for (const challenge of splitChallenges(header)) {
    const { scheme, params } = parseChallenge(challenge);
    found[scheme] = params;
  }
  return found;
}

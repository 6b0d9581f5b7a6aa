/**
 * The official MCP conformance suite (`@modelcontextprotocol/conformance`) through our
 * protection: each test server runs the suite twice, on its own and behind mcp-oauth with a
 * token-adding proxy in front (the suite sends no token), and every scenario must give the
 * same result both ways. The shipped examples run it behind their protection too. Tokens
 * come from the real local authorization server (oidc-provider), through its real flow.
 * docs/conformance.md says what runs and why the one known difference is right.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { logger } from "mcp-framework";
import { obtainAccessToken } from "@mcp-oauth/local-authorization-server";
import { startTestAuthorizationServer, type TestAuthorizationServer } from "../helpers/authorization-server.js";
import { freePort } from "../helpers/listen.js";
import { startExampleServer } from "../../examples/express-server/src/server.js";
import { createFrameworkExample } from "../../examples/mcp-framework-server/src/server.js";
import { startExpressConformanceServer } from "./servers/express.js";
import { startFrameworkConformanceServer, startInBackground } from "./servers/mcp-framework.js";
import type { RunningConformanceServer } from "./servers/fixtures.js";
import { startTokenProxy } from "./token-proxy.js";
import { runSuite, type SuiteResult } from "./suite.js";
import { differingScenarios, failed, table } from "./compare.js";

type Environment = Record<string, string>;
type Start = (env: Environment) => Promise<RunningConformanceServer>;

interface TestServer {
  label: string;
  start: (env: Environment, protect: boolean) => Promise<RunningConformanceServer>;
  /** Scenarios the server fails on its own, for want of a feature (the run with protection must fail them alike). */
  failsUnprotected: string[];
}

const frameworkServer = (responseMode: "batch" | "stream"): TestServer => ({
  label: `mcp-framework HTTP Stream, ${responseMode}`,
  start: (env, protect) => startFrameworkConformanceServer({ ...env, MCP_RESPONSE_MODE: responseMode }, { protect }),
  // It reads resources by exact URI only: no resource templates.
  failsUnprotected: ["resources-templates-read"],
});

const SERVERS = {
  express: {
    label: "Express + MCP SDK v1",
    start: (env, protect) => startExpressConformanceServer(env, { protect }),
    failsUnprotected: [],
  },
  frameworkBatch: frameworkServer("batch"),
  frameworkStream: frameworkServer("stream"),
} satisfies Record<string, TestServer>;

/** Scenarios that need nothing but the transport (initialize, sessions, ping, tools/list, the Origin rule). */
const TRANSPORT_SCENARIOS = [
  "server-initialize",
  "server-session-lifecycle",
  "ping",
  "tools-list",
  "server-sse-multiple-streams",
  "dns-rebinding-protection",
];

/** A test runs the suite twice (7 to 15 s a run on two loaded cores; suite.ts stops a run at 120 s). */
jest.setTimeout(300_000);

// mcp-framework logs three INFO lines per request to stderr; a failing test should show its table, not pages of those.
logger.info = () => {};
logger.warn = () => {};

let as: TestAuthorizationServer;

beforeAll(async () => {
  as = await startTestAuthorizationServer();
});

afterAll(async () => {
  await as?.close();
});

const local = async (): Promise<Environment> => ({ HOST: "127.0.0.1", PORT: String(await freePort()) });

interface RunOptions {
  /** The host the suite is given in the URL, in place of the one the server listens on. */
  urlHost?: string;
  /** One scenario instead of the default selection. */
  scenario?: string;
}

async function runUnprotected(start: Start, { urlHost, scenario }: RunOptions = {}): Promise<SuiteResult> {
  const server = await start(await local());
  try {
    const url = new URL(server.url);
    if (urlHost !== undefined) url.hostname = urlHost;
    return await runSuite(url.href, { scenario });
  } finally {
    await server.close();
  }
}

/**
 * The server behind mcp-oauth, reached through the token-adding proxy: the proxy's URL is the
 * resource (`OAUTH_RESOURCE`, the token's audience), as a reverse proxy's public URL would be.
 */
async function runProtected(start: Start, { urlHost, scenario }: RunOptions = {}): Promise<SuiteResult> {
  const proxy = await startTokenProxy();
  const resource = `${proxy.origin}/mcp`;
  let server: RunningConformanceServer | undefined;
  try {
    server = await start({
      ...(await local()),
      OAUTH_AUTHORIZATION_SERVER: as.issuer,
      OAUTH_RESOURCE: resource,
      OAUTH_SCOPES: "mcp:read",
    });
    // The protection is on: straight to the server, without the proxy's token, is a 401.
    const direct = await fetch(new URL("/mcp", server.url), {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" }),
    });
    await direct.body?.cancel();
    expect(direct.status).toBe(401);
    const { access_token } = await obtainAccessToken(as.issuer, {
      resource,
      scope: "mcp:read mcp:write",
      login: "conformance",
    });
    proxy.forwardTo(new URL(server.url).origin, access_token);
    const url = new URL(resource);
    if (urlHost !== undefined) url.hostname = urlHost;
    return await runSuite(url.href, { scenario });
  } finally {
    await server?.close();
    await proxy.close();
  }
}

/** Each test server's run on its own, once per file (the examples' tests compare with it too). */
const unprotectedRuns = new Map<keyof typeof SERVERS, Promise<SuiteResult>>();
function unprotected(key: keyof typeof SERVERS): Promise<SuiteResult> {
  let run = unprotectedRuns.get(key);
  if (run === undefined) {
    run = runUnprotected((env) => SERVERS[key].start(env, false));
    unprotectedRuns.set(key, run);
  }
  return run;
}

const failing = (result: SuiteResult, names: readonly string[] = [...result.keys()]): string[] =>
  names.filter((name) => failed(result.get(name)));

describe("the conformance suite gives the same result with and without mcp-oauth", () => {
  const keys = Object.keys(SERVERS) as (keyof typeof SERVERS)[];
  it.each(keys.map((key): [string, keyof typeof SERVERS] => [SERVERS[key].label, key]))("%s", async (_, key) => {
    const server = SERVERS[key];
    const alone = await unprotected(key);
    const behind = await runProtected((env) => server.start(env, true));
    const columns = [
      { label: `${server.label}, unprotected`, result: alone },
      { label: "protected", result: behind },
    ];
    // Nearly every scenario must pass on its own, or an equal result would prove little.
    if (failing(alone).join() !== server.failsUnprotected.join())
      throw new Error(
        `${server.label} on its own should fail only [${server.failsUnprotected.join(", ")}]:\n${table(columns)}`,
      );
    const differing = differingScenarios(alone, behind);
    if (differing.length > 0)
      throw new Error(
        `with mcp-oauth in front, ${differing.length} scenario(s) differ (*) for ${server.label}:\n${table(columns, differing)}`,
      );
  });
});

describe("the examples, protected as shipped, pass the transport's scenarios as the servers do on their own", () => {
  const startFrameworkExample =
    (responseMode: "batch" | "stream"): Start =>
    async (env) => {
      const example = createFrameworkExample({ ...env, MCP_RESPONSE_MODE: responseMode });
      const close = await startInBackground(example.server, env["HOST"]!, Number(env["PORT"]));
      return { url: `http://${env["HOST"]}:${env["PORT"]}/mcp`, close };
    };
  const EXAMPLES: [string, keyof typeof SERVERS, Start][] = [
    [
      "examples/express-server",
      "express",
      // Its `url` is OAUTH_RESOURCE (the proxy's); the proxy needs where it listens.
      async (env) => ({ ...(await startExampleServer(env)), url: `http://${env["HOST"]}:${env["PORT"]}/mcp` }),
    ],
    ["examples/mcp-framework-server, batch", "frameworkBatch", startFrameworkExample("batch")],
    ["examples/mcp-framework-server, stream", "frameworkStream", startFrameworkExample("stream")],
  ];

  it.each(EXAMPLES)("%s", async (label, reference, start) => {
    const alone = await unprotected(reference);
    const example = await runProtected(start);
    const columns = [
      { label: `${SERVERS[reference].label}, unprotected`, result: alone },
      { label: `${label}, protected`, result: example },
    ];
    const differing = differingScenarios(alone, example, TRANSPORT_SCENARIOS);
    if (differing.length > 0 || failing(example, TRANSPORT_SCENARIOS).length > 0)
      throw new Error(
        `${label} behind its protection differs (*) on the transport's scenarios:\n${table(columns, differing)}`,
      );
  });
});

describe("dns-rebinding-protection with the host spelled differently from OAUTH_RESOURCE", () => {
  it("passes on its own, and behind mcp-oauth the Origin rule refuses http://localhost:PORT for a 127.0.0.1 resource, as a browser would", async () => {
    const scenario = "dns-rebinding-protection";
    const start: Start = (env) => SERVERS.express.start(env, false);
    const alone = await runUnprotected(start, { urlHost: "localhost", scenario });
    const behind = await runProtected((env) => SERVERS.express.start(env, true), { urlHost: "localhost", scenario });
    expect(alone.get(scenario)?.map(({ id, status }) => [id, status])).toEqual([
      ["localhost-host-rebinding-rejected", "SUCCESS"],
      ["localhost-host-valid-accepted", "SUCCESS"],
    ]);
    const checks = behind.get(scenario) ?? [];
    expect(checks.map(({ id, status }) => [id, status])).toEqual([
      ["localhost-host-rebinding-rejected", "SUCCESS"],
      ["localhost-host-valid-accepted", "FAILURE"],
    ]);
    expect(checks[1]?.errorMessage).toMatch(/\b403\b/);
  });
});

/**
 * Starts a local authorization server and the Express example protected by mcpOAuth,
 * then runs the client flow against them: once with JWT validation (the client registers),
 * once with introspection (the authorization server then issues opaque tokens; the client
 * is identified by a Client ID Metadata Document).
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { startLocalAuthorizationServer, type LocalAuthorizationServer } from "@mcp-oauth/local-authorization-server";
import { startExampleServer, type RunningExample } from "../../express-server/src/server.js";
import { runFlow, type Check, type ClientGeneration } from "./flow.js";

export type DemoValidation = "jwt" | "introspection";

export interface DemoStack {
  authorizationServer: LocalAuthorizationServer;
  mcp: RunningExample;
  close(): Promise<void>;
}

/** The two servers of one demo run, on ephemeral loopback ports unless given. */
export async function startDemoStack(
  validation: DemoValidation,
  ports: { as?: number; mcp?: number } = {},
  extraEnv: Record<string, string> = {},
): Promise<DemoStack> {
  const authorizationServer = await startLocalAuthorizationServer({
    accessTokenFormat: validation === "jwt" ? "jwt" : "opaque",
    ...(ports.as !== undefined ? { port: ports.as } : {}),
  });
  try {
    const mcp = await startExampleServer({
      OAUTH_AUTHORIZATION_SERVER: authorizationServer.issuer,
      OAUTH_SCOPES: "mcp:read",
      OAUTH_VALIDATION: validation,
      ...(validation === "introspection"
        ? {
            OAUTH_CLIENT_ID: authorizationServer.introspection.clientId,
            OAUTH_CLIENT_SECRET: authorizationServer.introspection.clientSecret,
          }
        : {}),
      PORT: String(ports.mcp ?? 0),
      ...extraEnv,
    });
    return {
      authorizationServer,
      mcp,
      close: async () => {
        await mcp.close();
        await authorizationServer.close();
      },
    };
  } catch (error) {
    await authorizationServer.close();
    throw error;
  }
}

export interface DemoRun {
  validation: DemoValidation | "mcp-framework";
  generation: ClientGeneration;
  /** A DPoP run (the servers started with `OAUTH_DPOP=allowed`). */
  dpop?: boolean;
  checks: Check[];
}

/**
 * The resource server's DPoP settings of a DPoP run: accepted next to Bearer, and, for the
 * Express example, server nonces (RFC 9449 section 9) from a secret made for this run.
 */
function dpopEnv(nonces: boolean): Record<string, string> {
  return {
    OAUTH_DPOP: "allowed",
    ...(nonces ? { OAUTH_DPOP_NONCE_SECRET: randomBytes(32).toString("base64url") } : {}),
  };
}

/**
 * The DPoP run against the Express example (JWT validation, server nonces on): the client
 * proves possession of its key at the token endpoint and on every request, steps up, and the
 * server refuses a replayed proof and the bound token sent as Bearer.
 */
export async function runDpopDemo(generation: ClientGeneration, log: (line: string) => void): Promise<DemoRun> {
  const stack = await startDemoStack("jwt", {}, dpopEnv(true));
  log(`\n#### DPoP (RFC 9449) with the MCP SDK ${generation} client, Express example (OAUTH_DPOP=allowed, nonces on)`);
  log(`authorization server: ${stack.authorizationServer.issuer}`);
  log(`MCP server:           ${stack.mcp.url}`);
  let checks: Check[];
  try {
    checks = await runFlow({ mcpUrl: stack.mcp.url, generation, login: "alice", log, dpop: true, dpopNonces: true });
  } catch (error) {
    log(`   FAIL the flow stopped: ${(error as Error).message}`);
    checks = [{ step: "flow", what: "the flow ran to the end", ok: false, detail: (error as Error).message }];
  } finally {
    await stack.close();
  }
  return { validation: "jwt", generation, dpop: true, checks };
}

/** One full run: servers up, flow, servers down. A thrown error becomes a failed check. */
export async function runDemo(
  validation: DemoValidation,
  generation: ClientGeneration,
  log: (line: string) => void,
): Promise<DemoRun> {
  const stack = await startDemoStack(validation);
  // The two ways a client gets its id: registration (RFC 7591) in the JWT run, a Client ID
  // Metadata Document (MCP 2025-11-25, 2026-07-28) in the introspection run.
  const registration = validation === "jwt" ? "dynamic" : "client-id-metadata-document";
  log(
    `\n#### ${validation === "jwt" ? "JWT validation" : "Introspection (RFC 7662)"} with the MCP SDK ${generation} client${registration === "dynamic" ? "" : ", identified by a Client ID Metadata Document"}`,
  );
  log(`authorization server: ${stack.authorizationServer.issuer}`);
  log(`MCP server:           ${stack.mcp.url} (validation: ${validation})`);
  let checks: Check[];
  try {
    checks = await runFlow({ mcpUrl: stack.mcp.url, generation, login: "alice", log, registration });
  } catch (error) {
    log(`   FAIL the flow stopped: ${(error as Error).message}`);
    checks = [{ step: "flow", what: "the flow ran to the end", ok: false, detail: (error as Error).message }];
  } finally {
    await stack.close();
  }
  return { validation, generation, checks };
}

/** A port free right now on loopback (mcp-framework's transports need a fixed port). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Waits until `url` answers at all (up to about 20 s: a child process compiles on start). */
export async function waitForUrl(url: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    try {
      await (await fetch(url)).body?.cancel();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error(`${url} never answered`);
}

/**
 * The whole flow, step-up included, against the mcp-framework example (its own HTTP Stream
 * transport, protected by @mcp-oauth/mcp-framework's OAuthAuthProvider), started as its own
 * process configured only by the environment, as a deployment would.
 */
export async function runFrameworkDemo(
  generation: ClientGeneration,
  log: (line: string) => void,
  options: { dpop?: boolean } = {},
): Promise<DemoRun> {
  const authorizationServer = await startLocalAuthorizationServer();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/mcp`;
  const metadataUrl = `http://127.0.0.1:${port}/.well-known/oauth-protected-resource/mcp`;
  const entry = fileURLToPath(new URL("../../mcp-framework-server/src/index.ts", import.meta.url));
  const tsx = fileURLToPath(new URL("../../../node_modules/.bin/tsx", import.meta.url));
  // The framework logs every request to stderr; the demo prints its own account instead.
  const child = spawn(tsx, [entry], {
    env: {
      ...process.env,
      OAUTH_AUTHORIZATION_SERVER: authorizationServer.issuer,
      OAUTH_SCOPES: "mcp:read",
      PORT: String(port),
      HOST: "127.0.0.1",
      ...(options.dpop ? dpopEnv(false) : {}),
    },
    stdio: "ignore",
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  log(
    `\n#### ${options.dpop ? "DPoP (RFC 9449) with " : ""}mcp-framework (HTTP Stream) with @mcp-oauth/mcp-framework, MCP SDK ${generation} client${options.dpop ? " (OAUTH_DPOP=allowed)" : ""}`,
  );
  log(`authorization server: ${authorizationServer.issuer}`);
  log(`MCP server:           ${url} (pnpm example:mcp-framework, its own process)`);
  let checks: Check[];
  try {
    await waitForUrl(metadataUrl);
    checks = await runFlow({
      mcpUrl: url,
      generation,
      login: "alice",
      log,
      metadataUrl,
      ...(options.dpop ? { dpop: true } : {}),
    });
  } catch (error) {
    log(`   FAIL the flow stopped: ${(error as Error).message}`);
    checks = [{ step: "flow", what: "the flow ran to the end", ok: false, detail: (error as Error).message }];
  } finally {
    child.kill("SIGTERM");
    await exited;
    await authorizationServer.close();
  }
  return { validation: "mcp-framework", generation, ...(options.dpop ? { dpop: true } : {}), checks };
}

/**
 * One row's server, in its own process: an Express app on loopback with one protected GET
 * route returning a small JSON, protected by the library under test configured as its
 * documentation recommends. Talks to the orchestrator over IPC (port, counters, CPU
 * profile of the measured window, exit).
 */
import { once } from "node:events";
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import type { AddressInfo } from "node:net";
import express, { type NextFunction, type Request, type RequestHandler, type Response } from "express";
import { processJiffies } from "./machine.js";
import { assertDistLoaded, ROUTE, type ServerCommand, type ServerConfig, type ServerMessage } from "./shared.js";

assertDistLoaded();

const config = JSON.parse(process.argv[2]!) as ServerConfig;
const send = (message: ServerMessage): void => void process.send?.(message);

let statsOf: () => Record<string, number> | undefined = () => undefined;
/** The Redis rows: times the store reported Redis unavailable. */
let redisUnavailable = 0;

async function middlewareFor(c: ServerConfig): Promise<RequestHandler | undefined> {
  switch (c.impl) {
    case "baseline":
      return undefined;

    case "sync-noop":
      // What any middleware costs in Express: one more layer on the route, next() at once.
      return (_req: Request, _res: Response, next: NextFunction) => {
        next();
      };

    case "sets-auth": {
      // The floor for any middleware that follows the MCP SDK's contract (`req.auth`): one
      // layer plus one property added to the request. Express 5 gives every request its own
      // prototype (Object.setPrototypeOf), so V8 gives it its own hidden class and adding a
      // property copies that class: a few µs per request that no library can avoid.
      const auth = Object.freeze({ token: "t", clientId: "c", scopes: Object.freeze(["mcp:read"]) });
      return (req: Request, _res: Response, next: NextFunction) => {
        (req as unknown as { auth: unknown }).auth = auth;
        next();
      };
    }

    case "least-cached-check": {
      // The least a cached bearer check that gives each request its own AuthInfo (as ours
      // does) does per request, with none of a real one's care: read the header, find the
      // token's verdict in a Map keyed by the raw token, compare its expiry with the clock.
      // A token not yet seen is decoded and its audience compared, its signature NOT
      // checked: a reference, never a protection. What ours costs above this row is ours to
      // cut; what this row costs above "sets req.auth" is the price of reading the token.
      type Verdict = { clientId: string; scopes: string[]; expiresAt: number };
      const verdicts = new Map<string, Verdict | null>();
      const decode = (token: string): Verdict | null => {
        try {
          const claims = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as Record<
            string,
            unknown
          >;
          if (claims["aud"] !== c.resource || typeof claims["exp"] !== "number") return null;
          const clientId = typeof claims["client_id"] === "string" ? claims["client_id"] : "";
          const scopes = typeof claims["scope"] === "string" ? claims["scope"].split(" ") : [];
          return { clientId, scopes, expiresAt: claims["exp"] };
        } catch {
          return null;
        }
      };
      return (req: Request, res: Response, next: NextFunction) => {
        const header = req.headers.authorization;
        const token = header?.startsWith("Bearer ") ? header.slice(7) : undefined;
        let verdict = token === undefined ? null : verdicts.get(token);
        if (verdict === undefined) {
          verdict = decode(token!);
          verdicts.set(token!, verdict);
        }
        if (verdict === null || verdict.expiresAt * 1000 <= Date.now()) {
          res.status(401).set("WWW-Authenticate", 'Bearer error="invalid_token"').json({ error: "invalid_token" });
          return;
        }
        (req as unknown as { auth: unknown }).auth = {
          token,
          clientId: verdict.clientId,
          scopes: verdict.scopes.slice(),
          expiresAt: verdict.expiresAt,
        };
        next();
      };
    }

    case "async-noop":
      // What any asynchronous middleware costs: next() one microtask later, nothing else.
      return (_req: Request, _res: Response, next: NextFunction) => {
        Promise.resolve().then(() => next(), next);
      };

    case "mcp-oauth":
    case "mcp-oauth-nocache":
    case "mcp-oauth-nocache-thread-pool":
    case "mcp-oauth-nocache-cluster":
    case "mcp-oauth-rotation":
    case "mcp-oauth-redis":
    case "mcp-oauth-redis-only":
    case "mcp-oauth-introspection": {
      const { requireBearer, ResourceServer } = await import("@mcp-oauth/express");
      let store: import("@mcp-oauth/redis").RedisTokenCache | undefined;
      if (c.impl === "mcp-oauth-redis" || c.impl === "mcp-oauth-redis-only") {
        if (c.redisUrl === undefined)
          throw new Error("redis-server is not installed (Debian: apt-get install -y redis-server)");
        const { RedisTokenCache } = await import("@mcp-oauth/redis");
        // As docs/deployment.md configures it (layered by default); `-only` turns the in-memory layer off.
        store = new RedisTokenCache({
          url: c.redisUrl,
          ...(c.impl === "mcp-oauth-redis-only" ? { memoryEntries: 0 } : {}),
          // Every outage counted: a lookup while Redis is unavailable is a silent miss, and the
          // orchestrator fails a row that measured the in-memory layer instead of Redis.
          onEvent: (event) => {
            if (event.type === "cache_store_unavailable") redisUnavailable++;
          },
        });
        // Before its connection is up the store answers misses (and leaves Redis alone a while).
        if (store.client.status !== "ready") await once(store.client, "ready");
      }
      const server =
        c.impl === "mcp-oauth-introspection"
          ? new ResourceServer({
              resource: c.resource,
              authorizationServers: [c.introspection.issuer],
              validation: { type: "introspection" },
              introspection: {
                endpoint: c.introspection.endpoint,
                clientId: c.introspection.clientId,
                clientSecret: c.introspection.clientSecret,
              },
            })
          : new ResourceServer({
              resource: c.resource,
              authorizationServers: [c.issuer],
              validation: {
                jwksUri: c.impl === "mcp-oauth-rotation" ? c.rotationJwksUri : c.jwksUri,
                // The default (`event-loop`) everywhere else.
                ...(c.impl === "mcp-oauth-nocache-thread-pool"
                  ? { signatureVerification: "thread-pool" as const }
                  : {}),
              },
              ...(c.impl.startsWith("mcp-oauth-nocache") ? { cache: false as const } : {}),
              ...(store ? { cache: { store } } : {}),
            });
      // The documented start-up check: key set loaded (or introspection endpoint known) before serving.
      await server.ready();
      statsOf = () => ({ ...server.stats(), ...(store ? { redisUnavailable } : {}) });
      return requireBearer(server) as unknown as RequestHandler;
    }

    case "express-oauth2-jwt-bearer": {
      // README: auth({ issuerBaseURL, audience }); discovery finds the issuer and jwks_uri.
      const { auth } = await import("express-oauth2-jwt-bearer");
      return auth({ issuerBaseURL: c.issuer, audience: c.resource, tokenSigningAlg: "RS256" });
    }

    case "express-jwt": {
      // express-jwt README, "Using jwks-rsa": expressJwtSecret with cache and rate limiting.
      const { expressjwt } = await import("express-jwt");
      const { default: jwksRsa } = await import("jwks-rsa");
      return expressjwt({
        secret: jwksRsa.expressJwtSecret({
          jwksUri: c.jwksUri,
          cache: true,
          rateLimit: true,
          jwksRequestsPerMinute: 5,
        }) as never,
        audience: c.resource,
        issuer: c.issuer,
        algorithms: ["RS256"],
      }) as unknown as RequestHandler;
    }

    case "sdk-jose": {
      // The MCP SDK's requireBearerAuth with a verifier built on jose (createRemoteJWKSet + jwtVerify).
      const { requireBearerAuth } = await import("@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js");
      const { InvalidTokenError } = await import("@modelcontextprotocol/sdk/server/auth/errors.js");
      const { createRemoteJWKSet, jwtVerify } = await import("jose");
      const jwks = createRemoteJWKSet(new URL(c.jwksUri));
      return requireBearerAuth({
        verifier: {
          async verifyAccessToken(token: string) {
            // The SDK answers 401 for InvalidTokenError only (anything else is a 500).
            const { payload } = await jwtVerify(token, jwks, {
              issuer: c.issuer,
              audience: c.resource,
              algorithms: ["RS256"],
            }).catch((error: unknown) => {
              throw new InvalidTokenError(error instanceof Error ? error.message : "invalid token");
            });
            return {
              issuer: c.issuer,
              token,
              clientId: typeof payload["client_id"] === "string" ? payload["client_id"] : "",
              scopes: typeof payload["scope"] === "string" ? payload["scope"].split(" ") : [],
              ...(payload.exp !== undefined ? { expiresAt: payload.exp } : {}),
            };
          },
        },
      }) as unknown as RequestHandler;
    }

    case "mcp-auth": {
      // mcp-auth README, resource-server mode with a discovery config (metadata fetched on first use).
      const { MCPAuth } = await import("mcp-auth");
      const mcpAuth = new MCPAuth({
        protectedResources: [
          {
            metadata: {
              resource: c.resource,
              authorizationServers: [{ issuer: c.issuer, type: "oidc" }],
              scopesSupported: ["mcp:read", "mcp:write"],
            },
          },
        ],
      });
      return mcpAuth.bearerAuth("jwt", { resource: c.resource, audience: c.resource }) as unknown as RequestHandler;
    }

    case "mcp-framework": {
      // mcp-framework's OAuthAuthProvider, called the way its transports call it
      // (handleAuthentication: authenticate(req), 401 with its WWW-Authenticate when false).
      const { OAuthAuthProvider } = await import("mcp-framework");
      const provider = new OAuthAuthProvider({
        authorizationServers: [c.issuer],
        resource: c.resource,
        validation: { type: "jwt", jwksUri: c.jwksUri, audience: c.resource, issuer: c.issuer },
      });
      return (req: Request, res: Response, next: NextFunction) => {
        provider.authenticate(req).then((result) => {
          if (!result) {
            res.setHeader(
              "WWW-Authenticate",
              provider.getWWWAuthenticateHeader("invalid_token", "Missing or invalid authentication token"),
            );
            res
              .writeHead(401)
              .end(JSON.stringify({ error: "Unauthorized", status: 401, type: "authentication_error" }));
            return;
          }
          (req as unknown as { auth?: unknown }).auth = typeof result === "boolean" ? {} : result.data;
          next();
        }, next);
      };
    }
  }
}

/** The tool every MCP row calls: echoes its argument (the transport's cost, not the tool's). */
const ECHO_DESCRIPTION = "Echoes its text.";

/**
 * The MCP SDK's Streamable HTTP transport on Express, stateful as in examples/express-server
 * (one transport per session, JSON answers), with `mcpOAuth` in front when protected.
 */
async function sdkApp(c: ServerConfig): Promise<express.Express> {
  const { randomUUID } = await import("node:crypto");
  const { McpServer } = await import("@modelcontextprotocol/sdk/server/mcp.js");
  const { StreamableHTTPServerTransport } = await import("@modelcontextprotocol/sdk/server/streamableHttp.js");
  const { isInitializeRequest } = await import("@modelcontextprotocol/sdk/types.js");
  const { z } = await import("zod");
  const app = express();
  if (c.impl === "mcp-sdk-protected") {
    const { mcpOAuth } = await import("@mcp-oauth/express");
    const oauth = mcpOAuth({
      resource: c.resource,
      authorizationServers: [c.issuer],
      validation: { jwksUri: c.jwksUri },
    });
    await oauth.resourceServer.ready();
    statsOf = () => ({ ...oauth.resourceServer.stats() });
    app.use(oauth);
  }
  app.use(express.json());
  const sessions = new Map<string, InstanceType<typeof StreamableHTTPServerTransport>>();
  app.post(ROUTE, async (req: Request, res: Response) => {
    const id = req.header("mcp-session-id");
    const known = id === undefined ? undefined : sessions.get(id);
    if (known) return known.handleRequest(req, res, req.body);
    if (!isInitializeRequest(req.body)) {
      res.status(400).json({ jsonrpc: "2.0", error: { code: -32000, message: "no session" }, id: null });
      return;
    }
    const transport: InstanceType<typeof StreamableHTTPServerTransport> = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      enableJsonResponse: true,
      onsessioninitialized: (sessionId) => void sessions.set(sessionId, transport),
    });
    const mcp = new McpServer({ name: "bench", version: "0.0.0" });
    mcp.registerTool(
      "echo",
      { description: ECHO_DESCRIPTION, inputSchema: { text: z.string() } },
      async ({ text }) => ({ content: [{ type: "text", text }] }),
    );
    await mcp.connect(transport);
    await transport.handleRequest(req, res, req.body);
  });
  return app;
}

/** mcp-framework's own HTTP Stream transport (batch answers), with our provider when protected. */
async function frameworkServer(c: ServerConfig): Promise<number> {
  const { MCPServer, MCPTool } = await import("mcp-framework");
  const { z } = await import("zod");
  const { createServer } = await import("node:net");
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port: free } = probe.address() as AddressInfo;
      probe.close(() => resolve(free));
    });
  });
  class EchoTool extends MCPTool {
    name = "echo";
    description = ECHO_DESCRIPTION;
    schema = z.object({ text: z.string().describe("The text") });
    async execute(input: { text: string }): Promise<string> {
      return input.text;
    }
  }
  let auth: { provider: never; endpoints: { sse: boolean; messages: boolean } } | undefined;
  if (c.impl === "mcp-framework-server-protected") {
    const { OAuthAuthProvider } = await import("@mcp-oauth/mcp-framework");
    const provider = new OAuthAuthProvider({
      resource: c.resource,
      authorizationServers: [c.issuer],
      validation: { jwksUri: c.jwksUri },
    });
    await provider.resourceServer.ready();
    statsOf = () => ({ ...provider.resourceServer.stats() });
    auth = { provider: provider as never, endpoints: { sse: true, messages: true } };
  } else if (c.impl === "mcp-framework-server-own-provider") {
    // mcp-framework's own provider as its docs configure it (JWT, the key set, audience, issuer).
    const { OAuthAuthProvider } = await import("mcp-framework");
    const provider = new OAuthAuthProvider({
      authorizationServers: [c.issuer],
      resource: c.resource,
      validation: { type: "jwt", jwksUri: c.jwksUri, audience: c.resource, issuer: c.issuer },
    });
    auth = { provider: provider as never, endpoints: { sse: true, messages: true } };
  } else if (c.impl === "mcp-framework-server-any-auth") {
    const provider = { authenticate: () => Promise.resolve({ data: {} }) };
    auth = { provider: provider as never, endpoints: { sse: true, messages: true } };
  }
  const server = new MCPServer({
    name: "bench",
    version: "0.0.0",
    transport: {
      type: "http-stream",
      options: { port, host: "127.0.0.1", endpoint: ROUTE, responseMode: "batch", ...(auth ? { auth } : {}) },
    },
  });
  server.addTool(EchoTool as never);
  // start() resolves only at shutdown: wait for the port to answer instead.
  server.start().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
  for (let attempt = 0; ; attempt++) {
    const up = await fetch(`http://127.0.0.1:${port}${ROUTE}`).then(
      (r) => r.arrayBuffer().then(() => true),
      () => false,
    );
    if (up) return port;
    if (attempt > 200) throw new Error("mcp-framework server did not start");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * The cluster row: the primary forks one worker per available core (node:cluster, as the
 * README shows), each serving the same app on the shared port, and answers the
 * orchestrator for them all (CPU time summed over the workers from /proc).
 */
async function clusterPrimary(): Promise<never> {
  const cluster = (await import("node:cluster")).default;
  const { availableParallelism } = await import("node:os");
  const workers = Array.from({ length: availableParallelism() }, () => cluster.fork());
  const port = await new Promise<number>((resolve) => {
    let listening = 0;
    cluster.on("listening", (_worker, address) => {
      if (++listening === workers.length) resolve(address.port);
    });
  });
  const workerCpuUs = (): number =>
    workers.reduce((sum, worker) => {
      const jiffies = processJiffies(worker.process.pid!);
      // Jiffies: 10 ms each on Linux (USER_HZ 100).
      return sum + (Number.isFinite(jiffies) ? jiffies * 10_000 : 0);
    }, 0);
  const quit = (): never => {
    for (const worker of workers) worker.process.kill("SIGKILL");
    if (process.connected) process.disconnect();
    process.exit(0);
  };
  process.on("message", (command: ServerCommand) => {
    if (command.type === "cpu") {
      const { user, system } = process.cpuUsage();
      send({ type: "cpu", user: user + workerCpuUs(), system });
    } else if (command.type === "stats") {
      send({ type: "stats", stats: undefined });
    } else if (command.type === "exit") {
      quit();
    } else {
      send({ type: "profile", file: "" });
    }
  });
  process.on("disconnect", quit);
  send({ type: "listening", port, pids: workers.map((worker) => worker.process.pid!) });
  return await new Promise<never>(() => {});
}

if (config.impl === "mcp-oauth-nocache-cluster" && (await import("node:cluster")).default.isPrimary)
  await clusterPrimary();

const MCP_IMPLS = new Set(["mcp-sdk", "mcp-sdk-protected"]);
const FRAMEWORK_IMPLS = new Set([
  "mcp-framework-server",
  "mcp-framework-server-protected",
  "mcp-framework-server-own-provider",
  "mcp-framework-server-any-auth",
]);

const HONO_IMPLS = new Set(["hono", "mcp-oauth-hono", "mcp-oauth-hono-nocache"]);

/** The Hono rows: the same GET on Hono through @hono/node-server, behind mcpOAuthHono unless `hono`. */
async function honoServer(c: ServerConfig): Promise<import("node:http").Server> {
  const { Hono } = await import("hono");
  const { serve } = await import("@hono/node-server");
  const app = new Hono();
  if (c.impl !== "hono") {
    const { mcpOAuthHono } = await import("@mcp-oauth/fetch/hono");
    const oauth = mcpOAuthHono({
      resource: c.resource,
      authorizationServers: [c.issuer],
      validation: { jwksUri: c.jwksUri },
      ...(c.impl === "mcp-oauth-hono-nocache" ? { cache: false as const } : {}),
    });
    await oauth.protection.resourceServer.ready();
    statsOf = () => ({ ...oauth.protection.resourceServer.stats() });
    app.use(oauth);
  }
  app.get(ROUTE, (ctx) => ctx.json({ ok: true }));
  const listening = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }) as import("node:http").Server;
  await once(listening, "listening");
  listening.keepAliveTimeout = 30_000;
  return listening;
}

let server: import("node:http").Server | undefined;
if (HONO_IMPLS.has(config.impl)) {
  server = await honoServer(config);
  send({ type: "listening", port: (server.address() as AddressInfo).port });
} else if (FRAMEWORK_IMPLS.has(config.impl)) {
  const port = await frameworkServer(config);
  send({ type: "listening", port });
} else {
  const app = MCP_IMPLS.has(config.impl) ? await sdkApp(config) : express();
  if (!MCP_IMPLS.has(config.impl)) {
    const middleware = await middlewareFor(config);
    const handler = (_req: Request, res: Response): void => {
      res.json({ ok: true });
    };
    if (middleware) app.get(ROUTE, middleware, handler);
    else app.get(ROUTE, handler);
  }
  const listening: import("node:http").Server = app.listen(0, "127.0.0.1", () =>
    send({ type: "listening", port: (listening.address() as AddressInfo).port }),
  );
  listening.keepAliveTimeout = 30_000;
  server = listening;
}

let session: Session | undefined;

function stop(): void {
  server?.close();
  server?.closeAllConnections();
  if (process.connected) process.disconnect();
  process.exit(0);
}

process.on("message", (command: ServerCommand) => {
  void (async () => {
    switch (command.type) {
      case "cpu": {
        const { user, system } = process.cpuUsage();
        send({ type: "cpu", user, system });
        break;
      }
      case "stats":
        send({ type: "stats", stats: statsOf() });
        break;
      case "profile-start":
        session = new Session();
        session.connect();
        await session.post("Profiler.enable");
        await session.post("Profiler.setSamplingInterval", { interval: 250 });
        await session.post("Profiler.start");
        send({ type: "profile", file: "" });
        break;
      case "profile-stop": {
        const { profile } = await session!.post("Profiler.stop");
        writeFileSync(command.file, JSON.stringify(profile));
        session!.disconnect();
        send({ type: "profile", file: command.file });
        break;
      }
      case "exit":
        stop();
    }
  })();
});
// The orchestrator went away: never outlive it.
process.on("disconnect", stop);

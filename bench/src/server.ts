/**
 * One row's server, in its own process: an Express app on loopback with one protected GET
 * route returning a small JSON, protected by the library under test configured as its
 * documentation recommends. Talks to the orchestrator over IPC (port, counters, CPU
 * profile of the measured window, exit).
 */
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import type { AddressInfo } from "node:net";
import express, { type NextFunction, type Request, type RequestHandler, type Response } from "express";
import { ROUTE, type ServerCommand, type ServerConfig, type ServerMessage } from "./shared.js";

const config = JSON.parse(process.argv[2]!) as ServerConfig;
const send = (message: ServerMessage): void => void process.send?.(message);

let statsOf: () => Record<string, number> | undefined = () => undefined;

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

    case "async-noop":
      // What any asynchronous middleware costs: next() one microtask later, nothing else.
      return (_req: Request, _res: Response, next: NextFunction) => {
        Promise.resolve().then(() => next(), next);
      };

    case "mcp-oauth":
    case "mcp-oauth-nocache":
    case "mcp-oauth-introspection": {
      const { requireBearer, ResourceServer } = await import("@mcp-oauth/express");
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
              validation: { jwksUri: c.jwksUri },
              ...(c.impl === "mcp-oauth-nocache" ? { cache: false as const } : {}),
            });
      // The documented start-up check: key set loaded (or introspection endpoint known) before serving.
      await server.ready();
      statsOf = () => ({ ...server.stats() });
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

const app = express();
const middleware = await middlewareFor(config);
const handler = (_req: Request, res: Response): void => {
  res.json({ ok: true });
};
if (middleware) app.get(ROUTE, middleware, handler);
else app.get(ROUTE, handler);

const server = app.listen(0, "127.0.0.1", () =>
  send({ type: "listening", port: (server.address() as AddressInfo).port }),
);
server.keepAliveTimeout = 30_000;

let session: Session | undefined;

function stop(): void {
  server.close();
  server.closeAllConnections();
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

/**
 * The metadata rate limit behind a proxy (docs/deployment.md, "Rate limiting behind a load
 * balancer"): keyed on the socket address by default, so every client behind one proxy shares
 * a counter; with Express's `trust proxy` and a `keyGenerator` returning `req.ip`, one counter
 * per client, and a forged `X-Forwarded-For` prefix counts for the client that sent it.
 */
import { describe, expect, it } from "@jest/globals";
import express from "express";
import request from "supertest";
import { mcpOAuth, type RateLimitOptions } from "@mcp-oauth/express";

const METADATA = "/.well-known/oauth-protected-resource/mcp";

function appBehindProxy(rateLimit: RateLimitOptions): express.Express {
  const app = express();
  app.set("trust proxy", 1);
  app.use(
    mcpOAuth({
      resource: "https://mcp.example.com/mcp",
      authorizationServers: ["https://auth.example.com"],
      protectedResourceMetadata: { rateLimit },
    }),
  );
  return app;
}

/** A request as the proxy forwards it: from the proxy's address, the client's in X-Forwarded-For. */
const from = (app: express.Express, forwardedFor: string): Promise<number> =>
  request(app)
    .get(METADATA)
    .set("X-Forwarded-For", forwardedFor)
    .then((res) => res.status);

describe("behind a proxy", () => {
  it("without a keyGenerator, every client shares the proxy's counter", async () => {
    const app = appBehindProxy({ limit: 1 });
    expect(await from(app, "203.0.113.1")).toBe(200);
    expect(await from(app, "203.0.113.2")).toBe(429);
  });

  it("with trust proxy and keyGenerator returning req.ip, each client has its own counter", async () => {
    const app = appBehindProxy({ limit: 1, keyGenerator: (req) => (req as express.Request).ip ?? "unknown" });
    expect(await from(app, "203.0.113.1")).toBe(200);
    expect(await from(app, "203.0.113.2")).toBe(200);
    // What the client wrote before the proxy's entry does not make it another client.
    expect(await from(app, "198.51.100.9, 203.0.113.1")).toBe(429);
  });
});

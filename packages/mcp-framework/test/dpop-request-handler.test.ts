/**
 * DPoP through `frameworkRequestHandler()`: with mcpOAuth in front in a router mounted under
 * a path (the proof's `htu` is the whole path, `req.originalUrl`, not the router's `req.url`),
 * and with the provider alone deciding (the framework hands it a request shim carrying the
 * method, the path and the `DPoP` header).
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import express from "express";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { MCPServer } from "mcp-framework";
import { mcpOAuth } from "@mcp-oauth/express";
import { frameworkRequestHandler, OAuthAuthProvider } from "@mcp-oauth/mcp-framework";
import {
  startTestAuthorizationServer,
  type TestAuthorizationServer,
} from "../../../test/helpers/authorization-server.js";
import { dpopKey, dpopProof, splitChallenges, type DpopKey } from "../../../test/helpers/dpop.js";
import { WhoamiTool } from "../../../examples/mcp-framework-server/src/tools.js";
import { freePort, INITIALIZE, nowSeconds, postJson } from "./support.js";

let as: TestAuthorizationServer;
let key: DpopKey;
beforeAll(async () => {
  [as, key] = await Promise.all([startTestAuthorizationServer(), dpopKey("ES256")]);
});
afterAll(() => as?.close());

async function serve(app: express.Express, port: number): Promise<{ close(): Promise<void> }> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => app(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function mcpServer(provider: OAuthAuthProvider): MCPServer {
  const server = new MCPServer({ name: "dpop-front", version: "0.0.0", auth: { provider } });
  server.addTool(WhoamiTool);
  return server;
}

const schemesOf = (header: string | string[] | undefined): string[] =>
  splitChallenges(String(header ?? "")).map((challenge) => challenge.split(" ")[0]!);

describe.each(["mcpOAuth in front, mounted under /base", "the provider alone"])("%s", (setup) => {
  let running: Awaited<ReturnType<typeof serve>>;
  let resource: string;

  beforeAll(async () => {
    const port = await freePort();
    const inFront = setup.startsWith("mcpOAuth");
    resource = `http://127.0.0.1:${port}${inFront ? "/base" : ""}/mcp`;
    const options = { resource, authorizationServers: [as.issuer], dpop: { mode: "allowed" as const } };
    const app = express();
    const handler = frameworkRequestHandler(mcpServer(new OAuthAuthProvider(options)));
    if (inFront) {
      const router = express.Router();
      router.use(mcpOAuth(options));
      router.all("/mcp", handler);
      app.use("/base", router);
    } else {
      app.all("/mcp", handler);
    }
    running = await serve(app, port);
  });
  afterAll(() => running?.close());

  it("accepts a DPoP-bound token with its proof, and refuses it replayed or the token sent as Bearer", async () => {
    const token = as.mint(resource, { cnf: { jkt: key.thumbprint } });
    const proof = await dpopProof(key, { htu: resource, accessToken: token }, nowSeconds());
    const headers = { authorization: `DPoP ${token}`, dpop: proof };
    const accepted = await postJson(resource, INITIALIZE, headers);
    expect([accepted.status, accepted.headers["www-authenticate"], accepted.body]).toEqual([
      200,
      undefined,
      expect.anything(),
    ]);
    const replayed = await postJson(resource, INITIALIZE, headers);
    expect(replayed.status).toBe(401);
    expect(schemesOf(replayed.headers["www-authenticate"])).toEqual(["Bearer", "DPoP"]);
    expect(replayed.headers["www-authenticate"]).toContain('DPoP error="invalid_dpop_proof"');
    const bearer = await postJson(resource, INITIALIZE, { authorization: `Bearer ${token}` });
    expect(bearer.status).toBe(401);
    expect(bearer.headers["www-authenticate"]).toMatch(/^Bearer error="invalid_token"/);
  });
});

describe("the provider alone, with nonces", () => {
  let running: Awaited<ReturnType<typeof serve>>;
  let resource: string;
  beforeAll(async () => {
    const port = await freePort();
    resource = `http://127.0.0.1:${port}/mcp`;
    const provider = new OAuthAuthProvider({
      resource,
      authorizationServers: [as.issuer],
      dpop: { mode: "allowed", nonce: { secrets: "n".repeat(32) } },
    });
    const app = express();
    app.all("/mcp", frameworkRequestHandler(mcpServer(provider)));
    running = await serve(app, port);
  });
  afterAll(() => running?.close());

  it("hands the client its nonce with use_dpop_nonce (DPoP-Nonce on the framework's 401), then accepts it", async () => {
    const token = as.mint(resource, { cnf: { jkt: key.thumbprint } });
    const first = await postJson(resource, INITIALIZE, {
      authorization: `DPoP ${token}`,
      dpop: await dpopProof(key, { htu: resource, accessToken: token }, nowSeconds()),
    });
    expect(first.status).toBe(401);
    expect(first.headers["www-authenticate"]).toContain('DPoP error="use_dpop_nonce"');
    const nonce = first.headers["dpop-nonce"];
    expect(typeof nonce).toBe("string");
    const retry = await postJson(resource, INITIALIZE, {
      authorization: `DPoP ${token}`,
      dpop: await dpopProof(key, { htu: resource, accessToken: token, nonce: nonce as string }, nowSeconds()),
    });
    expect(retry.status).toBe(200);
  });
});

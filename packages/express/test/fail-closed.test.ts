/**
 * Fail closed in Express and in a plain node:http host: no request passes mcpOAuth without
 * a verdict (a CORS preflight is answered, never passed on; an OPTIONS that is no preflight
 * is authenticated like any other request), requireBearer and requireScopes used alone pass
 * nothing unauthenticated, and a throwing part (a hook of the resource server, the host's
 * handler called from a settled promise) is an answer, never a crash or an unhandled rejection.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "@jest/globals";
import express, { type Express } from "express";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import request from "supertest";
import { ERROR_RESPONSES } from "@mcp-oauth/core";
import {
  mcpOAuth,
  requireBearer,
  requireScopes,
  ResourceServer,
  verdictOf,
  type McpOAuthMiddlewareOptions,
} from "@mcp-oauth/express";
import {
  startTestAuthorizationServer,
  type TestAuthorizationServer,
} from "../../../test/helpers/authorization-server.js";
import { rawSocketRequest } from "../../../test/helpers/raw-socket.js";
import { watchUnhandledRejections, within, type RejectionWatch } from "../../../test/hardening/support.js";
import { listen, type Listening } from "./support.js";

const RESOURCE = "http://127.0.0.1:4444/mcp";
const APP_ORIGIN = "https://app.example.com";
const MISSING = { error: "unauthorized", error_description: "A bearer token is required" };
const internal = (): Record<string, string> => {
  const row = ERROR_RESPONSES["internal_error" as keyof typeof ERROR_RESPONSES];
  return { error: row?.error ?? "server_error", error_description: row?.description ?? "(missing row)" };
};

let as: TestAuthorizationServer;
let base: McpOAuthMiddlewareOptions;
let rejections: RejectionWatch;

beforeAll(async () => {
  as = await startTestAuthorizationServer();
  base = { resource: RESOURCE, authorizationServers: [as.issuer], cors: { allowedOrigins: [APP_ORIGIN] } };
});
afterAll(() => as.close());
beforeEach(() => {
  rejections = watchUnhandledRejections();
});
afterEach(() => {
  rejections.stop();
  expect(rejections.reasons).toEqual([]);
});

/** mcpOAuth in front of a catch-all that says it was reached, with the verdict it saw. */
function appFor(options: McpOAuthMiddlewareOptions): Express {
  const app = express();
  app.use(mcpOAuth(options));
  app.use((req, res) => {
    res.set("X-Reached", "route").json({ sub: req.auth?.extra?.["sub"] ?? null });
  });
  return app;
}

const bearer = (): string => `Bearer ${as.mint(RESOURCE)}`;

describe("mcpOAuth: OPTIONS", () => {
  let app: Express;
  // Built for each test: Stryker only changes code that runs inside a test (docs/security.md).
  beforeEach(() => {
    app = appFor(base);
  });

  it("OPTIONS with Access-Control-Request-Method but no Origin, no token: 401, the route is not reached", async () => {
    const res = await request(app).options("/mcp").set("Access-Control-Request-Method", "POST");
    expect(res.status).toBe(401);
    expect(res.headers["x-reached"]).toBeUndefined();
    expect(res.body).toEqual(MISSING);
  });

  it("OPTIONS with an allowed Origin but no Access-Control-Request-Method is no preflight: 401 with CORS headers", async () => {
    const res = await request(app).options("/mcp").set("Origin", APP_ORIGIN);
    expect(res.status).toBe(401);
    expect(res.headers["x-reached"]).toBeUndefined();
    expect(res.headers["access-control-allow-origin"]).toBe(APP_ORIGIN);
  });

  it("OPTIONS with an empty Origin or an empty Access-Control-Request-Method is no preflight: refused", async () => {
    // An empty Origin is present and not allowed: the Origin rule's 403.
    const emptyOrigin = await request(app)
      .options("/mcp")
      .set("Origin", "")
      .set("Access-Control-Request-Method", "POST");
    expect([emptyOrigin.status, emptyOrigin.headers["x-reached"]]).toEqual([403, undefined]);
    const emptyMethod = await request(app)
      .options("/mcp")
      .set("Origin", APP_ORIGIN)
      .set("Access-Control-Request-Method", "");
    expect([emptyMethod.status, emptyMethod.headers["x-reached"]]).toEqual([401, undefined]);
  });

  it("OPTIONS that is no preflight, with a valid token: reaches the route with the verdict", async () => {
    const res = await request(app).options("/mcp").set("Authorization", bearer());
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ sub: "alice" });
  });

  it("a real preflight is answered 204 by the library, never passed on", async () => {
    const res = await request(app)
      .options("/mcp")
      .set("Origin", APP_ORIGIN)
      .set("Access-Control-Request-Method", "POST");
    expect(res.status).toBe(204);
    expect(res.headers["x-reached"]).toBeUndefined();
  });

  it("cors: false: a preflight that reaches mcpOAuth is a request like any other (401), never passed on", async () => {
    const res = await request(appFor({ ...base, cors: false }))
      .options("/mcp")
      .set("Origin", APP_ORIGIN)
      .set("Access-Control-Request-Method", "POST");
    expect(res.status).toBe(401);
    expect(res.headers["x-reached"]).toBeUndefined();
  });
});

describe("requireBearer and requireScopes used alone", () => {
  const server = (): ResourceServer => new ResourceServer({ resource: RESOURCE, authorizationServers: [as.issuer] });

  it.each([
    ["requireBearer", (s: ResourceServer) => requireBearer(s)],
    ["requireScopes", (s: ResourceServer) => requireScopes(s, { scopes: ["mcp:read"] })],
  ] as const)(
    "%s: an OPTIONS with or without CORS headers and no token never reaches the route",
    async (_name, make) => {
      const app = express();
      app.use(make(server()));
      app.use((_req, res) => {
        res.set("X-Reached", "route").status(204).end();
      });
      for (const headers of [
        {},
        { "Access-Control-Request-Method": "POST" },
        { Origin: APP_ORIGIN, "Access-Control-Request-Method": "POST" },
      ]) {
        let req = request(app).options("/mcp");
        for (const [name, value] of Object.entries(headers)) req = req.set(name, value);
        const res = await req;
        expect([headers, res.status, res.headers["x-reached"]]).toEqual([headers, 401, undefined]);
      }
    },
  );
});

describe("the final gate: no verdict, no next()", () => {
  it("a resource server whose check() returns nothing (a bug) never lets the request through", async () => {
    const oauth = mcpOAuth(base);
    (oauth.resourceServer as { check: unknown }).check = () => undefined;
    const app = express();
    app.use(oauth);
    app.use((_req, res) => {
      res.set("X-Reached", "route").end();
    });
    const res = await request(app).post("/mcp").set("Authorization", bearer());
    expect(res.headers["x-reached"]).toBeUndefined();
    expect(res.status).toBe(500);
    expect(res.body).toEqual(internal());
  });
});

describe("verdictOf: the verdict requireBearer recorded, and nothing else", () => {
  it("is the AuthInfo requireBearer accepted; a req.auth set by other code, or replaced after it, is none", async () => {
    const server = new ResourceServer({ resource: RESOURCE, authorizationServers: [as.issuer] });
    const forged = { token: "forged", clientId: "forged", scopes: ["mcp:admin"], extra: { sub: "mallory" } };
    const app = express();
    app.use((req, _res, next) => {
      if (req.headers["x-forge"] === "before") req.auth = forged;
      next();
    });
    app.use(requireBearer(server));
    app.use((req, _res, next) => {
      if (req.headers["x-forge"] === "after") req.auth = forged;
      next();
    });
    app.use((req, res) => {
      const verdict = verdictOf(req);
      res.json({ verdict: verdict === undefined ? null : verdict === req.auth, sub: verdict?.extra?.["sub"] ?? null });
    });
    const accepted = await request(app).post("/mcp").set("Authorization", bearer());
    expect(accepted.body).toEqual({ verdict: true, sub: "alice" });
    const replaced = await request(app).post("/mcp").set("Authorization", bearer()).set("X-Forge", "after");
    expect(replaced.body).toEqual({ verdict: null, sub: null });
    // Set before requireBearer: requireBearer's own verdict replaces it.
    const before = await request(app).post("/mcp").set("Authorization", bearer()).set("X-Forge", "before");
    expect(before.body).toEqual({ verdict: true, sub: "alice" });
    // A request requireBearer never saw, whatever its req.auth.
    const alone = express();
    alone.use((req, res) => {
      req.auth = forged;
      res.json({ verdict: verdictOf(req) ?? null });
    });
    expect((await request(alone).post("/mcp")).body).toEqual({ verdict: null });
  });
});

describe("a thrown error is an answer (plain node:http host)", () => {
  let server: Listening;
  let oauth: ReturnType<typeof mcpOAuth>;
  let handler: (req: IncomingMessage, res: ServerResponse) => void;
  let original: { answer: ResourceServer["answer"]; check: ResourceServer["check"] };

  beforeAll(async () => {
    oauth = mcpOAuth({ ...base, scopePolicy: { tools: { write_note: ["mcp:write"] } } });
    original = { answer: oauth.resourceServer.answer, check: oauth.resourceServer.check };
    server = await listen(
      createServer((req, res) => {
        oauth(req, res, () => handler(req, res));
      }),
    );
    // Loads the key set, so later checks are synchronous.
    handler = (_req, res) => void res.end("ok");
    expect((await rawSocketRequest(server.port, "GET", "/mcp", { headers: { Authorization: bearer() } })).status).toBe(
      200,
    );
  });
  afterEach(() => {
    Object.assign(oauth.resourceServer, original);
    handler = (_req, res) => void res.end("ok");
  });
  afterAll(() => server.close());

  const alive = async (): Promise<void> => {
    const res = await within(rawSocketRequest(server.port, "GET", "/mcp"), 5000, "liveness probe");
    expect(res.status).toBe(401);
  };

  it("a resource server whose answer() throws (synchronous refusal): 500 with the library's body", async () => {
    oauth.resourceServer.answer = () => {
      throw new TypeError("hook bug");
    };
    const res = await within(rawSocketRequest(server.port, "GET", "/mcp"), 5000);
    expect(res.status).toBe(500);
    expect(JSON.parse(res.body)).toEqual(internal());
    Object.assign(oauth.resourceServer, original);
    await alive();
  });

  it("a resource server whose check() rejects and answer() throws: 500 with the library's body", async () => {
    oauth.resourceServer.check = () => Promise.reject(new TypeError("hook bug"));
    oauth.resourceServer.answer = () => {
      throw new TypeError("hook bug");
    };
    const res = await within(
      rawSocketRequest(server.port, "GET", "/mcp", { headers: { Authorization: bearer() } }),
      5000,
    );
    expect(res.status).toBe(500);
    expect(JSON.parse(res.body)).toEqual(internal());
    Object.assign(oauth.resourceServer, original);
    await alive();
  });

  it("a scope policy hook that throws (custom): 500 with the library's body, on a parsed and on a read body", async () => {
    const app = express();
    app.use(express.json());
    const throwing = mcpOAuth({
      ...base,
      scopePolicy: {
        custom: () => {
          throw new TypeError("policy bug");
        },
      },
    });
    app.use(throwing);
    app.use((_req, res) => {
      res.set("X-Reached", "route").end();
    });
    const parsed = await request(app)
      .post("/mcp")
      .set("Authorization", bearer())
      .send({ jsonrpc: "2.0", id: 1, method: "tools/list" });
    expect([parsed.status, parsed.body, parsed.headers["x-reached"]]).toEqual([500, internal(), undefined]);
    // The same hook with the body read by requireScopes (no parser in front): the promise path.
    const readByUs = express();
    readByUs.use(throwing);
    readByUs.use((_req, res) => {
      res.end();
    });
    const listening = await listen(createServer(readByUs));
    try {
      const res = await within(
        rawSocketRequest(listening.port, "POST", "/mcp", {
          headers: { Authorization: bearer(), "Content-Type": "application/json" },
          body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
        }),
        5000,
      );
      expect([res.status, JSON.parse(res.body)]).toEqual([500, internal()]);
    } finally {
      await listening.close();
    }
  });

  it("an event listener that throws changes no answer", async () => {
    const app = express();
    app.use(
      mcpOAuth({
        ...base,
        onEvent: () => {
          throw new TypeError("logging bug");
        },
      }),
    );
    app.use((req, res) => {
      res.json({ sub: req.auth?.extra?.["sub"] });
    });
    expect((await request(app).get("/mcp").set("Authorization", bearer())).body).toEqual({ sub: "alice" });
    expect((await request(app).get("/mcp").set("Authorization", "Bearer x.y.z")).status).toBe(401);
  });

  it("the host's handler throwing when called after an asynchronous check: 500, no unhandled rejection", async () => {
    handler = () => {
      throw new TypeError("host bug");
    };
    // A POST whose body the policy reads: next() is called from a settled promise.
    const res = await within(
      rawSocketRequest(server.port, "POST", "/mcp", {
        headers: { Authorization: bearer(), "Content-Type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
      }),
      5000,
    );
    expect(res.status).toBe(500);
    expect(JSON.parse(res.body)).toEqual(internal());
    await alive();
  });

  it("the host's handler throwing after it sent headers: the connection is closed, the server lives", async () => {
    handler = (_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write("data: x\n\n");
      throw new TypeError("host bug");
    };
    // The stream is cut (the connection destroyed): whatever arrived of it, never a hang.
    const outcome = await within(
      rawSocketRequest(server.port, "POST", "/mcp", {
        headers: { Authorization: bearer(), "Content-Type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
      }).then(
        (res) => res.status,
        (error: Error) => error.message.replace(/:.*/s, ""),
      ),
      5000,
    );
    expect(["incomplete answer to POST /mcp", 200]).toContain(outcome);
    await alive();
  });
});

describe("mcpOAuth's chain: a throw inside it is answered, a throw after it is the host's", () => {
  let server: Listening;
  let oauth: ReturnType<typeof mcpOAuth>;
  let handler: (req: IncomingMessage, res: ServerResponse) => void;
  let refuseVary: boolean;
  const reached: string[] = [];

  beforeAll(async () => {
    oauth = mcpOAuth(base);
    // A node:http host that handles its own errors, as Connect does (a try/catch around each handler).
    server = await listen(
      createServer((req, res) => {
        if (refuseVary) {
          // A response that refuses one header (a host's wrapper): cors writes `Vary` while in the chain.
          const setHeader = res.setHeader.bind(res);
          res.setHeader = (name, value) => {
            if (name.toLowerCase() === "vary") throw new TypeError("header refused");
            return setHeader(name, value);
          };
        }
        try {
          oauth(req, res, () => handler(req, res));
        } catch (error) {
          res.statusCode = 418;
          res.end(`host caught: ${(error as Error).message}`);
        }
      }),
    );
  });
  beforeEach(async () => {
    refuseVary = false;
    reached.length = 0;
    handler = (_req, res) => {
      reached.push("handler");
      res.end("ok");
    };
    // The key set is loaded, so the check (and the call of the handler) is synchronous.
    expect((await rawSocketRequest(server.port, "GET", "/mcp", { headers: { Authorization: bearer() } })).status).toBe(
      200,
    );
    reached.length = 0;
  });
  afterAll(() => server.close());

  it("the host's handler throwing synchronously reaches the host's own error handling, not the library's 500", async () => {
    handler = () => {
      throw new TypeError("host bug");
    };
    const res = await within(
      rawSocketRequest(server.port, "GET", "/mcp", { headers: { Authorization: bearer() } }),
      5000,
    );
    expect([res.status, res.body]).toEqual([418, "host caught: host bug"]);
  });

  it("a part of the chain throwing synchronously (cors writing Vary): 500 with the library's body, the handler not reached", async () => {
    refuseVary = true;
    const res = await within(
      rawSocketRequest(server.port, "GET", "/mcp", { headers: { Authorization: bearer(), Origin: APP_ORIGIN } }),
      5000,
    );
    expect(reached).toEqual([]);
    expect([res.status, JSON.parse(res.body)]).toEqual([500, internal()]);
  });
});

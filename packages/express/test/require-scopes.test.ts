/**
 * requireScopes(): per-operation scopes from an MCP-aware policy over the JSON-RPC body
 * (batches included), after requireBearer has checked validity and audience.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "@jest/globals";
import express, { type Express } from "express";
import { createServer } from "node:http";
import { connect } from "node:net";
import request from "supertest";
import { requireBearer, requireScopes, type McpOAuthOptions, type McpScopePolicy } from "@mcp-oauth/express";
import { obtainAccessToken } from "@mcp-oauth/local-authorization-server";
import {
  startTestAuthorizationServer,
  type TestAuthorizationServer,
} from "../../../test/helpers/authorization-server.js";
import { rawSocketRequest } from "../../../test/helpers/raw-socket.js";
import { within } from "../../../test/hardening/support.js";
import { bearerChallenge, listen, nowSeconds, rawRequest, type Listening, serverFor } from "./support.js";

const RESOURCE = "http://127.0.0.1:4444/mcp";
const METADATA_URL = "http://127.0.0.1:4444/.well-known/oauth-protected-resource/mcp";
const POLICY: McpScopePolicy = { tools: { write_note: ["mcp:write"] } };

const call = (name: string, id = 1): Record<string, unknown> => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name, arguments: {} },
});

/** A POST with neither Content-Length nor Transfer-Encoding (a body of length zero, RFC 9112 section 6.3): its status. */
function statusOfBodylessPost(port: number, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => {
      socket.write(
        `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\n` +
          "Content-Type: application/json\r\nConnection: close\r\n\r\n",
      );
    });
    let head = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      head += chunk;
    });
    socket.on("error", reject);
    socket.on("close", () => {
      const status = /^HTTP\/1\.1 (\d{3})/.exec(head)?.[1];
      if (status === undefined) reject(new Error(`no answer: ${JSON.stringify(head.slice(0, 80))}`));
      else resolve(Number(status));
    });
  });
}

let as: TestAuthorizationServer;
let options: McpOAuthOptions;

/** requireBearer + requireScopes, then a route that shows what it received. */
function appFor(
  opts: McpOAuthOptions,
  scopesOptions?: Parameters<typeof requireScopes>[1],
  after: express.RequestHandler[] = [],
): Express {
  const app = express();
  app.use(requireBearer(serverFor(opts)));
  app.use(requireScopes(serverFor(opts), scopesOptions));
  for (const handler of after) app.use(handler);
  app.post("/mcp", (req, res) => {
    res.json({ reached: true, body: req.body ?? null, scopes: req.auth?.scopes ?? null });
  });
  return app;
}

beforeAll(async () => {
  as = await startTestAuthorizationServer();
  options = { resource: RESOURCE, authorizationServers: [as.issuer], scopes: ["mcp:read"], scopePolicy: POLICY };
});
afterAll(() => as.close());

function expectInsufficientScope(res: request.Response, needed: string[]): void {
  expect(res.status).toBe(403);
  expect(res.headers["content-type"]).toMatch(/^application\/json(;|$)/);
  expect(res.headers["cache-control"]).toBe("no-store");
  expect(res.body).toEqual({ error: "insufficient_scope", error_description: expect.any(String) });
  const params = bearerChallenge(res.headers["www-authenticate"]);
  expect(params["error"]).toBe("insufficient_scope");
  expect(params["resource_metadata"]).toBe(METADATA_URL);
  expect(params["scope"]!.split(" ").sort()).toEqual([...needed].sort());
}

describe("the policy from the resource server options", () => {
  let app: Express;
  let readToken: string;
  let writeToken: string;
  // Built for each test: Stryker can only change code that runs inside a test.
  beforeEach(() => {
    app = appFor(options);
  });
  beforeAll(async () => {
    [readToken, writeToken] = await Promise.all([
      obtainAccessToken(as.issuer, { resource: RESOURCE, scope: "mcp:read" }).then((t) => t.access_token),
      obtainAccessToken(as.issuer, { resource: RESOURCE, scope: "mcp:read mcp:write" }).then((t) => t.access_token),
    ]);
  });

  it("refuses tools/call write_note with an mcp:read token: 403 naming every scope the request needs", async () => {
    const res = await request(app).post("/mcp").set("Authorization", `Bearer ${readToken}`).send(call("write_note"));
    expectInsufficientScope(res, ["mcp:read", "mcp:write"]);
    expect(res.text).not.toContain(readToken);
    expect(res.body.reached).toBeUndefined();
  });

  it("lets tools/call whoami through with an mcp:read token, and the route sees the body it read", async () => {
    const res = await request(app).post("/mcp").set("Authorization", `Bearer ${readToken}`).send(call("whoami"));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ reached: true, body: call("whoami"), scopes: ["mcp:read"] });
  });

  it("lets tools/call write_note through with an mcp:write token", async () => {
    const res = await request(app).post("/mcp").set("Authorization", `Bearer ${writeToken}`).send(call("write_note"));
    expect(res.status).toBe(200);
    expect(res.body.body).toEqual(call("write_note"));
  });

  it("refuses a batch holding one write_note call", async () => {
    const batch = [call("whoami", 1), { jsonrpc: "2.0", method: "notifications/initialized" }, call("write_note", 2)];
    const res = await request(app).post("/mcp").set("Authorization", `Bearer ${readToken}`).send(batch);
    expectInsufficientScope(res, ["mcp:read", "mcp:write"]);
  });

  it("lets a batch of whoami calls through", async () => {
    const batch = [call("whoami", 1), call("whoami", 2)];
    const res = await request(app).post("/mcp").set("Authorization", `Bearer ${readToken}`).send(batch);
    expect(res.status).toBe(200);
    expect(res.body.body).toEqual(batch);
  });

  it("lets other methods through (tools/list, initialize)", async () => {
    for (const message of [
      { jsonrpc: "2.0", id: 1, method: "tools/list" },
      {
        jsonrpc: "2.0",
        id: 2,
        method: "initialize",
        params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "0" } },
      },
    ]) {
      const res = await request(app).post("/mcp").set("Authorization", `Bearer ${readToken}`).send(message);
      expect(res.status).toBe(200);
      expect(res.body.body).toEqual(message);
    }
  });

  it("answers invalid JSON with 400 invalid_request, not 500", async () => {
    const res = await request(app)
      .post("/mcp")
      .set("Authorization", `Bearer ${readToken}`)
      .set("Content-Type", "application/json")
      .send('{"jsonrpc":"2.0","method":');
    expect(res.status).toBe(400);
    expect(res.headers["content-type"]).toMatch(/^application\/json(;|$)/);
    expect(res.body).toEqual({ error: "invalid_request", error_description: expect.any(String) });
  });

  it("leaves the parsed body for an express.json() mounted after it, which does not hang", async () => {
    const withJson = appFor(options, undefined, [express.json()]);
    const res = await request(withJson)
      .post("/mcp")
      .set("Authorization", `Bearer ${readToken}`)
      .timeout(5000)
      .send(call("whoami"));
    expect(res.status).toBe(200);
    expect(res.body.body).toEqual(call("whoami"));
  });

  it("reads the body parsed by an express.json() mounted before it", async () => {
    const app2 = express();
    app2.use(express.json());
    app2.use(requireBearer(serverFor(options)));
    app2.use(requireScopes(serverFor(options)));
    app2.post("/mcp", (req, res) => {
      res.json({ body: req.body });
    });
    const denied = await request(app2)
      .post("/mcp")
      .set("Authorization", `Bearer ${readToken}`)
      .send(call("write_note"));
    expectInsufficientScope(denied, ["mcp:read", "mcp:write"]);
    const allowed = await request(app2).post("/mcp").set("Authorization", `Bearer ${readToken}`).send(call("whoami"));
    expect(allowed.status).toBe(200);
    expect(allowed.body.body).toEqual(call("whoami"));
  });

  // A body a parser in front left is judged one way whatever the method: as JSON text when
  // express.text() read it, as express.json() would have parsed it.
  it.each(["POST", "DELETE"] as const)(
    "judges a JSON body left by express.text() as JSON on %s, as it judges one express.json() parsed",
    async (method) => {
      for (const parser of [express.json(), express.text({ type: "application/json" })]) {
        const app2 = express();
        app2.use(parser);
        app2.use(requireBearer(serverFor(options)));
        app2.use(requireScopes(serverFor(options)));
        app2.all("/mcp", (_req, res) => {
          res.json({ reached: true });
        });
        const agent = request(app2);
        const denied = await (method === "POST" ? agent.post("/mcp") : agent.delete("/mcp"))
          .set("Authorization", `Bearer ${readToken}`)
          .set("Content-Type", "application/json")
          .send(JSON.stringify(call("write_note")));
        expectInsufficientScope(denied, ["mcp:read", "mcp:write"]);
      }
    },
  );

  it("judges a JSON body left by express.raw() as the JSON it encodes", async () => {
    const app2 = express();
    app2.use(express.raw({ type: "application/json" }));
    app2.use(requireBearer(serverFor(options)));
    app2.use(requireScopes(serverFor(options)));
    app2.post("/mcp", (_req, res) => {
      res.json({ reached: true });
    });
    const post = (body: unknown): request.Test =>
      request(app2)
        .post("/mcp")
        .set("Authorization", `Bearer ${readToken}`)
        .set("Content-Type", "application/json")
        .send(JSON.stringify(body));
    expectInsufficientScope(await post(call("write_note")), ["mcp:read", "mcp:write"]);
    expect((await post(call("whoami"))).body).toEqual({ reached: true });
    // Bytes are decoded by the core's rules, never by Buffer's own UTF-8 reading: another charset is 415.
    const utf7 = await request(app2)
      .post("/mcp")
      .set("Authorization", `Bearer ${readToken}`)
      .set("Content-Type", "application/json; charset=utf-7")
      .send(JSON.stringify(call("whoami")));
    expect([utf7.status, utf7.body.error]).toEqual([415, "invalid_request"]);
  });

  it("a text body express.text() left that is no JSON message is judged as no message, not refused as bad JSON", async () => {
    const app2 = express();
    app2.use(express.text({ type: "text/plain" }));
    app2.use(requireBearer(serverFor(options)));
    app2.use(requireScopes(serverFor(options)));
    app2.post("/mcp", (req, res) => {
      res.json({ reached: true, body: req.body as unknown });
    });
    const res = await request(app2)
      .post("/mcp")
      .set("Authorization", `Bearer ${readToken}`)
      .set("Content-Type", "text/plain")
      .send("not json");
    expect([res.status, res.body]).toEqual([200, { reached: true, body: "not json" }]);
  });

  // A host that put the message on req.body itself (the request carries no body of its own):
  // the policy judges that message, and no empty stream read replaces it.
  it.each(["no framing", "Content-Length: 0"] as const)(
    "judges a message the host preset on req.body, the request having no body (%s)",
    async (framing) => {
      const app2 = express();
      app2.use((req, _res, next) => {
        req.body = call("write_note");
        next();
      });
      app2.use(requireBearer(serverFor(options)));
      app2.use(requireScopes(serverFor(options)));
      app2.post("/mcp", (_req, res) => {
        res.json({ reached: true });
      });
      const server = await listen(createServer(app2));
      try {
        const status =
          framing === "no framing"
            ? await statusOfBodylessPost(server.port, readToken)
            : (
                await rawSocketRequest(server.port, "POST", "/mcp", {
                  headers: { Authorization: `Bearer ${readToken}`, "Content-Type": "application/json" },
                  body: "",
                })
              ).status;
        expect(status).toBe(403);
      } finally {
        await server.close();
      }
    },
  );

  it("a body whose client goes away before sending it all is settled (400 body_invalid), never left pending", async () => {
    let reading!: () => void;
    const readStarts = new Promise<void>((resolve) => (reading = resolve));
    let ended!: (status: number) => void;
    const answerEnds = new Promise<number>((resolve) => (ended = resolve));
    const app2 = express();
    // Records the status the answer ends with (it reaches no client).
    app2.use((_req, res, next) => {
      const end = res.end.bind(res) as (...args: unknown[]) => express.Response;
      res.end = ((...args: unknown[]) => {
        ended(res.statusCode);
        return end(...args);
      }) as typeof res.end;
      next();
    });
    app2.use(requireBearer(serverFor(options)));
    // requireScopes starts reading the body synchronously when called: the client leaves after that.
    app2.use((_req, _res, next) => {
      reading();
      next();
    });
    app2.use(requireScopes(serverFor(options)));
    app2.post("/mcp", (_req, res) => {
      res.json({ reached: true });
    });
    const server = await listen(createServer(app2));
    try {
      const socket = connect(server.port, "127.0.0.1", () => {
        socket.write(
          `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${readToken}\r\n` +
            'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"jsonrpc":',
        );
      });
      socket.on("error", () => {});
      await within(readStarts, 5000, "the start of the read");
      socket.destroy();
      expect(await within(answerEnds, 5000, "the settled answer")).toBe(400);
    } finally {
      await server.close();
    }
  });

  it("a whole body whose client left before it was read is not waited for: the request is settled", async () => {
    let waiting!: () => void;
    const hostWaits = new Promise<void>((resolve) => (waiting = resolve));
    let ended!: (status: number) => void;
    const answerEnds = new Promise<number>((resolve) => (ended = resolve));
    const app2 = express();
    app2.use((_req, res, next) => {
      const end = res.end.bind(res) as (...args: unknown[]) => express.Response;
      res.end = ((...args: unknown[]) => {
        ended(res.statusCode);
        return end(...args);
      }) as typeof res.end;
      next();
    });
    app2.use(requireBearer(serverFor(options)));
    // The host's own asynchronous work, during which the client goes away: the request is
    // complete and destroyed, its body never read (no 'end' will ever come).
    app2.use((req, _res, next) => {
      req.once("close", () => next());
      waiting();
    });
    app2.use(requireScopes(serverFor(options)));
    app2.post("/mcp", (_req, res) => {
      res.json({ reached: true });
    });
    const server = await listen(createServer(app2));
    try {
      const body = JSON.stringify(call("whoami"));
      const socket = connect(server.port, "127.0.0.1", () => {
        socket.write(
          `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${readToken}\r\n` +
            `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
        );
      });
      socket.on("error", () => {});
      await within(hostWaits, 5000, "the host's wait");
      socket.destroy();
      // Nothing left to read: judged as no message, never a read that waits forever.
      expect(await within(answerEnds, 5000, "the settled answer")).toBe(200);
    } finally {
      await server.close();
    }
  });

  it("an empty chunked body is no message, as Content-Length: 0 is: the route answers it", async () => {
    const server = await listen(createServer(appFor(options)));
    try {
      const res = await rawSocketRequest(server.port, "POST", "/mcp", {
        headers: {
          Authorization: `Bearer ${readToken}`,
          "Content-Type": "application/json",
          "Transfer-Encoding": "chunked",
        },
        body: "0\r\n\r\n",
      });
      expect([res.status, JSON.parse(res.body)]).toEqual([200, { reached: true, body: null, scopes: ["mcp:read"] }]);
    } finally {
      await server.close();
    }
  });

  it("checks validity before scope: an expired token with too little scope gets 401 invalid_token", async () => {
    const token = as.mint(RESOURCE, { scope: "mcp:read", iat: nowSeconds() - 7200, exp: nowSeconds() - 3600 });
    const res = await request(app).post("/mcp").set("Authorization", `Bearer ${token}`).send(call("write_note"));
    expect(res.status).toBe(401);
    expect(res.body.error).toBe("invalid_token");
    expect(bearerChallenge(res.headers["www-authenticate"])["error"]).toBe("invalid_token");
  });

  it("checks audience before scope: a token for another resource with too little scope gets 401 invalid_token", async () => {
    const token = as.mint("http://127.0.0.1:4444/other", { scope: "mcp:read" });
    const res = await request(app).post("/mcp").set("Authorization", `Bearer ${token}`).send(call("write_note"));
    expect(res.status).toBe(401);
    expect(res.body.error).toBe("invalid_token");
  });

  it("answers a request without a token with 401 before reading the body", async () => {
    const res = await request(app).post("/mcp").set("Content-Type", "application/json").send("{not json");
    expect(res.status).toBe(401);
    expect(bearerChallenge(res.headers["www-authenticate"])).toEqual({
      resource_metadata: METADATA_URL,
      scope: "mcp:read",
    });
  });
});

describe("requireScopes options", () => {
  it("takes the policy as an option", async () => {
    const opts: McpOAuthOptions = { resource: RESOURCE, authorizationServers: [as.issuer] };
    const app = appFor(opts, { policy: POLICY });
    const token = as.mint(RESOURCE, { scope: "mcp:read" });
    const denied = await request(app).post("/mcp").set("Authorization", `Bearer ${token}`).send(call("write_note"));
    expectInsufficientScope(denied, ["mcp:write"]);
    const allowed = await request(app).post("/mcp").set("Authorization", `Bearer ${token}`).send(call("whoami"));
    expect(allowed.status).toBe(200);
  });

  it("adds fixed scopes to the ones the request needs", async () => {
    const opts: McpOAuthOptions = { resource: RESOURCE, authorizationServers: [as.issuer], scopes: ["mcp:read"] };
    const app = appFor(opts, { policy: POLICY, scopes: ["mcp:tools"] });
    const res = await request(app)
      .post("/mcp")
      .set("Authorization", `Bearer ${as.mint(RESOURCE, { scope: "mcp:read" })}`)
      .send(call("write_note"));
    expectInsufficientScope(res, ["mcp:read", "mcp:tools", "mcp:write"]);
    const ok = await request(app)
      .post("/mcp")
      .set("Authorization", `Bearer ${as.mint(RESOURCE, { scope: "mcp:read mcp:tools" })}`)
      .send(call("whoami"));
    expect(ok.status).toBe(200);
  });

  it("answers 413 for a body over the limit", async () => {
    const app = appFor(options, { bodyLimit: 100 });
    const big = { ...call("whoami"), params: { name: "whoami", arguments: { pad: "x".repeat(500) } } };
    const res = await request(app)
      .post("/mcp")
      .set("Authorization", `Bearer ${as.mint(RESOURCE)}`)
      .send(big);
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ error: "invalid_request", error_description: expect.any(String) });
  });

  it.each(["Content-Length", "chunked"])(
    "reads a body of exactly bodyLimit bytes and answers 413 for one byte more (%s)",
    async (framing) => {
      const limit = 200;
      const server = await listen(createServer(appFor(options, { bodyLimit: limit })));
      try {
        const bodyOf = (size: number): string => {
          const text = JSON.stringify({ ...call("whoami"), params: { name: "whoami", arguments: { pad: "" } } });
          return text.replace('"pad":""', `"pad":"${"x".repeat(size - text.length)}"`);
        };
        const post = (body: string) =>
          rawSocketRequest(server.port, "POST", "/mcp", {
            headers: {
              Authorization: `Bearer ${as.mint(RESOURCE)}`,
              "Content-Type": "application/json",
              ...(framing === "chunked" ? { "Transfer-Encoding": "chunked" } : {}),
            },
            body: framing === "chunked" ? `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n` : body,
          });
        const atLimit = await post(bodyOf(limit));
        expect([atLimit.status, JSON.parse(atLimit.body).reached]).toEqual([200, true]);
        expect((await post(bodyOf(limit + 1))).status).toBe(413);
      } finally {
        await server.close();
      }
    },
  );

  it("answers 401 when mounted without requireBearer in front", async () => {
    const app = express();
    app.use(requireScopes(serverFor(options)));
    app.post("/mcp", (_req, res) => {
      res.json({ reached: true });
    });
    const res = await request(app).post("/mcp").send(call("whoami"));
    expect(res.status).toBe(401);
    expect(res.body.reached).toBeUndefined();
  });
});

describe("which bodies are read", () => {
  it("without a policy, never: a body that is not JSON reaches the route, which reads it itself", async () => {
    const opts: McpOAuthOptions = { resource: RESOURCE, authorizationServers: [as.issuer], scopes: ["mcp:read"] };
    const app = express();
    app.use(requireBearer(serverFor(opts)));
    app.use(requireScopes(serverFor(opts)));
    app.post("/mcp", express.text({ type: "*/*" }), (req, res) => {
      res.json({ text: req.body });
    });
    const res = await request(app)
      .post("/mcp")
      .set("Authorization", `Bearer ${as.mint(RESOURCE, { scope: "mcp:read" })}`)
      .set("Content-Type", "application/json")
      .send('{"jsonrpc":"2.0","method":');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ text: '{"jsonrpc":"2.0","method":' });
  });

  it("without a policy, a body parsed before it needs only the fixed scopes", async () => {
    const opts: McpOAuthOptions = { resource: RESOURCE, authorizationServers: [as.issuer], scopes: ["mcp:read"] };
    const app = express();
    app.use(express.json());
    app.use(requireBearer(serverFor(opts)));
    app.use(requireScopes(serverFor(opts)));
    app.post("/mcp", (req, res) => {
      res.json({ body: req.body });
    });
    const res = await request(app)
      .post("/mcp")
      .set("Authorization", `Bearer ${as.mint(RESOURCE, { scope: "mcp:read" })}`)
      .send(call("write_note"));
    expect(res.status).toBe(200);
    expect(res.body.body).toEqual(call("write_note"));
  });

  it("with a policy, only a POST's: a GET announcing a body it never sends passes at once", async () => {
    const bearer = requireBearer(serverFor(options));
    const scopes = requireScopes(serverFor(options));
    const server = await listen(
      createServer((req, res) => bearer(req, res, () => scopes(req, res, () => res.end("reached")))),
    );
    try {
      const res = await rawSocketRequest(Number(new URL(server.url).port), "GET", "/mcp", {
        headers: {
          Authorization: `Bearer ${as.mint(RESOURCE, { scope: "mcp:read" })}`,
          "Content-Type": "application/json",
          "Content-Length": "1000",
        },
        body: '{"jsonrpc":"2.0",',
      });
      expect(res.status).toBe(200);
      expect(res.body).toBe("reached");
    } finally {
      await server.close();
    }
  });
});

describe("OPTIONS requests, preflights included (oauthCors answers preflights in front)", () => {
  it("refuses a preflight that reaches it without an authenticated request", async () => {
    const app = express();
    const server = serverFor(options);
    app.use(requireBearer(server));
    app.use(requireScopes(server, { scopes: ["mcp:write"] }));
    app.options("/mcp", (_req, res) => {
      res.set("X-Reached", "route").status(204).end();
    });
    const res = await request(app)
      .options("/mcp")
      .set("Origin", "https://app.example.com")
      .set("Access-Control-Request-Method", "POST");
    expect(res.status).toBe(401);
    expect(res.headers["x-reached"]).toBeUndefined();
  });

  it("refuses an OPTIONS request that is no preflight and carries no token", async () => {
    const app = express();
    app.use(requireScopes(serverFor(options)));
    app.options("/mcp", (_req, res) => {
      res.status(204).end();
    });
    const res = await request(app).options("/mcp");
    expect(res.status).toBe(401);
  });
});

describe("scope hierarchy", () => {
  it("lets an mcp:admin token call write_note when mcp:admin implies mcp:write", async () => {
    const opts: McpOAuthOptions = {
      resource: RESOURCE,
      authorizationServers: [as.issuer],
      scopePolicy: POLICY,
      scopeHierarchy: { "mcp:admin": ["mcp:write"] },
    };
    const app = appFor(opts);
    const admin = await request(app)
      .post("/mcp")
      .set("Authorization", `Bearer ${as.mint(RESOURCE, { scope: "mcp:admin" })}`)
      .send(call("write_note"));
    expect(admin.status).toBe(200);
    expect(admin.body.body).toEqual(call("write_note"));
    const reader = await request(app)
      .post("/mcp")
      .set("Authorization", `Bearer ${as.mint(RESOURCE, { scope: "mcp:read" })}`)
      .send(call("write_note"));
    expectInsufficientScope(reader, ["mcp:write"]);
  });

  it("applies the hierarchy transitively and to the base scopes", async () => {
    const opts: McpOAuthOptions = {
      resource: RESOURCE,
      authorizationServers: [as.issuer],
      scopes: ["mcp:read"],
      scopePolicy: POLICY,
      scopeHierarchy: { "mcp:admin": ["mcp:write"], "mcp:write": ["mcp:read"] },
    };
    const app = appFor(opts);
    const res = await request(app)
      .post("/mcp")
      .set("Authorization", `Bearer ${as.mint(RESOURCE, { scope: "mcp:admin" })}`)
      .send(call("write_note"));
    expect(res.status).toBe(200);
  });
});

describe("without Express", () => {
  let server: Listening;
  beforeAll(async () => {
    const bearer = requireBearer(serverFor(options));
    const scopes = requireScopes(serverFor(options));
    server = await listen(
      createServer((req, res) => {
        bearer(req, res, () =>
          scopes(req, res, () => {
            res.setHeader("content-type", "application/json");
            res.end(JSON.stringify({ body: (req as { body?: unknown }).body }));
          }),
        );
      }),
    );
  });
  afterAll(() => server.close());

  it("reads the body itself and leaves it on req.body", async () => {
    const res = await rawRequest(`${server.url}/mcp`, {
      method: "POST",
      headers: { authorization: `Bearer ${as.mint(RESOURCE)}`, "content-type": "application/json" },
      body: JSON.stringify(call("whoami")),
    });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ body: call("whoami") });
  });

  it("refuses write_note with 403", async () => {
    const res = await rawRequest(`${server.url}/mcp`, {
      method: "POST",
      headers: { authorization: `Bearer ${as.mint(RESOURCE)}`, "content-type": "application/json" },
      body: JSON.stringify(call("write_note")),
    });
    expect(res.status).toBe(403);
    expect(bearerChallenge(res.headers["www-authenticate"])).toMatchObject({
      error: "insufficient_scope",
      scope: "mcp:read mcp:write",
    });
  });
});

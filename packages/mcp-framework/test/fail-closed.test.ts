/**
 * Fail closed on mcp-framework's real transports: every request the bridge forwards to the
 * framework carries a verdict, a CORS preflight is answered by the library (never passed
 * on), an OPTIONS that is not a preflight is authenticated like any other request, and a
 * throwing part (an `alsoAccept` provider, the framework's own listener) gets an answer,
 * never a crashed server or an unhandled rejection.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "@jest/globals";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { MCPServer } from "mcp-framework";
import { ERROR_RESPONSES, ResourceServer } from "@mcp-oauth/core";
import {
  startTestAuthorizationServer,
  type TestAuthorizationServer,
} from "../../../test/helpers/authorization-server.js";
import { listen, type Listening } from "../../../test/helpers/listen.js";
import { rawSocketRequest } from "../../../test/helpers/raw-socket.js";
import { watchUnhandledRejections, within, type RejectionWatch } from "../../../test/hardening/support.js";
import { WhoamiTool } from "../../../examples/mcp-framework-server/src/tools.js";
import { createBridge, type FrameworkAuthProvider } from "../src/bridge.js";
import { DEFAULT_SESSION_LIMITS } from "../src/sessions.js";
import type { RequestListener } from "../src/framework-internals.js";
import { OAuthAuthProvider } from "../src/index.js";
import {
  bearerChallenge,
  errorBody,
  DESCRIPTIONS,
  freePort,
  INITIALIZE,
  postJson,
  startExample,
  startFramework,
  type RunningExample,
  type Started,
} from "./support.js";

const APP = "https://app.example.com";

let as: TestAuthorizationServer;
let rejections: RejectionWatch;

beforeAll(async () => {
  as = await startTestAuthorizationServer();
});
afterAll(() => as.close());
beforeEach(() => {
  rejections = watchUnhandledRejections();
});
afterEach(() => {
  rejections.stop();
  expect(rejections.reasons).toEqual([]);
});

/** The server still answers: a request without a token gets the library's 401. */
async function expectAlive(port: number, path: string): Promise<void> {
  const res = await within(rawSocketRequest(port, "GET", path), 5000, "liveness probe");
  expect(res.status).toBe(401);
}

describe.each([
  ["http-stream", "batch", ["/mcp"]],
  ["http-stream", "stream", ["/mcp"]],
  ["sse", "batch", ["/sse", "/messages", "/messages?sessionId=x"]],
] as const)("the %s transport (%s responses)", (transport, responseMode, paths) => {
  let ex: RunningExample;
  beforeAll(async () => {
    ex = await startExample({
      MCP_TRANSPORT: transport,
      MCP_RESPONSE_MODE: responseMode,
      OAUTH_AUTHORIZATION_SERVER: as.issuer,
      OAUTH_SCOPES: "mcp:read",
      OAUTH_ALLOWED_ORIGINS: APP,
    });
  });
  afterAll(() => ex.stop());

  it.each(paths)(
    "OPTIONS %s with Access-Control-Request-Method and no Origin is no preflight: 401, the server lives",
    async (path) => {
      const res = await within(
        rawSocketRequest(ex.port, "OPTIONS", path, { headers: { "Access-Control-Request-Method": "POST" } }),
        5000,
      );
      expect(res.status).toBe(401);
      expect(bearerChallenge(res.headers["www-authenticate"])["error"]).toBeUndefined();
      expect(JSON.parse(res.body)).toEqual(errorBody(401, DESCRIPTIONS.missing));
      await expectAlive(ex.port, paths[0]);
    },
  );

  it.each(paths)("OPTIONS %s without any CORS header and no token: 401", async (path) => {
    const res = await within(rawSocketRequest(ex.port, "OPTIONS", path), 5000);
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body)).toEqual(errorBody(401, DESCRIPTIONS.missing));
    await expectAlive(ex.port, paths[0]);
  });

  it.each(paths)("OPTIONS %s with an allowed Origin but no Access-Control-Request-Method: 401", async (path) => {
    const res = await within(rawSocketRequest(ex.port, "OPTIONS", path, { headers: { Origin: APP } }), 5000);
    expect(res.status).toBe(401);
    // An actual CORS request: the browser may read the challenge.
    expect(res.headers["access-control-allow-origin"]).toBe(APP);
  });

  it.each(paths)("a real preflight on %s (Origin and method) is answered 204 by the library", async (path) => {
    const res = await within(
      rawSocketRequest(ex.port, "OPTIONS", path, {
        headers: { Origin: APP, "Access-Control-Request-Method": "POST" },
      }),
      5000,
    );
    expect(res.status).toBe(204);
    expect(res.headers["access-control-allow-origin"]).toBe(APP);
    expect(res.headers["www-authenticate"]).toBeUndefined();
  });
});

describe("a throwing alsoAccept provider is an answer", () => {
  let started: Started;
  let url: string;
  const providers: Record<string, FrameworkAuthProvider> = {
    "throws synchronously": {
      authenticate: () => {
        throw new TypeError("provider bug");
      },
    },
    rejects: { authenticate: () => Promise.reject(new TypeError("provider bug")) },
    "answers without a promise": {
      authenticate: (() => true) as unknown as FrameworkAuthProvider["authenticate"],
    },
  };
  let which = "throws synchronously";
  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}/mcp`;
    const provider = new OAuthAuthProvider({
      resource: url,
      authorizationServers: [as.issuer],
      alsoAccept: [{ authenticate: (req) => providers[which]!.authenticate(req) }],
    });
    const server = new MCPServer({
      name: "throwing-also-accept",
      version: "0.0.0",
      transport: { type: "http-stream", options: { port, auth: { provider } } },
    });
    server.addTool(WhoamiTool);
    started = await startFramework(server, port);
  });
  afterAll(() => started.stop());

  it.each(Object.keys(providers))("a provider that %s: an answer, and the server lives", async (name) => {
    which = name;
    const res = await within(postJson(url, INITIALIZE), 5000);
    if (name === "answers without a promise") expect(res.status).toBe(200);
    else {
      // A provider that fails has not accepted the caller: the OAuth answer.
      expect(res.status).toBe(401);
      expect(JSON.parse(res.body)).toEqual(errorBody(401, DESCRIPTIONS.missing));
    }
    which = "rejects";
    await expectAlive(started.port, "/mcp");
  });
});

describe("the framework's listener throwing behind the bridge", () => {
  let resourceServer: ResourceServer;
  let server: Listening;
  let url: string;
  let listener: RequestListener;
  const internal = (): Record<string, string> => {
    const row = ERROR_RESPONSES["internal_error" as keyof typeof ERROR_RESPONSES];
    return { error: row?.error ?? "server_error", error_description: row?.description ?? "(missing row)" };
  };

  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}/mcp`;
    resourceServer = new ResourceServer({ resource: url, authorizationServers: [as.issuer] });
    const wrap = createBridge(resourceServer, { alsoAccept: [], sessions: DEFAULT_SESSION_LIMITS })({
      type: "http-stream",
      config: {},
      closeSession: () => Promise.resolve(),
    });
    const bridged = wrap((req: IncomingMessage, res: ServerResponse) => listener(req, res));
    server = await listen(createServer(bridged), port);
  });
  afterAll(() => server.close());

  const cases: Record<string, RequestListener> = {
    "throws synchronously": () => {
      throw new TypeError("listener bug");
    },
    rejects: (() => Promise.reject(new TypeError("listener bug"))) as RequestListener,
  };

  it.each(Object.keys(cases))("a listener that %s: 500 with the library's body", async (name) => {
    listener = cases[name]!;
    const res = await within(
      rawSocketRequest(server.port, "GET", "/mcp", {
        headers: { Authorization: `Bearer ${as.mint(url)}` },
      }),
      5000,
    );
    expect(res.status).toBe(500);
    expect(JSON.parse(res.body)).toEqual(internal());
    await expectAlive(server.port, "/mcp");
  });

  it("a listener that throws after sending headers: the connection is closed, the server lives", async () => {
    listener = (_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write("data: x\n\n");
      throw new TypeError("listener bug");
    };
    // The stream is cut (the connection destroyed): whatever arrived of it, never a hang.
    const outcome = await within(
      rawSocketRequest(server.port, "POST", "/mcp", {
        headers: { Authorization: `Bearer ${as.mint(url)}`, "Content-Type": "application/json" },
        body: JSON.stringify(INITIALIZE),
      }).then(
        (res) => res.status,
        (error: Error) => error.message.replace(/:.*/s, ""),
      ),
      5000,
    );
    expect(["incomplete answer to POST /mcp", 200]).toContain(outcome);
    await expectAlive(server.port, "/mcp");
  });
});

describe("the bridge's gate: no verdict, no forwarding", () => {
  let server: Listening;
  let url: string;
  const reached: string[] = [];
  const internal = (): Record<string, string> => {
    const row = ERROR_RESPONSES["internal_error" as keyof typeof ERROR_RESPONSES];
    return { error: row?.error ?? "server_error", error_description: row?.description ?? "(missing row)" };
  };

  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}/mcp`;
    const resourceServer = new ResourceServer({ resource: url, authorizationServers: [as.issuer] });
    // A part between requireBearer and the framework (here the transport's body hand-over)
    // replaces `req.auth` with a look-alike: the request no longer carries the verdict.
    const wrap = createBridge(resourceServer, { alsoAccept: [], sessions: DEFAULT_SESSION_LIMITS })({
      type: "http-stream",
      config: {},
      closeSession: () => Promise.resolve(),
      handOverBody: (req) => {
        const request = req as IncomingMessage & { auth?: object };
        request.auth = { ...request.auth };
      },
    });
    const bridged = wrap((req: IncomingMessage, res: ServerResponse) => {
      reached.push(`${req.method} ${req.url}`);
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
    server = await listen(createServer(bridged), port);
  });
  afterAll(() => server.close());

  it("a request whose req.auth is not requireBearer's verdict is answered 500, never forwarded", async () => {
    const res = await within(
      rawSocketRequest(server.port, "POST", "/mcp", {
        headers: { Authorization: `Bearer ${as.mint(url)}`, "Content-Type": "application/json" },
        body: JSON.stringify(INITIALIZE),
      }),
      5000,
    );
    expect(reached).toEqual([]);
    expect(res.status).toBe(500);
    expect(JSON.parse(res.body)).toEqual(internal());
    await expectAlive(server.port, "/mcp");
  });
});

/**
 * CORS and the Origin rule as a real browser enforces them (Fetch standard; MCP transport
 * "Security Warning": validate Origin against DNS rebinding). Headless Chromium loads two
 * static pages from two other loopback origins, one in OAUTH_ALLOWED_ORIGINS and one not,
 * and calls the Express example (protected by mcpOAuth) with a real token from the real
 * oidc-provider authorization server. Only the browser decides what a page may read, so
 * these checks catch what header assertions alone cannot: a preflight that fails, a
 * header that is sent but not exposed, a refusal the page can still read.
 *
 * Needs Chromium (`apt-get install chromium`; `.ci/run` installs it). Without one the
 * tests are skipped with a message, except under CI, where a missing browser fails.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { accessSync, constants } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingMessage } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { obtainAccessToken } from "@mcp-oauth/local-authorization-server";
import { startTestAuthorizationServer, type TestAuthorizationServer } from "../helpers/authorization-server.js";
import { parseChallenge } from "../helpers/challenge-parser.js";
import { listen, type Listening } from "../helpers/listen.js";
import { startExampleServer, type RunningExample } from "../../examples/express-server/src/server.js";

const CHROMIUM = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium";

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const haveBrowser = executable(CHROMIUM);
if (!haveBrowser && process.env["CI"]) {
  throw new Error(
    `No Chromium at ${CHROMIUM}: .ci/run installs it with apt-get install chromium; a CI run must not skip the browser tests`,
  );
}
const MISSING = `skipped: no Chromium at ${CHROMIUM} (install it with apt-get install chromium, or set CHROMIUM_PATH)`;
if (!haveBrowser) console.warn(`test/browser/cors.test.ts ${MISSING}`);
const describeInBrowser = haveBrowser ? describe : describe.skip;

// Without the background-networking flags Chromium keeps calling home (component updates,
// safe browsing, sync), which floods a closed network and slows every launch.
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-proxy-server",
];

const METADATA_PATH = "/.well-known/oauth-protected-resource/mcp";
const PROTOCOL_VERSION = "2025-06-18";
const INITIALIZE = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: {
    protocolVersion: PROTOCOL_VERSION,
    capabilities: {},
    clientInfo: { name: "browser-cors-test", version: "0.0.0" },
  },
};

/** What the page could see of one `fetch`: everything a script can read, or why it could not. */
interface PageResult {
  ok: boolean;
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  error?: string;
}

/** What the MCP server was asked and answered, seen from the server side. */
interface Seen {
  method: string;
  path: string;
  origin: string | undefined;
  requestHeaders: string | undefined;
  status: number;
  allowOrigin: string | undefined;
}

let as: TestAuthorizationServer;
let mcp: RunningExample;
let allowedSite: Listening;
let otherSite: Listening;
let userDataDir: string;
let context: BrowserContext;
let allowedPage: Page;
let otherPage: Page;
let token: string;
const seen: Seen[] = [];

/** A site that serves one static page: the origin the browser runs scripts from. */
function staticSite(title: string): Promise<Listening> {
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body>${title}</body></html>`;
  return listen(
    createServer((req, res) => {
      if (req.url === "/") {
        res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
        res.end(html);
      } else {
        res.writeHead(404).end();
      }
    }),
  );
}

/** Runs `fetch(url, init)` inside the page: only what the browser lets a script read comes back. */
function pageFetch(
  page: Page,
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string; mode?: "cors" | "no-cors" },
): Promise<PageResult> {
  return page.evaluate(
    async ({ url, init }) => {
      try {
        // no-store: 127.0.0.1 on two ports is one site, so one HTTP cache; every request must reach the server.
        const request = { ...init, cache: "no-store" as const };
        const response = await fetch(url, request);
        const headers: Record<string, string> = {};
        response.headers.forEach((value, name) => {
          headers[name] = value;
        });
        return { ok: true, status: response.status, headers, body: await response.text() };
      } catch (error) {
        return { ok: false, error: String(error) };
      }
    },
    { url, init },
  );
}

/** The first JSON-RPC message of an answer, whether sent as JSON or as one SSE event. */
function rpcMessage(body: string): { result?: { serverInfo?: { name?: string }; protocolVersion?: string } } {
  const data = body.split("\n").find((line) => line.startsWith("data: "));
  return JSON.parse(data === undefined ? body : data.slice("data: ".length));
}

const seenFor = (origin: string, method: string): Seen[] =>
  seen.filter((s) => s.origin === origin && s.method === method && s.path === "/mcp");

beforeAll(async () => {
  if (!haveBrowser) return;
  as = await startTestAuthorizationServer();
  [allowedSite, otherSite] = await Promise.all([staticSite("allowed"), staticSite("other")]);
  mcp = await startExampleServer({
    OAUTH_AUTHORIZATION_SERVER: as.issuer,
    OAUTH_SCOPES: "mcp:read",
    PORT: "0",
    OAUTH_ALLOWED_ORIGINS: allowedSite.url,
  });
  // The server's own record of every request, to tell "the server refused" from "the browser did".
  mcp.server.prependListener("request", (req: IncomingMessage, res) => {
    res.on("finish", () => {
      seen.push({
        method: req.method ?? "",
        path: (req.url ?? "").split("?")[0]!,
        origin: req.headers.origin,
        requestHeaders: req.headers["access-control-request-headers"],
        status: res.statusCode,
        allowOrigin: res.getHeader("access-control-allow-origin")?.toString(),
      });
    });
  });
  token = (await obtainAccessToken(as.issuer, { resource: mcp.url, scope: "mcp:read", login: "alice" })).access_token;
  userDataDir = await mkdtemp(join(tmpdir(), "mcp-oauth-chromium-"));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
  });
  [allowedPage, otherPage] = await Promise.all([context.newPage(), context.newPage()]);
  await allowedPage.goto(`${allowedSite.url}/`);
  await otherPage.goto(`${otherSite.url}/`);
}, 60_000);

afterAll(async () => {
  await context?.close();
  if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
  await Promise.all([mcp?.close(), allowedSite?.close(), otherSite?.close()]);
  await as?.close();
});

const mcpHeaders = (withToken: boolean): Record<string, string> => ({
  ...(withToken ? { Authorization: `Bearer ${token}` } : {}),
  "Content-Type": "application/json",
  Accept: "application/json, text/event-stream",
  "Mcp-Protocol-Version": PROTOCOL_VERSION,
});

describeInBrowser(haveBrowser ? "CORS in headless Chromium" : `CORS in headless Chromium (${MISSING})`, () => {
  it("lets the allowed origin initialize MCP with a token: the preflight passes and the page reads the answer", async () => {
    const result = await pageFetch(allowedPage, mcp.url, {
      method: "POST",
      headers: mcpHeaders(true),
      body: JSON.stringify(INITIALIZE),
    });
    expect(result.error).toBeUndefined();
    expect(result.status).toBe(200);
    expect(rpcMessage(result.body!).result?.serverInfo?.name).toBe("mcp-oauth-example");
    // Exposed, so a browser client can send it on the next request.
    expect(result.headers?.["mcp-session-id"]).toMatch(/^[0-9a-f-]{36}$/);

    const preflight = seenFor(allowedSite.url, "OPTIONS").at(-1);
    expect(preflight).toMatchObject({ status: 204, allowOrigin: allowedSite.url });
    expect(preflight?.requestHeaders?.split(",").sort()).toEqual([
      "authorization",
      "content-type",
      "mcp-protocol-version",
    ]);
  });

  it("lets the allowed origin read a 401's WWW-Authenticate and JSON body without a token", async () => {
    const result = await pageFetch(allowedPage, mcp.url, {
      method: "POST",
      headers: mcpHeaders(false),
      body: JSON.stringify(INITIALIZE),
    });
    expect(result.error).toBeUndefined();
    expect(result.status).toBe(401);
    const { scheme, params } = parseChallenge(result.headers!["www-authenticate"]!);
    expect(scheme).toBe("Bearer");
    expect(params["resource_metadata"]).toBe(`${new URL(mcp.url).origin}${METADATA_PATH}`);
    expect(JSON.parse(result.body!)).toEqual({
      error: "unauthorized",
      error_description: "A bearer token is required",
    });
  });

  it("refuses another origin: the preflight gets 403 and the page's fetch fails", async () => {
    const before = seenFor(otherSite.url, "OPTIONS").length;
    const result = await pageFetch(otherPage, mcp.url, {
      method: "POST",
      headers: mcpHeaders(true),
      body: JSON.stringify(INITIALIZE),
    });
    expect(result.ok).toBe(false);
    expect(result.error).toMatch(/TypeError/);
    const preflights = seenFor(otherSite.url, "OPTIONS").slice(before);
    expect(preflights).toHaveLength(1);
    expect(preflights[0]).toMatchObject({ status: 403, allowOrigin: undefined });
    // The real request was never sent.
    expect(seenFor(otherSite.url, "POST")).toEqual([]);
  });

  it("refuses another origin's simple request (no preflight) with 403 the page cannot read", async () => {
    const simple = { method: "POST", headers: { "Content-Type": "text/plain" }, body: JSON.stringify(INITIALIZE) };
    const cors = await pageFetch(otherPage, mcp.url, simple);
    expect(cors.ok).toBe(false);
    expect(cors.error).toMatch(/TypeError/);
    // no-cors sends it anyway, but hands the page an opaque answer: no status, no body.
    const opaque = await pageFetch(otherPage, mcp.url, { ...simple, mode: "no-cors" });
    expect(opaque).toMatchObject({ ok: true, status: 0, headers: {}, body: "" });
    const posts = seenFor(otherSite.url, "POST");
    expect(posts.map((s) => s.status)).toEqual([403, 403]);
    expect(posts.every((s) => s.allowOrigin === undefined)).toBe(true);
  });

  it.each([
    ["the allowed origin", () => allowedPage],
    ["another origin", () => otherPage],
  ])("lets %s read the protected resource metadata", async (_label, page) => {
    // A page reads a cross-origin status and body only when CORS allowed it.
    const result = await pageFetch(page(), `${new URL(mcp.url).origin}${METADATA_PATH}`, { method: "GET" });
    expect(result.error).toBeUndefined();
    expect(result.status).toBe(200);
    expect(JSON.parse(result.body!)).toMatchObject({ resource: mcp.url, authorization_servers: [as.issuer] });
    expect(
      seen.filter((s) => s.path === METADATA_PATH && s.origin === page().url().replace(/\/$/, "")).at(-1)?.allowOrigin,
    ).toBe("*");
  });
});

/**
 * A browser-based client against the local authorization server, in headless Chromium: a
 * page on another loopback origin does what the MCP Inspector 1.x does in direct mode.
 * It reads the metadata, registers (JSON, so the browser sends a preflight first), and,
 * once the user has consented (the scripted user agent here), exchanges the code at the
 * token endpoint. Only the browser decides what a page may read, so this catches a missing
 * CORS answer that header checks alone could miss.
 *
 * Needs Chromium (`apt-get install chromium`; `.ci/run` installs it). Without one the
 * tests are skipped with a message, except under CI, where a missing browser fails.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createHash, randomBytes } from "node:crypto";
import { accessSync, constants } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import {
  completeAuthorization,
  startLocalAuthorizationServer,
  type LocalAuthorizationServer,
} from "@mcp-oauth/local-authorization-server";
import { listen, type Listening } from "../../../test/helpers/listen.js";

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
  throw new Error(`No Chromium at ${CHROMIUM}: a CI run must not skip the browser tests`);
}
const MISSING = `skipped: no Chromium at ${CHROMIUM} (install it with apt-get install chromium, or set CHROMIUM_PATH)`;
if (!haveBrowser) console.warn(`${import.meta.url} ${MISSING}`);
const describeInBrowser = haveBrowser ? describe : describe.skip;

// Without these Chromium keeps calling home, which floods a closed network and slows every launch.
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

const RESOURCE = "http://127.0.0.1:3999/mcp";

interface PageResult {
  ok: boolean;
  status?: number;
  body?: string;
  error?: string;
}

/** Runs `fetch` inside the page: only what the browser lets a script read comes back. */
function pageFetch(
  page: Page,
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string },
): Promise<PageResult> {
  return page.evaluate(
    async ({ url, init }) => {
      try {
        // no-store: every request must reach the server, whatever the HTTP cache holds.
        const request = { ...init, cache: "no-store" as const };
        const response = await fetch(url, request);
        return { ok: true, status: response.status, body: await response.text() };
      } catch (error) {
        return { ok: false, error: String(error) };
      }
    },
    { url, init },
  );
}

let as: LocalAuthorizationServer;
let site: Listening;
let userDataDir: string;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  if (!haveBrowser) return;
  as = await startLocalAuthorizationServer();
  site = await listen(
    createServer((_req, res) => {
      res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
      res.end("<!doctype html><title>browser client</title>");
    }),
  );
  userDataDir = await mkdtemp(join(tmpdir(), "mcp-oauth-chromium-"));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
  });
  page = await context.newPage();
  await page.goto(`${site.url}/`);
}, 60_000);

afterAll(async () => {
  await context?.close();
  if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
  await site?.close();
  await as?.close();
});

describeInBrowser(haveBrowser ? "a browser-based client" : `a browser-based client (${MISSING})`, () => {
  it("reads the metadata, registers from its page (preflight and POST /reg), and exchanges the code at the token endpoint", async () => {
    const metadata = await pageFetch(page, `${as.issuer}/.well-known/oauth-authorization-server`, {});
    expect(metadata).toMatchObject({ ok: true, status: 200 });
    const { registration_endpoint: registrationEndpoint, token_endpoint: tokenEndpoint } = JSON.parse(
      metadata.body!,
    ) as Record<string, string>;

    const registrationsBefore = as.requestCounts.get("/reg") ?? 0;
    const redirectUri = `${site.url}/oauth/callback`;
    const registered = await pageFetch(page, registrationEndpoint!, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        client_name: "browser client",
        redirect_uris: [redirectUri],
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
        token_endpoint_auth_method: "none",
      }),
    });
    expect(registered.error).toBeUndefined();
    expect(registered.status).toBe(201);
    const { client_id: clientId } = JSON.parse(registered.body!) as { client_id: string };
    // The preflight and the registration itself.
    expect((as.requestCounts.get("/reg") ?? 0) - registrationsBefore).toBe(2);

    const verifier = randomBytes(32).toString("base64url");
    const authorize = new URL(`${as.issuer}/auth`);
    authorize.search = new URLSearchParams({
      response_type: "code",
      client_id: clientId,
      redirect_uri: redirectUri,
      scope: "mcp:read",
      resource: RESOURCE,
      state: "s",
      code_challenge: createHash("sha256").update(verifier).digest("base64url"),
      code_challenge_method: "S256",
    }).toString();
    const callback = await completeAuthorization(authorize, { redirectUri });
    expect(callback.searchParams.get("iss")).toBe(as.issuer);

    const token = await pageFetch(page, tokenEndpoint!, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code: callback.searchParams.get("code")!,
        redirect_uri: redirectUri,
        client_id: clientId,
        code_verifier: verifier,
        resource: RESOURCE,
      }).toString(),
    });
    expect(token.error).toBeUndefined();
    expect(token.status).toBe(200);
    expect(JSON.parse(token.body!)).toMatchObject({ token_type: "Bearer", access_token: expect.any(String) });
  });
});

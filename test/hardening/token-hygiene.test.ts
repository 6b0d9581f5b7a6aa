/**
 * Token hygiene: with every log the library stack can produce switched on (an `onEvent`
 * that records everything, console and stdout/stderr captured; the stack has no debug log
 * since jwks-rsa left it in issue 27),
 * run valid, invalid, introspection and outage flows, and search everything that came out
 * (events, console, stdout/stderr, response bodies and headers, error messages and their
 * causes, stats) for any token, client secret or Authorization value.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { randomBytes } from "node:crypto";
import { format, inspect } from "node:util";
import type { CachedValidation, TokenCacheStore } from "@mcp-oauth/core";
import type { McpOAuthEvent, McpOAuthMiddlewareOptions } from "@mcp-oauth/express";
import type { TestAuthorizationServer } from "../helpers/authorization-server.js";
import type { RawResponse } from "../helpers/raw-request.js";
import type { ProtectedApp } from "./support.js";

const RESOURCE = "http://127.0.0.1:4444/mcp";

const { obtainAccessToken, generateSigningKey } = await import("@mcp-oauth/local-authorization-server");
const { startTestAuthorizationServer } = await import("../helpers/authorization-server.js");
const { nowSeconds, signJwt, unsignedJwt } = await import("../helpers/jwt.js");
const { rawRequest } = await import("../helpers/raw-request.js");
const { protectedApp } = await import("./support.js");

/** Everything that must never come out. */
const secrets = new Set<string>();
function secret(value: string): string {
  secrets.add(value);
  // A JWT's payload and signature are as sensitive as the whole (the header is public-ish).
  const parts = value.split(".");
  if (parts.length === 3) for (const part of parts.slice(1)) if (part.length >= 16) secrets.add(part);
  return value;
}

/** Everything that came out. */
const events: McpOAuthEvent[] = [];
const output: string[] = [];
const answers: RawResponse[] = [];
const errors: unknown[] = [];
const restore: (() => void)[] = [];

let jwtAs: TestAuthorizationServer;
let opaqueAs: TestAuthorizationServer;
let jwtApp: ProtectedApp;
let opaqueApp: ProtectedApp;
let postApp: ProtectedApp;
let wrongSecretApp: ProtectedApp;
let downApp: ProtectedApp;
let brokenStoreApp: ProtectedApp;

async function send(
  app: ProtectedApp,
  authorization?: string | string[],
  extra: { path?: string; body?: string; contentType?: string } = {},
): Promise<RawResponse> {
  for (const value of [authorization ?? []].flat()) {
    secret(value);
    // And the credentials alone, without the scheme.
    if (/^\S+\s+\S/.test(value)) secret(value.replace(/^\S+\s+/, ""));
  }
  const headers: Record<string, string | string[]> = {};
  if (authorization !== undefined) headers["authorization"] = authorization;
  if (extra.contentType !== undefined) headers["content-type"] = extra.contentType;
  const res = await rawRequest(`${app.url}${extra.path ?? "/mcp"}`, {
    method: extra.body === undefined ? "GET" : "POST",
    headers,
    ...(extra.body !== undefined ? { body: extra.body } : {}),
  });
  answers.push(res);
  return res;
}

beforeAll(async () => {
  // Console and raw output, captured and kept quiet.
  for (const method of ["log", "info", "warn", "error", "debug", "trace"] as const) {
    const spy = jest.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      output.push(format(...args));
    });
    restore.push(() => spy.mockRestore());
  }
  for (const stream of [process.stdout, process.stderr]) {
    const spy = jest.spyOn(stream, "write").mockImplementation(((chunk: unknown) => {
      output.push(String(chunk));
      return true;
    }) as typeof stream.write);
    restore.push(() => spy.mockRestore());
  }

  jwtAs = await startTestAuthorizationServer();
  opaqueAs = await startTestAuthorizationServer({ accessTokenFormat: "opaque" });
  secret(opaqueAs.introspection.clientSecret);
  // What the library itself sends to the introspection endpoint (client_secret_basic).
  secret(Buffer.from(`${opaqueAs.introspection.clientId}:${opaqueAs.introspection.clientSecret}`).toString("base64"));
  const onEvent = (event: McpOAuthEvent): void => {
    events.push(event);
  };
  const base: Omit<McpOAuthMiddlewareOptions, "authorizationServers"> = {
    resource: RESOURCE,
    scopes: ["mcp:read"],
    scopePolicy: { tools: { write_note: ["mcp:write"] } },
    onEvent,
    timeoutMs: 500,
  };
  const introspection = (
    clientSecret: string,
    authMethod: "client_secret_basic" | "client_secret_post" = "client_secret_basic",
  ): McpOAuthMiddlewareOptions => ({
    ...base,
    authorizationServers: [opaqueAs.issuer],
    validation: { type: "introspection" },
    introspection: { clientId: opaqueAs.introspection.clientId, clientSecret, authMethod },
  });
  jwtApp = await protectedApp({ ...base, authorizationServers: [jwtAs.issuer] });
  opaqueApp = await protectedApp(introspection(opaqueAs.introspection.clientSecret));
  postApp = await protectedApp(introspection(opaqueAs.introspection.clientSecret, "client_secret_post"));
  wrongSecretApp = await protectedApp(introspection(secret(`wrong-${randomBytes(16).toString("base64url")}`)));
  downApp = await protectedApp({
    ...base,
    authorizationServers: [jwtAs.issuer],
    validation: { jwksUri: "http://127.0.0.1:9/jwks" },
  });
  // A cache store failing with messages that quote the key, as store clients' errors do.
  const brokenStore: TokenCacheStore<CachedValidation> = {
    get: (key) => {
      throw new Error(`WRONGTYPE Operation against key ${secret(key)}`);
    },
    set: (key) =>
      Promise.reject(new Error(`READONLY You can't write against a read only replica (key ${secret(key)})`)),
  };
  brokenStoreApp = await protectedApp({ ...base, authorizationServers: [jwtAs.issuer], cache: { store: brokenStore } });
});

afterAll(async () => {
  await Promise.all([jwtApp, opaqueApp, postApp, wrongSecretApp, downApp, brokenStoreApp].map((app) => app?.close()));
  await Promise.all([jwtAs?.close(), opaqueAs?.close()]);
  for (const undo of restore) undo();
});

describe("flows", () => {
  it("JWT: valid tokens (from the real flow, minted, repeated from the cache) pass", async () => {
    const { access_token: real, refresh_token: refresh } = await obtainAccessToken(jwtAs.issuer, {
      resource: RESOURCE,
      scope: "mcp:read mcp:write",
      login: "alice",
    });
    secret(real);
    if (refresh) secret(refresh);
    const minted = jwtAs.mint(RESOURCE);
    for (const token of [real, minted, minted]) expect((await send(jwtApp, `Bearer ${token}`)).status).toBe(200);
  });

  it("JWT: invalid tokens and malformed requests are refused", async () => {
    const now = nowSeconds();
    const stranger = generateSigningKey("RS256");
    const valid = jwtAs.mint(RESOURCE);
    const statuses = [
      await send(jwtApp, `Bearer ${jwtAs.mint(RESOURCE, { exp: now - 3600, iat: now - 7200 })}`),
      await send(
        jwtApp,
        `Bearer ${signJwt({ alg: "RS256", typ: "at+jwt", kid: jwtAs.key.kid }, { iss: jwtAs.issuer, aud: RESOURCE, sub: "m", exp: now + 600 }, stranger)}`,
      ),
      await send(jwtApp, `Bearer ${unsignedJwt({ iss: jwtAs.issuer, aud: RESOURCE, exp: now + 600 })}`),
      await send(jwtApp, `Bearer ${jwtAs.mint("http://127.0.0.1:4444/other")}`),
      await send(jwtApp, `Bearer ${jwtAs.mint(RESOURCE, { iss: "https://evil.example" })}`),
      await send(jwtApp, `Bearer ${jwtAs.mint(RESOURCE, {}, { kid: "unknown-kid" })}`),
      await send(jwtApp, `Bearer ${jwtAs.mint(RESOURCE, { pad: "x".repeat(9000) })}`),
      await send(jwtApp, `Bearer ${valid}`, {
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "write_note" } }),
        contentType: "application/json",
      }),
      await send(jwtApp, `Bearer ${valid}`, { path: `/mcp?access_token=${secret(jwtAs.mint(RESOURCE))}` }),
      await send(jwtApp, `Bearer ${valid}`, {
        body: `access_token=${secret(jwtAs.mint(RESOURCE))}`,
        contentType: "application/x-www-form-urlencoded",
      }),
      await send(jwtApp, [`Bearer ${valid}`, `Bearer ${jwtAs.mint(RESOURCE)}`]),
      await send(jwtApp, `Bearer ${valid} ${secret(randomBytes(24).toString("base64url"))}`),
      await send(
        jwtApp,
        `Basic ${secret(Buffer.from(`alice:${secret(`pw-${randomBytes(12).toString("hex")}`)}`).toString("base64"))}`,
      ),
    ].map((res) => res.status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 401, 401, 403, 400, 400, 400, 400, 401]);
  });

  it("introspection: an opaque token passes (client_secret_basic and client_secret_post); refresh and unknown tokens are refused", async () => {
    const tokens = await obtainAccessToken(opaqueAs.issuer, { resource: RESOURCE, scope: "mcp:read", login: "bob" });
    secret(tokens.access_token);
    secret(tokens.refresh_token!);
    expect((await send(opaqueApp, `Bearer ${tokens.access_token}`)).status).toBe(200);
    expect((await send(postApp, `Bearer ${tokens.access_token}`)).status).toBe(200);
    expect((await send(opaqueApp, `Bearer ${tokens.refresh_token}`)).status).toBe(401);
    expect((await send(opaqueApp, `Bearer ${randomBytes(32).toString("base64url")}`)).status).toBe(401);
  });

  it("introspection with a wrong client secret, and a key set that is down, give 503", async () => {
    const tokens = await obtainAccessToken(opaqueAs.issuer, { resource: RESOURCE, login: "carol" });
    secret(tokens.access_token);
    expect((await send(wrongSecretApp, `Bearer ${tokens.access_token}`)).status).toBe(503);
    expect((await send(downApp, `Bearer ${jwtAs.mint(RESOURCE)}`)).status).toBe(503);
  });

  it("a failing cache store: tokens are still decided, and its errors (quoting cache keys) stay inside", async () => {
    expect((await send(brokenStoreApp, `Bearer ${jwtAs.mint(RESOURCE)}`)).status).toBe(200);
    expect((await send(brokenStoreApp, `Bearer ${jwtAs.mint("http://127.0.0.1:4444/other")}`)).status).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, 10));
  });

  it("the same refusals, called directly, throw errors whose messages and causes hold no secret", async () => {
    const calls: [ProtectedApp, string][] = [
      [jwtApp, jwtAs.mint(RESOURCE, { exp: nowSeconds() - 3600, iat: nowSeconds() - 7200 })],
      [jwtApp, `${jwtAs.mint(RESOURCE)}x`],
      [jwtApp, jwtAs.mint(RESOURCE, { pad: "y".repeat(9000) })],
      [wrongSecretApp, randomBytes(32).toString("base64url")],
      [downApp, jwtAs.mint(RESOURCE)],
    ];
    for (const [app, token] of calls) {
      secret(token);
      const server = app.oauth.resourceServer;
      const error = await server.authenticate({ headers: { authorization: `Bearer ${token}` } }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(Error);
      errors.push(error, server.answer(error), server.stats());
    }
  });
});

describe("what came out", () => {
  const haystack = (): string =>
    [
      JSON.stringify(events),
      inspect(events, { depth: null }),
      ...output,
      ...answers.flatMap((res) => [res.body, JSON.stringify(res.headers)]),
      ...errors.map((error) => inspect(error, { depth: null, showHidden: true })),
    ].join("\n");

  it("was captured: every kind of event, and console output", () => {
    expect(new Set(events.map((e) => e.type))).toEqual(
      new Set([
        "authorization_server_discovered",
        "key_set_refreshed",
        "token_accepted",
        "token_rejected",
        "upstream_error",
        "cache_error",
      ]),
    );
    expect(
      events
        .filter((e) => e.type === "upstream_error")
        .map((e) => (e as { upstream: string }).upstream)
        .sort(),
    ).toEqual(expect.arrayContaining(["introspection", "jwks"]));
    console.warn("probe-%s", "console");
    expect(output).toContain("probe-console");
    expect(answers.length).toBeGreaterThan(20);
    expect(errors.length).toBe(15);
  });

  it("holds no token, client secret or Authorization value", () => {
    const text = haystack();
    expect(secrets.size).toBeGreaterThan(30);
    const leaked = [...secrets].filter((s) => text.includes(s));
    expect(leaked).toEqual([]);
  });
});

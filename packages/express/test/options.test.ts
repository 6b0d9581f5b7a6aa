/**
 * The Express middlewares' own options (rate limit, CORS, body limit, metadata headers) are
 * validated where they are read, when the middleware is built: a wrong one throws
 * `McpOAuthConfigError` naming it, instead of a server that answers every metadata request
 * with 429, refuses an origin it was told to allow, or refuses every body.
 */
import { describe, expect, it } from "@jest/globals";
import {
  McpOAuthConfigError,
  mcpOAuth,
  oauthCors,
  protectedResourceMetadata,
  publicEndpointRateLimit,
  requireScopes,
  type McpOAuthMiddlewareOptions,
  type OAuthCorsOptions,
  type ProtectedResourceMetadataOptions,
  type RateLimitOptions,
} from "@mcp-oauth/express";
import { serverFor } from "./support.js";

const base = { resource: "https://mcp.example.com/mcp", authorizationServers: ["https://auth.example.com"] };

function configError(build: () => unknown, option: string): McpOAuthConfigError {
  let thrown: unknown;
  try {
    build();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(McpOAuthConfigError);
  const error = thrown as McpOAuthConfigError;
  expect(error.option).toBe(option);
  expect(error.message).toContain(`\`${option}\``);
  return error;
}

const mcp = (extra: Partial<McpOAuthMiddlewareOptions>): unknown => mcpOAuth({ ...base, ...extra });

describe("rateLimit", () => {
  const metadata = (rateLimit: unknown): unknown =>
    protectedResourceMetadata(serverFor(base), { rateLimit: rateLimit as RateLimitOptions });

  it.each([0, -1, 1.5, Number.NaN, Infinity, "60"])("refuses limit %p (0 would answer every request 429)", (limit) => {
    const error = configError(() => metadata({ limit }), "rateLimit.limit");
    expect(error.message).toMatch(/positive whole number/);
    configError(() => mcp({ protectedResourceMetadata: { rateLimit: { limit: limit as number } } }), "rateLimit.limit");
    configError(() => publicEndpointRateLimit({ limit: limit as number }), "rateLimit.limit");
  });

  it.each([0, -1000, 0.5, Number.NaN, 2 ** 31])("refuses windowMs %p", (windowMs) => {
    configError(() => metadata({ windowMs }), "rateLimit.windowMs");
  });

  it("refuses a keyGenerator that is not a function and a store without the counter methods", () => {
    configError(() => metadata({ keyGenerator: "x-forwarded-for" }), "rateLimit.keyGenerator");
    configError(
      () => metadata({ store: { increment: () => ({ totalHits: 1, resetTime: undefined }) } }),
      "rateLimit.store",
    );
  });

  it("refuses a rateLimit that is neither options nor false", () => {
    configError(() => metadata(60), "rateLimit");
    configError(() => metadata(true), "rateLimit");
  });

  it("accepts what it documents", () => {
    expect(() => metadata({ limit: 1, windowMs: 1 })).not.toThrow();
    expect(() => metadata({})).not.toThrow();
    expect(() => metadata(false)).not.toThrow();
    expect(() =>
      metadata({ keyGenerator: () => "k", store: { increment: () => 1, decrement: () => {}, resetKey: () => {} } }),
    ).not.toThrow();
  });
});

describe("the metadata document's other options", () => {
  const metadata = (options: unknown): unknown =>
    protectedResourceMetadata(serverFor(base), options as ProtectedResourceMetadataOptions);

  it("refuses a Cache-Control value Node would refuse to send, and a serveAtRoot that is not a boolean", () => {
    configError(
      () => metadata({ cacheControl: "public\r\nSet-Cookie: a=b" }),
      "protectedResourceMetadata.cacheControl",
    );
    configError(() => metadata({ cacheControl: "" }), "protectedResourceMetadata.cacheControl");
    configError(() => metadata({ serveAtRoot: "false" }), "protectedResourceMetadata.serveAtRoot");
  });
});

describe("cors", () => {
  const cors = (options: unknown): unknown => oauthCors(serverFor(base), options as OAuthCorsOptions);

  it('refuses allowedOrigins as a string other than "*" (its origin would get 403), naming the array form', () => {
    const error = configError(() => cors({ allowedOrigins: "https://app.example.com" }), "cors.allowedOrigins");
    expect(error.message).toContain('["https://app.example.com"]');
    configError(() => mcp({ cors: { allowedOrigins: "https://app.example.com" as "*" } }), "cors.allowedOrigins");
  });

  it.each([
    ["https://app.example.com/", "https://app.example.com"],
    ["https://App.Example.com", "https://app.example.com"],
    ["https://app.example.com/mcp", "https://app.example.com"],
    ["https://app.example.com:443", "https://app.example.com"],
  ])("refuses %s, which no browser sends, naming %s", (given, origin) => {
    const error = configError(() => cors({ allowedOrigins: [given] }), "cors.allowedOrigins");
    expect(error.message).toContain(`"${origin}"`);
  });

  it.each([["*"], ["null"], [""], ["app.example.com"], [42]])("refuses the entry %p", (entry) => {
    configError(() => cors({ allowedOrigins: [entry] }), "cors.allowedOrigins");
  });

  it.each([-1, 1.5, "600", Number.NaN])("refuses maxAge %p", (maxAge) => {
    configError(() => cors({ maxAge }), "cors.maxAge");
  });

  it('accepts origins as browsers send them, "*", and a maxAge of 0', () => {
    expect(() =>
      cors({
        allowedOrigins: ["https://app.example.com", "http://localhost:5173", "chrome-extension://abcdefgh"],
        maxAge: 0,
      }),
    ).not.toThrow();
    expect(() => cors({ allowedOrigins: "*" })).not.toThrow();
    expect(() => cors({ allowedOrigins: [] })).not.toThrow();
  });
});

describe("requireScopes.scopes and requireScopes.policy", () => {
  it("refuses offline_access and invalid scope tokens, as the resource server's own options", () => {
    configError(() => requireScopes(serverFor(base), { scopes: ["offline_access"] }), "requireScopes.scopes");
    configError(() => requireScopes(serverFor(base), { scopes: ["has space"] }), "requireScopes.scopes");
    configError(
      () => requireScopes(serverFor(base), { policy: { tools: { x: ["mcp:read", "offline_access"] } } }),
      "requireScopes.policy.tools.x",
    );
    configError(
      () =>
        requireScopes(serverFor(base), {
          policy: { resources: { "config://a": ["mcp:a"], "CONFIG://a": ["mcp:b"] } },
        }),
      "scopePolicy.resources.CONFIG://a",
    );
  });
});

describe("requireScopes.bodyLimit", () => {
  it.each([-5, 0, 1.5, Number.NaN, "4mb"])("refuses %p (every body would get 413)", (bodyLimit) => {
    configError(() => requireScopes(serverFor(base), { bodyLimit: bodyLimit as number }), "requireScopes.bodyLimit");
    configError(
      () =>
        mcp({
          scopePolicy: { tools: { write: ["mcp:write"] } },
          requireScopes: { bodyLimit: bodyLimit as number },
        }),
      "requireScopes.bodyLimit",
    );
  });

  it("accepts a positive whole number of bytes", () => {
    expect(() => requireScopes(serverFor(base), { bodyLimit: 1 })).not.toThrow();
  });
});

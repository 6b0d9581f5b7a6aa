/**
 * Option validation (resolveOptions) and the OAUTH_* environment reader (optionsFromEnv):
 * every configuration error is an McpOAuthConfigError naming the option, and the defaults
 * derived from the resource are exact.
 */
import { describe, expect, it } from "@jest/globals";
import { MemoryTokenCache } from "../src/cache.js";
import { McpOAuthConfigError } from "../src/errors.js";
import { optionsFromEnv } from "../src/env.js";
import { buildProtectedResourceMetadata } from "../src/metadata.js";
import {
  ASYMMETRIC_ALGORITHMS,
  HMAC_ALGORITHMS,
  resolveOptions,
  type CachedValidation,
  type McpOAuthOptions,
} from "../src/options.js";

const RESOURCE = "https://mcp.example.com/mcp";
const AS = "https://auth.example.com/";
const SECRET_32 = "0123456789abcdef0123456789abcdef";

function base(extra: Partial<McpOAuthOptions> = {}): McpOAuthOptions {
  return { resource: RESOURCE, authorizationServers: [AS], ...extra };
}

/** Runs `fn`, which must throw an McpOAuthConfigError, and returns that error. */
function configError(fn: () => unknown): McpOAuthConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(McpOAuthConfigError);
    return error as McpOAuthConfigError;
  }
  throw new Error("expected an McpOAuthConfigError, nothing was thrown");
}

function expectConfigError(fn: () => unknown, option: string): McpOAuthConfigError {
  const error = configError(fn);
  expect(error.option).toBe(option);
  expect(error.code).toBe("ERR_MCP_OAUTH_CONFIG");
  expect(error.name).toBe("McpOAuthConfigError");
  expect(error.message).toContain(`\`${option}\``);
  return error;
}

describe("resolveOptions: authorization servers", () => {
  it.each<[string, McpOAuthOptions["authorizationServers"]]>([
    ["an empty array", []],
    ["an empty string", ""],
    ["only whitespace entries", ["  ", ""]],
  ])("refuses %s", (_label, authorizationServers) => {
    const error = expectConfigError(() => resolveOptions(base({ authorizationServers })), "authorizationServers");
    expect(error.message).toContain("OAUTH_AUTHORIZATION_SERVER");
  });

  it("refuses a missing authorizationServers property", () => {
    const options = { resource: RESOURCE } as unknown as McpOAuthOptions;
    expectConfigError(() => resolveOptions(options), "authorizationServers");
  });

  it("refuses an authorization server that is not an absolute URL, naming its index", () => {
    expectConfigError(
      () => resolveOptions(base({ authorizationServers: [AS, "auth.example.com"] })),
      "authorizationServers[1]",
    );
  });

  it("refuses plain http for a non-loopback authorization server", () => {
    expectConfigError(
      () => resolveOptions(base({ authorizationServers: ["http://auth.example.com"] })),
      "authorizationServers[0]",
    );
  });

  it("refuses an issuer with a query", () => {
    expectConfigError(
      () => resolveOptions(base({ authorizationServers: ["https://auth.example.com/?tenant=1"] })),
      "authorizationServers[0]",
    );
  });

  it("accepts a single string and keeps it byte for byte (trailing slash included)", () => {
    const resolved = resolveOptions(base({ authorizationServers: "https://tenant.auth0.com/" }));
    expect(resolved.authorizationServers).toEqual(["https://tenant.auth0.com/"]);
  });

  it("refuses a non-object options argument", () => {
    expectConfigError(() => resolveOptions(undefined as unknown as McpOAuthOptions), "options");
    expectConfigError(() => resolveOptions(null as unknown as McpOAuthOptions), "options");
  });
});

describe("resolveOptions: resource", () => {
  it.each([
    ["a relative path", "/mcp"],
    ["a host without a scheme", "mcp.example.com/mcp"],
    ["an empty string", ""],
    ["only whitespace", "   "],
    ["a non-http scheme", "ftp://mcp.example.com/mcp"],
    ["a host:port without a scheme", "localhost:3000/mcp"],
  ])("refuses %s", (_label, resource) => {
    expectConfigError(() => resolveOptions(base({ resource })), "resource");
  });

  it("refuses a missing resource", () => {
    const options = { authorizationServers: [AS] } as unknown as McpOAuthOptions;
    expectConfigError(() => resolveOptions(options), "resource");
  });

  it.each(["https://mcp.example.com/mcp#section", "https://mcp.example.com/mcp#", "http://127.0.0.1:3000/mcp#x"])(
    "refuses a fragment: %s",
    (resource) => {
      const error = expectConfigError(() => resolveOptions(base({ resource })), "resource");
      expect(error.message).toContain("fragment");
    },
  );

  it.each(["https://user:pw@mcp.example.com/mcp", "https://@mcp.example.com/mcp", "https://:@mcp.example.com/mcp"])(
    "refuses credentials in the resource, even empty ones: %s",
    (resource) => {
      expectConfigError(() => resolveOptions(base({ resource })), "resource");
    },
  );

  it("refuses leading or trailing whitespace", () => {
    expectConfigError(() => resolveOptions(base({ resource: ` ${RESOURCE}` })), "resource");
  });

  it.each([
    "http://mcp.example.com/mcp",
    "http://10.0.0.5:3000/mcp",
    "http://192.168.1.10/mcp",
    "http://localhost.example.com/mcp",
    "http://128.0.0.1/mcp",
    "http://mcp.localhost/mcp",
    "http://keys.evil.localhost/mcp",
  ])("refuses plain http on the non-loopback host of %s without allowInsecureHttp", (resource) => {
    const error = expectConfigError(() => resolveOptions(base({ resource })), "resource");
    expect(error.message).toContain("allowInsecureHttp");
  });

  it.each([
    "http://127.0.0.1:3000/mcp",
    "http://127.1.2.3/mcp",
    "http://localhost:3000/mcp",
    "http://LOCALHOST/mcp",
    "http://[::1]:3000/mcp",
  ])("accepts plain http on loopback: %s", (resource) => {
    const resolved = resolveOptions(base({ resource, authorizationServers: ["http://127.0.0.1:9000"] }));
    expect(resolved.resource).toBe(resource);
    expect(resolved.allowInsecureHttp).toBe(false);
  });

  it("accepts plain http on any host with allowInsecureHttp: true", () => {
    const resolved = resolveOptions(
      base({
        resource: "http://mcp.internal/mcp",
        authorizationServers: ["http://auth.internal/"],
        allowInsecureHttp: true,
      }),
    );
    expect(resolved.resource).toBe("http://mcp.internal/mcp");
    expect(resolved.authorizationServers).toEqual(["http://auth.internal/"]);
    expect(resolved.allowInsecureHttp).toBe(true);
  });

  it("does not treat allowInsecureHttp as an opt-in unless it is exactly true", () => {
    const options = base({ resource: "http://mcp.internal/mcp", allowInsecureHttp: "yes" as unknown as boolean });
    expectConfigError(() => resolveOptions(options), "resource");
  });
});

describe("resolveOptions: scopes", () => {
  it("refuses offline_access in scopes", () => {
    const error = expectConfigError(() => resolveOptions(base({ scopes: ["mcp:read", "offline_access"] })), "scopes");
    expect(error.message).toContain("offline_access");
  });

  it("refuses offline_access in scopesSupported", () => {
    const error = expectConfigError(
      () => resolveOptions(base({ scopes: ["mcp:read"], scopesSupported: ["mcp:read", "offline_access"] })),
      "scopesSupported",
    );
    expect(error.message).toContain("offline_access");
  });

  it.each(["methods", "tools", "prompts", "resources"] as const)(
    "refuses offline_access in scopePolicy.%s (it would reach a 403 challenge's scope)",
    (table) => {
      const key = table === "resources" ? "config://x" : "x";
      const error = expectConfigError(
        () => resolveOptions(base({ scopePolicy: { [table]: { [key]: ["mcp:read", "offline_access"] } } })),
        `scopePolicy.${table}.${key}`,
      );
      expect(error.message).toContain("offline_access");
    },
  );

  it("publishes no scopes_supported for scopesSupported: [] (RFC 9728 section 3.2: zero values omitted)", () => {
    const resolved = resolveOptions(base({ scopes: ["mcp:read"], scopesSupported: [] }));
    expect(buildProtectedResourceMetadata(resolved)).not.toHaveProperty("scopes_supported");
  });

  it.each([["has space"], ['quo"te'], ["back\\slash"], [""], ["é"]])("refuses the invalid scope token %j", (scope) => {
    expectConfigError(() => resolveOptions(base({ scopes: [scope] })), "scopes");
  });

  it("refuses an invalid scope in a hierarchy", () => {
    expectConfigError(
      () => resolveOptions(base({ scopeHierarchy: { "mcp:admin": ["bad scope"] } })),
      "scopeHierarchy.mcp:admin",
    );
  });

  it("refuses a hierarchy entry that is not an array", () => {
    const scopeHierarchy = { "mcp:admin": "mcp:write" } as unknown as Record<string, string[]>;
    expectConfigError(() => resolveOptions(base({ scopeHierarchy })), "scopeHierarchy.mcp:admin");
  });

  it("refuses at start-up two policy resources that the MCP SDK reads as one URI with other scopes", () => {
    const scopePolicy = { resources: { "config://secret": ["mcp:admin"], "CONFIG://secret": ["mcp:read"] } };
    const error = expectConfigError(
      () => resolveOptions(base({ scopePolicy })),
      "scopePolicy.resources.CONFIG://secret",
    );
    expect(error.message).toContain('"config://secret"');
    expect(() =>
      resolveOptions(base({ scopePolicy: { resources: { "config://secret": ["a"], "CONFIG://secret": ["a"] } } })),
    ).not.toThrow();
  });

  it("publishes the required scopes as scopes_supported by default, de-duplicated", () => {
    const resolved = resolveOptions(base({ scopes: ["mcp:read", "mcp:write", "mcp:read"] }));
    expect(resolved.requiredScopes).toEqual(["mcp:read", "mcp:write"]);
    expect(resolved.scopesSupported).toEqual(["mcp:read", "mcp:write"]);
  });

  it("leaves scopesSupported undefined without scopes, and keeps an explicit list", () => {
    expect(resolveOptions(base()).scopesSupported).toBeUndefined();
    expect(resolveOptions(base()).requiredScopes).toEqual([]);
    expect(resolveOptions(base({ scopes: ["a"], scopesSupported: ["a", "b"] })).scopesSupported).toEqual(["a", "b"]);
  });
});

describe("resolveOptions: validation", () => {
  it.each<[string, string | readonly string[]]>([
    ["an empty array", []],
    ["an empty string", ""],
    ["whitespace entries", [" ", ""]],
  ])("refuses an empty audience: %s", (_label, audience) => {
    expectConfigError(() => resolveOptions(base({ validation: { audience } })), "validation.audience");
  });

  // Such an audience could never match (AudienceMatcher refuses userinfo and fragments).
  it.each([
    ["userinfo", "https://evil@mcp.example.com/mcp"],
    ["an empty userinfo", ["api://default", "https://@mcp.example.com/mcp"]],
    ["a fragment", "https://mcp.example.com/mcp#x"],
  ])("refuses an audience with %s", (_label, audience) => {
    const error = expectConfigError(() => resolveOptions(base({ validation: { audience } })), "validation.audience");
    expect(error.message).toContain("userinfo");
  });

  it("refuses an empty issuer list", () => {
    expectConfigError(() => resolveOptions(base({ validation: { issuer: [] } })), "validation.issuer");
  });

  it.each(["none", "None", "NONE", "RS1", "HS1", "EdDSA", "rs256", ""])("refuses the algorithm %j", (alg) => {
    const algorithms = [alg] as unknown as "RS256"[];
    expectConfigError(() => resolveOptions(base({ validation: { algorithms } })), "validation.algorithms");
  });

  it("refuses none even next to allowed algorithms", () => {
    const algorithms = ["RS256", "none"] as unknown as "RS256"[];
    expectConfigError(() => resolveOptions(base({ validation: { algorithms } })), "validation.algorithms");
  });

  it("refuses an empty algorithm list", () => {
    expectConfigError(() => resolveOptions(base({ validation: { algorithms: [] } })), "validation.algorithms");
  });

  it.each(HMAC_ALGORITHMS)("refuses %s without a secret", (alg) => {
    const error = expectConfigError(
      () => resolveOptions(base({ validation: { algorithms: ["RS256", alg] } })),
      "validation.algorithms",
    );
    expect(error.message).toContain("validation.secret");
  });

  it.each<[string, string | Uint8Array]>([
    ["a 31-byte string", SECRET_32.slice(1)],
    ["an empty string", ""],
    ["a 16-byte Uint8Array", new Uint8Array(16)],
  ])("refuses a short secret: %s", (_label, secret) => {
    expectConfigError(
      () => resolveOptions(base({ validation: { secret, algorithms: ["HS256"] } })),
      "validation.secret",
    );
  });

  it("accepts HS256 with a 32-byte secret and keeps the secret as a KeyObject", () => {
    const jwt = resolveOptions(base({ validation: { secret: SECRET_32, algorithms: ["HS256"] } })).tokenRules;
    expect([...jwt.algorithms]).toEqual(["HS256"]);
    expect(jwt.secretKey?.type).toBe("secret");
    expect(jwt.secretKey?.symmetricKeySize).toBe(32);
  });

  it("adds the HMAC family to the default algorithms only when a secret is set", () => {
    expect([...resolveOptions(base()).tokenRules.algorithms]).toEqual([...ASYMMETRIC_ALGORITHMS]);
    expect(resolveOptions(base()).tokenRules.secretKey).toBeUndefined();
    expect([...resolveOptions(base({ validation: { secret: new Uint8Array(32) } })).tokenRules.algorithms]).toEqual([
      ...ASYMMETRIC_ALGORITHMS,
      ...HMAC_ALGORITHMS,
    ]);
  });

  it.each([-1, -0.5, Number.NaN, Number.POSITIVE_INFINITY])("refuses clockToleranceSeconds %p", (clockTolerance) => {
    expectConfigError(
      () => resolveOptions(base({ validation: { clockToleranceSeconds: clockTolerance } })),
      "validation.clockToleranceSeconds",
    );
  });

  it("accepts a clockToleranceSeconds of 0 and defaults to 60", () => {
    expect(resolveOptions(base({ validation: { clockToleranceSeconds: 0 } })).tokenRules.clockToleranceSeconds).toBe(0);
    expect(resolveOptions(base()).tokenRules.clockToleranceSeconds).toBe(60);
  });

  it.each([
    ["validation.maxTokenLength", { validation: { maxTokenLength: 0 } }],
    ["validation.jwksCacheMaxAgeMs", { validation: { jwksCacheMaxAgeMs: -1 } }],
    ["validation.jwksRequestsPerMinute", { validation: { jwksRequestsPerMinute: 0 } }],
    ["timeoutMs", { timeoutMs: 0 }],
    ["retryAfterSeconds", { retryAfterSeconds: -5 }],
    ["maxResponseBytes", { maxResponseBytes: 0 }],
    ["maxResponseBytes", { maxResponseBytes: 1.5 }],
  ] as [string, Partial<McpOAuthOptions>][])("refuses a non-positive %s", (option, extra) => {
    expectConfigError(() => resolveOptions(base(extra)), option);
  });

  it("refuses an unsupported validation type", () => {
    const validation = { type: "remote" } as unknown as { type: "jwt" };
    expectConfigError(() => resolveOptions(base({ validation })), "validation.type");
  });

  it.each(["introspection", "auto"] as const)("refuses %s validation without introspection credentials", (type) => {
    expectConfigError(() => resolveOptions(base({ validation: { type } })), "introspection");
    expectConfigError(
      () => resolveOptions(base({ validation: { type }, introspection: { clientId: "rs", clientSecret: "" } })),
      "introspection",
    );
    expect(
      resolveOptions(base({ validation: { type }, introspection: { clientId: "rs", clientSecret: "s" } }))
        .introspection,
    ).toEqual({ clientId: "rs", clientSecret: "s", authMethod: "client_secret_basic", endpoint: undefined });
  });

  it("refuses an http jwksUri on a non-loopback host", () => {
    expectConfigError(
      () => resolveOptions(base({ validation: { jwksUri: "http://auth.example.com/jwks" } })),
      "validation.jwksUri",
    );
  });

  it("refuses an empty resourceName and a non-URL resourceDocumentation", () => {
    expectConfigError(() => resolveOptions(base({ resourceName: "" })), "resourceName");
    expectConfigError(() => resolveOptions(base({ resourceDocumentation: "docs" })), "resourceDocumentation");
  });
});

describe("resolveOptions: defaults", () => {
  it("uses the resource as the audience and the authorization servers as the issuers", () => {
    const resolved = resolveOptions(base({ authorizationServers: [AS, "https://other.example.com"] }));
    expect(resolved.tokenRules.audiences).toEqual([RESOURCE]);
    expect(resolved.tokenRules.issuers).toEqual([AS, "https://other.example.com"]);
    expect(resolved.tokenRules.audienceMatcher.matches(RESOURCE)).toBe(true);
    expect(resolved.tokenRules.strict).toBe(false);
    expect(resolved.tokenRules.maxTokenLength).toBe(8192);
    expect(resolved.tokenRules.jwksUri).toBeUndefined();
    expect(resolved.timeoutMs).toBe(5000);
    expect(resolved.retryAfterSeconds).toBe(5);
    expect(resolved.maxResponseBytes).toBe(1024 * 1024);
  });

  it("uses explicit audience and issuer instead of the defaults", () => {
    const resolved = resolveOptions(
      base({ validation: { audience: "api://default", issuer: ["https://iss.example.com"] } }),
    );
    expect(resolved.tokenRules.audiences).toEqual(["api://default"]);
    expect(resolved.tokenRules.issuers).toEqual(["https://iss.example.com"]);
    expect(resolved.tokenRules.audienceMatcher.matches(RESOURCE)).toBe(false);
  });

  it.each([
    [
      "https://host.example.com/mcp",
      "/.well-known/oauth-protected-resource/mcp",
      "https://host.example.com/.well-known/oauth-protected-resource/mcp",
    ],
    [
      "https://host.example.com/public/mcp",
      "/.well-known/oauth-protected-resource/public/mcp",
      "https://host.example.com/.well-known/oauth-protected-resource/public/mcp",
    ],
    [
      "https://host.example.com",
      "/.well-known/oauth-protected-resource",
      "https://host.example.com/.well-known/oauth-protected-resource",
    ],
    [
      "https://host.example.com/",
      "/.well-known/oauth-protected-resource",
      "https://host.example.com/.well-known/oauth-protected-resource",
    ],
    [
      "https://host.example.com:8443/mcp",
      "/.well-known/oauth-protected-resource/mcp",
      "https://host.example.com:8443/.well-known/oauth-protected-resource/mcp",
    ],
    [
      "http://127.0.0.1:3000/mcp",
      "/.well-known/oauth-protected-resource/mcp",
      "http://127.0.0.1:3000/.well-known/oauth-protected-resource/mcp",
    ],
  ])("for %s: metadataPath %s and resourceMetadataUrl %s", (resource, metadataPath, resourceMetadataUrl) => {
    const resolved = resolveOptions(base({ resource }));
    expect(resolved.metadataPath).toBe(metadataPath);
    expect(resolved.resourceMetadataUrl).toBe(resourceMetadataUrl);
  });

  it("keeps a root resource verbatim, without adding a trailing slash", () => {
    const resolved = resolveOptions(base({ resource: "https://host.example.com" }));
    expect(resolved.resource).toBe("https://host.example.com");
    expect(resolved.tokenRules.audiences).toEqual(["https://host.example.com"]);
  });

  it("returns frozen options", () => {
    const resolved = resolveOptions(base());
    expect(Object.isFrozen(resolved)).toBe(true);
    expect(Object.isFrozen(resolved.tokenRules)).toBe(true);
  });
});

describe("optionsFromEnv", () => {
  const ENV = { OAUTH_RESOURCE: RESOURCE, OAUTH_AUTHORIZATION_SERVER: AS };

  it.each<[string, Record<string, string>]>([
    ["unset", { OAUTH_AUTHORIZATION_SERVER: AS }],
    ["empty", { OAUTH_RESOURCE: "", OAUTH_AUTHORIZATION_SERVER: AS }],
    ["whitespace", { OAUTH_RESOURCE: "  ", OAUTH_AUTHORIZATION_SERVER: AS }],
  ])("refuses OAUTH_RESOURCE %s", (_label, env) => {
    expectConfigError(() => optionsFromEnv(env), "OAUTH_RESOURCE");
  });

  it.each<[string, Record<string, string>]>([
    ["unset", { OAUTH_RESOURCE: RESOURCE }],
    ["empty", { OAUTH_RESOURCE: RESOURCE, OAUTH_AUTHORIZATION_SERVER: "" }],
    ["only separators", { OAUTH_RESOURCE: RESOURCE, OAUTH_AUTHORIZATION_SERVER: " , ," }],
  ])("refuses OAUTH_AUTHORIZATION_SERVER %s", (_label, env) => {
    expectConfigError(() => optionsFromEnv(env), "OAUTH_AUTHORIZATION_SERVER");
  });

  it.each(["-1", "abc", "Infinity", "1s"])("refuses OAUTH_CLOCK_TOLERANCE=%s", (value) => {
    expectConfigError(() => optionsFromEnv({ ...ENV, OAUTH_CLOCK_TOLERANCE: value }), "OAUTH_CLOCK_TOLERANCE");
  });

  it("reads OAUTH_TIMEOUT_MS as the outbound deadline, an override winning", () => {
    expect(optionsFromEnv({ ...ENV, OAUTH_TIMEOUT_MS: "15000" }).timeoutMs).toBe(15000);
    expect(resolveOptions(optionsFromEnv({ ...ENV, OAUTH_TIMEOUT_MS: "250" })).timeoutMs).toBe(250);
    expect(optionsFromEnv({ ...ENV, OAUTH_TIMEOUT_MS: "15000" }, { timeoutMs: 7 }).timeoutMs).toBe(7);
    expect(optionsFromEnv(ENV).timeoutMs).toBeUndefined();
  });

  it.each(["0", "-1", "abc", "Infinity", "1.5", "5s", "1e3"])("refuses OAUTH_TIMEOUT_MS=%s", (value) => {
    expectConfigError(() => optionsFromEnv({ ...ENV, OAUTH_TIMEOUT_MS: value }), "OAUTH_TIMEOUT_MS");
  });

  it("reads every variable, splitting lists on commas and spaces", () => {
    const options = optionsFromEnv({
      OAUTH_RESOURCE: ` ${RESOURCE} `,
      OAUTH_AUTHORIZATION_SERVER: "https://a.example.com/, https://b.example.com",
      OAUTH_AUDIENCE: "api://one,api://two",
      OAUTH_ISSUER: "https://iss.example.com",
      OAUTH_JWKS_URI: "https://a.example.com/jwks",
      OAUTH_SCOPES: "mcp:read, mcp:write  mcp:admin",
      OAUTH_CLOCK_TOLERANCE: "30",
    });
    expect(options).toEqual({
      resource: RESOURCE,
      authorizationServers: ["https://a.example.com/", "https://b.example.com"],
      scopes: ["mcp:read", "mcp:write", "mcp:admin"],
      validation: {
        type: "jwt",
        jwksUri: "https://a.example.com/jwks",
        audience: ["api://one", "api://two"],
        issuer: ["https://iss.example.com"],
        clockToleranceSeconds: 30,
      },
    });
  });

  it("leaves audience and issuer unset, so resolveOptions defaults them", () => {
    const options = optionsFromEnv(ENV);
    expect(options.validation).toEqual({ type: "jwt" });
    const resolved = resolveOptions(options);
    expect(resolved.tokenRules.audiences).toEqual([RESOURCE]);
    expect(resolved.tokenRules.issuers).toEqual([AS]);
  });

  it("lets overrides win over the environment", () => {
    const options = optionsFromEnv(
      { ...ENV, OAUTH_SCOPES: "env:scope", OAUTH_CLOCK_TOLERANCE: "30" },
      {
        resource: "https://other.example.com/mcp",
        scopes: ["override:scope"],
        validation: { clockToleranceSeconds: 5 },
      },
    );
    expect(options.resource).toBe("https://other.example.com/mcp");
    expect(options.scopes).toEqual(["override:scope"]);
    expect(options.validation?.clockToleranceSeconds).toBe(5);
  });

  it("feeds resolveOptions, whose checks still apply (offline_access, plain http)", () => {
    expectConfigError(
      () => resolveOptions(optionsFromEnv({ ...ENV, OAUTH_SCOPES: "mcp:read offline_access" })),
      "scopes",
    );
    expectConfigError(
      () => resolveOptions(optionsFromEnv({ ...ENV, OAUTH_RESOURCE: "http://mcp.example.com/mcp" })),
      "resource",
    );
    expectConfigError(
      () =>
        resolveOptions(
          optionsFromEnv({ ...ENV, OAUTH_CLOCK_TOLERANCE: "0" }, { validation: { clockToleranceSeconds: -1 } }),
        ),
      "validation.clockToleranceSeconds",
    );
  });

  it("reads the cache lifetimes in seconds and refuses what is not one", () => {
    expect(optionsFromEnv({ ...ENV, OAUTH_CACHE_TTL: "120", OAUTH_CACHE_INTROSPECTION_TTL: "0" }).cache).toEqual({
      ttlSeconds: 120,
      introspectionTtlSeconds: 0,
    });
    expect(optionsFromEnv({ ...ENV, OAUTH_CACHE_TTL: "120" }, { cache: { ttlSeconds: 30 } }).cache).toEqual({
      ttlSeconds: 30,
    });
    expect(optionsFromEnv(ENV).cache).toBeUndefined();
    expectConfigError(
      () => optionsFromEnv({ ...ENV, OAUTH_CACHE_INTROSPECTION_TTL: "a minute" }),
      "OAUTH_CACHE_INTROSPECTION_TTL",
    );
    expectConfigError(() => optionsFromEnv({ ...ENV, OAUTH_CACHE_TTL: "-1" }), "OAUTH_CACHE_TTL");
  });

  describe("OAUTH_CACHE_REDIS_URL", () => {
    const store = new MemoryTokenCache<CachedValidation>(10);
    const built: [string, unknown][] = [];
    const stores = {
      redisCache: (url: string, env: unknown) => {
        built.push([url, env]);
        return store;
      },
    };

    it("is turned into a store by the builder it is given, beside the other cache settings", () => {
      const env = {
        ...ENV,
        OAUTH_CACHE_REDIS_URL: "rediss://:secret@cache.internal:6380/0",
        OAUTH_CACHE_INTROSPECTION_TTL: "5",
      };
      const options = optionsFromEnv(env, {}, stores);
      expect(options.cache).toEqual({ introspectionTtlSeconds: 5, store });
      expect(built.at(-1)).toEqual(["rediss://:secret@cache.internal:6380/0", env]);
    });

    it("is refused, not ignored, when nothing builds the store", () => {
      const error = expectConfigError(
        () => optionsFromEnv({ ...ENV, OAUTH_CACHE_REDIS_URL: "redis://127.0.0.1:6379" }),
        "OAUTH_CACHE_REDIS_URL",
      );
      expect(error.message).toMatch(/@mcp-oauth\/redis.*redisCacheFromEnv/);
    });

    it("must be a redis:// or rediss:// URL, and says so without echoing it", () => {
      const error = expectConfigError(
        () => optionsFromEnv({ ...ENV, OAUTH_CACHE_REDIS_URL: "https://:secret@cache.internal" }, {}, stores),
        "OAUTH_CACHE_REDIS_URL",
      );
      expect(error.message).not.toContain("secret");
    });

    it("stays unused when the overrides say no cache or bring their own store", () => {
      const env = { ...ENV, OAUTH_CACHE_REDIS_URL: "redis://127.0.0.1:6379" };
      const count = built.length;
      expect(optionsFromEnv(env, { cache: false }).cache).toBe(false);
      const own = new MemoryTokenCache<CachedValidation>(1);
      expect(optionsFromEnv(env, { cache: { store: own } }, stores).cache).toEqual({ store: own });
      expect(built.length).toBe(count);
    });
  });
});

describe("resolveOptions: validation.signatureVerification", () => {
  it("is the event loop by default, keeps an explicit choice and refuses anything else", () => {
    expect(resolveOptions(base()).tokenRules.signatureVerification).toBe("event-loop");
    expect(
      resolveOptions(base({ validation: { signatureVerification: "event-loop" } })).tokenRules.signatureVerification,
    ).toBe("event-loop");
    expect(
      resolveOptions(base({ validation: { signatureVerification: "thread-pool" } })).tokenRules.signatureVerification,
    ).toBe("thread-pool");
    for (const value of ["auto", "worker"])
      expectConfigError(
        () => resolveOptions(base({ validation: { signatureVerification: value as "event-loop" } })),
        "validation.signatureVerification",
      );
  });
});

describe("resolveOptions: cache.maxEntries", () => {
  it("sizes the in-memory store with a positive whole number", () => {
    const store = resolveOptions(base({ cache: { maxEntries: 3 } })).cache!.store;
    expect(store).toBeInstanceOf(MemoryTokenCache);
    expect((store as MemoryTokenCache<CachedValidation>).maxEntries).toBe(3);
  });

  it("refuses 0 (a store that holds nothing), pointing to cache: false, and anything not a positive whole number", () => {
    const zero = expectConfigError(() => resolveOptions(base({ cache: { maxEntries: 0 } })), "cache.maxEntries");
    expect(zero.message).toContain("cache: false");
    for (const value of [-1, 1.5, Number.NaN, Infinity, "100"])
      expectConfigError(() => resolveOptions(base({ cache: { maxEntries: value as number } })), "cache.maxEntries");
  });
});

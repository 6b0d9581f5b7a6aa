/**
 * A real OAuth 2.1 authorization server on a loopback port, built on `oidc-provider`:
 * RFC 8414 and OpenID Connect discovery, PKCE S256 required, open dynamic client
 * registration (RFC 7591) and Client ID Metadata Documents (MCP 2025-11-25 and
 * 2026-07-28), `iss` in every authorization response (RFC 9207), resource indicators
 * (RFC 8707) producing RFC 9068 JWT access tokens whose audience is the MCP resource,
 * introspection (RFC 7662), refresh tokens, CORS for browser-based clients. Its login and
 * consent pages are oidc-provider's development interactions: any login name signs in.
 *
 * For local development, tests and the demo. It keeps everything in memory.
 */
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Configuration } from "oidc-provider";
import { isLoopbackClientIdUrl, LoopbackClientIdMetadataDocuments } from "./client-id-metadata-document.js";
import { generateSigningKey, type PrivateJwk, type SigningAlgorithm } from "./keys.js";
import { redirectNotice } from "./redirect-notice.js";
import { registrationCors } from "./registration-cors.js";

export interface LocalAuthorizationServerOptions {
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string;
  /** Port; default 0 (an ephemeral port). */
  port?: number;
  /**
   * Resource indicators (RFC 8707) tokens may be issued for. Default: any http(s) URL
   * on a loopback host.
   */
  resources?: readonly string[];
  /** Scopes on offer for resources. Default `mcp:read mcp:write`. */
  scopes?: readonly string[];
  /** Access token lifetime in seconds. Default 3600. */
  accessTokenTTL?: number;
  /** Access token format: RFC 9068 JWTs, or opaque tokens only introspection can read. Default `jwt`. */
  accessTokenFormat?: "jwt" | "opaque";
  /** Signing algorithm of access tokens. Default RS256. */
  signingAlg?: SigningAlgorithm;
  /** Private signing keys; default one fresh key. The first one signs. */
  keys?: readonly PrivateJwk[];
  /** A confidential client for introspection. Default `mcp-resource-server` with a random secret. */
  introspectionClient?: { clientId: string; clientSecret: string };
  /** Pre-registered clients, in oidc-provider's client metadata form. */
  clients?: readonly Record<string, unknown>[];
  /**
   * Accept a Client ID Metadata Document URL as `client_id` (MCP 2025-11-25 and 2026-07-28
   * client registration; advertised as `client_id_metadata_document_supported`): an `https`
   * URL, or an `http` URL on a loopback host for clients on this machine. Default true.
   */
  clientIdMetadataDocuments?: boolean;
  /**
   * DPoP at the token endpoint (RFC 9449 section 5): a token request carrying a `DPoP`
   * proof gets an access token bound to the proof's key (`cnf.jkt`, `token_type` `DPoP`), and
   * a public client's refresh token is bound to it too; a request without one gets a Bearer
   * token, as before. Always on; these settings tune it.
   */
  dpop?: LocalDpopOptions;
}

/** Proof algorithms oidc-provider can verify (its `dPoPSigningAlgValues`). */
export type DpopSigningAlgorithm =
  "ES256" | "ES384" | "ES512" | "PS256" | "PS384" | "PS512" | "RS256" | "RS384" | "RS512" | "EdDSA" | "Ed25519";

export interface LocalDpopOptions {
  /**
   * Proof algorithms accepted and advertised (`dpop_signing_alg_values_supported`, RFC 9449
   * section 5.1). Default ES256, PS256, RS256, EdDSA: what the resource server accepts by
   * default (`DEFAULT_DPOP_ALGORITHMS` of @mcp-oauth/core), so a client that fits one fits both.
   */
  algorithms?: readonly DpopSigningAlgorithm[];
  /**
   * Require a server nonce in every proof (RFC 9449 section 8): a proof without one, or with
   * a stale one, is answered 400 `use_dpop_nonce` with a fresh `DPoP-Nonce`. Default false.
   * The nonces derive from a secret made at each start (nothing outlives this server).
   */
  requireNonce?: boolean;
}

/** The default proof algorithms: those the resource server accepts by default. */
export const DEFAULT_LOCAL_DPOP_ALGORITHMS: readonly DpopSigningAlgorithm[] = Object.freeze([
  "ES256",
  "PS256",
  "RS256",
  "EdDSA",
]);

export interface LocalAuthorizationServer {
  /** The issuer identifier, `http://127.0.0.1:PORT` (no trailing slash). */
  readonly issuer: string;
  /** `jwks_uri` of the server. */
  readonly jwksUri: string;
  /** The introspection endpoint and the client allowed to call it. */
  readonly introspection: { endpoint: string; clientId: string; clientSecret: string };
  /** The private signing keys (tests sign their own tokens with them). */
  readonly keys: readonly PrivateJwk[];
  /** Scopes on offer. */
  readonly scopes: readonly string[];
  /**
   * The underlying oidc-provider instance (`as import("oidc-provider").default`). Typed `unknown`
   * so this package's public types do not pull in oidc-provider's and koa's, which break a
   * consumer's `skipLibCheck: false` build.
   */
  readonly provider: unknown;
  /** How many requests each path received (`/jwks`, `/token/introspection`, ...): tests count upstream calls. */
  readonly requestCounts: ReadonlyMap<string, number>;
  close(): Promise<void>;
}

/**
 * oidc-provider warns, on every start, about what this server is by design: Node 20, the
 * in-memory adapter, development interactions. Those lines are dropped; any other warning
 * is printed.
 */
async function withoutKnownWarnings<T>(build: () => T | Promise<T>): Promise<T> {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (
      typeof args[0] === "string" &&
      /^oidc-provider WARNING: (Unsupported runtime|a quick start development-only)/.test(args[0])
    )
      return;
    warn(...args);
  };
  try {
    return await build();
  } finally {
    console.warn = warn;
  }
}

// Loaded on first start: the runtime warning is printed when the module is evaluated.
let oidcProvider: Promise<typeof import("oidc-provider")> | undefined;

const LOOPBACK_URL = /^https?:\/\/(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d+)?(?:\/|$)/i;

export async function startLocalAuthorizationServer(
  options: LocalAuthorizationServerOptions = {},
): Promise<LocalAuthorizationServer> {
  oidcProvider ??= withoutKnownWarnings(() => import("oidc-provider"));
  const { default: Provider, errors } = await oidcProvider;
  const host = options.host ?? "127.0.0.1";
  const scopes = [...(options.scopes ?? ["mcp:read", "mcp:write"])];
  const keys = options.keys ? [...options.keys] : [generateSigningKey(options.signingAlg ?? "RS256")];
  const signingAlg = keys[0]!.alg;
  const introspectionClient = options.introspectionClient ?? {
    clientId: "mcp-resource-server",
    clientSecret: randomBytes(24).toString("base64url"),
  };
  const clientIdMetadataDocuments = options.clientIdMetadataDocuments ?? true;
  const allowedResources = options.resources ? new Set(options.resources) : undefined;
  const dpopAlgorithms = [...(options.dpop?.algorithms ?? DEFAULT_LOCAL_DPOP_ALGORITHMS)];
  if (dpopAlgorithms.length === 0) throw new TypeError("dpop.algorithms: list at least one algorithm, e.g. ES256");
  const requireDpopNonce = options.dpop?.requireNonce ?? false;
  const isAllowedResource = (resource: string): boolean =>
    allowedResources ? allowedResources.has(resource) : LOOPBACK_URL.test(resource);

  // The issuer must be known before the provider exists, so bind the port first.
  const httpServer: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = httpServer.address() as AddressInfo;
  const issuer = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;

  const configuration: Configuration = {
    clients: [
      {
        client_id: introspectionClient.clientId,
        client_secret: introspectionClient.clientSecret,
        grant_types: ["client_credentials"],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: "client_secret_basic",
      },
      ...((options.clients ?? []) as Configuration["clients"] & object),
    ],
    jwks: { keys: keys as unknown as NonNullable<Configuration["jwks"]>["keys"] },
    scopes: ["openid", "offline_access", ...scopes],
    claims: { openid: ["sub"] },
    findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
    enabledJWA: { dPoPSigningAlgValues: dpopAlgorithms },
    features: {
      // On by default in oidc-provider 9; stated so that the binding does not hang on a default.
      // Replays of a proof at the token endpoint are refused (allowReplay false).
      dPoP: {
        enabled: true,
        allowReplay: false,
        // oidc-provider wants exactly 32 bytes; the nonce is an encrypted timestamp, so any
        // random secret of this start does (no state to share with another instance).
        ...(requireDpopNonce ? { nonceSecret: randomBytes(32), requireNonce: () => true } : {}),
      },
      devInteractions: { enabled: true },
      registration: { enabled: true },
      // oidc-provider resolves https document URLs itself (draft-02 of the draft, the version
      // it implements); loopback http ones are resolved below.
      clientIdMetadataDocument: { enabled: clientIdMetadataDocuments, ack: "draft-02" },
      // Only the resource server's own client may introspect (RFC 7662 section 2.1).
      introspection: {
        enabled: true,
        allowedPolicy: (_ctx, client) => client.clientId === introspectionClient.clientId,
      },
      // A client revokes only its own tokens (RFC 7009 section 2.1); oidc-provider's default
      // does the same but prints a notice asking for an explicit policy.
      revocation: { enabled: true, allowedPolicy: (_ctx, client, token) => token.clientId === client.clientId },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // Tokens are always for a resource: with one requested, that one.
        defaultResource: (_ctx, _client, oneOf) => oneOf ?? (undefined as unknown as string),
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resourceIndicator) => {
          if (!isAllowedResource(resourceIndicator))
            throw new errors.InvalidTarget("resource not served by this authorization server");
          return {
            scope: scopes.join(" "),
            audience: resourceIndicator,
            accessTokenTTL: options.accessTokenTTL ?? 3600,
            ...(options.accessTokenFormat === "opaque"
              ? { accessTokenFormat: "opaque" as const }
              : { accessTokenFormat: "jwt" as const, jwt: { sign: { alg: signingAlg } } }),
          };
        },
      },
    },
    // MCP clients refuse an authorization server without S256; require it for every client.
    pkce: { required: () => true },
    // A browser-based client (the MCP Inspector's page) calls the token endpoint from the
    // origin of its redirect URI. oidc-provider's default rule, stated here so that it does
    // not print a notice asking for one: public clients (and any client at userinfo), from
    // the origin of a registered redirect URI.
    clientBasedCORS: (ctx, origin, client) =>
      origin !== "null" &&
      (ctx.oidc.route === "userinfo" || client.clientAuthMethod === "none") &&
      (client.redirectUris ?? []).some((uri) => URL.canParse(uri) && new URL(uri).origin === origin),
    // Refresh tokens for every client allowed the grant, not only when offline_access was asked.
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed("refresh_token"),
    ttl: {
      AccessToken: options.accessTokenTTL ?? 3600,
      Interaction: 600,
      Session: 86400,
      Grant: 86400,
      RefreshToken: 86400 * 14,
    },
    cookies: { keys: [randomBytes(32).toString("base64url")] },
    // Loopback http is this server's whole purpose; the default would refuse http redirect URIs.
    clientDefaults: {
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
      // ID tokens are signed with the one key this server has.
      id_token_signed_response_alg: signingAlg,
    },
  };
  const provider = await withoutKnownWarnings(() => new Provider(issuer, configuration));
  const clientStore = (
    provider.Client as unknown as {
      adapter: {
        find(id: string): Promise<Record<string, unknown> | undefined>;
        upsert(id: string, payload: Record<string, unknown>, expiresIn?: number): Promise<void>;
      };
    }
  ).adapter;
  if (clientIdMetadataDocuments) {
    // oidc-provider looks a client up in its store before it tries a document URL: a
    // loopback document answers that lookup, as the client's stored metadata would.
    const documents = new LoopbackClientIdMetadataDocuments(errors);
    const find = clientStore.find.bind(clientStore);
    clientStore.find = async (id) =>
      (await find(id)) ?? (isLoopbackClientIdUrl(id) ? documents.resolve(id) : undefined);
  }
  // Registration is open to anyone, so to any origin too: a browser-based client (the MCP
  // Inspector in direct mode) registers from its page. oidc-provider gives the metadata
  // and token endpoints a CORS answer but not the registration endpoint.
  provider.use(registrationCors("/reg"));
  provider.use(redirectNotice((ctx) => provider.interactionDetails(ctx.req, ctx.res)));
  // MCP clients register with the scopes of their first challenge (the SDKs send the
  // resolved `scope` in the registration) and must still be able to step up later
  // (MCP scope challenge handling). oidc-provider would treat a registered `scope` as the
  // client's limit, so the stored registration drops it: every offered scope stays open.
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.method !== "POST" || ctx.path !== "/reg" || ctx.status !== 201) return;
    const clientId = (ctx.body as { client_id?: string } | undefined)?.client_id;
    if (clientId === undefined) return;
    const stored = await clientStore.find(clientId);
    if (stored?.["scope"] === undefined) return;
    delete stored["scope"];
    await clientStore.upsert(clientId, stored);
  });
  const requestCounts = new Map<string, number>();
  httpServer.on("request", (req) => {
    const path = (req.url ?? "/").split("?")[0]!;
    requestCounts.set(path, (requestCounts.get(path) ?? 0) + 1);
  });
  httpServer.on("request", provider.callback());

  return {
    issuer,
    jwksUri: `${issuer}/jwks`,
    introspection: { endpoint: `${issuer}/token/introspection`, ...introspectionClient },
    keys,
    scopes,
    provider,
    requestCounts,
    close: () =>
      new Promise<void>((resolve) => {
        httpServer.close(() => resolve());
        httpServer.closeAllConnections();
      }),
  };
}

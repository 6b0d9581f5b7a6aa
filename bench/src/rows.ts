/** The rows of the benchmark: which server, which token set, how many cores. */
import type { Impl } from "./shared.js";

/**
 * `cached`: a few tokens sent round-robin. `per-connection`: each connection keeps one token
 * of its own (what an MCP client does). `cold`: every request a token never sent to the row.
 * `opaque`: introspection tokens. `rotation`: before each measured window the key set gains
 * a new key and the window's tokens are signed with it (the first one forces a refetch).
 */
export type TokenSet = "cached" | "per-connection" | "cold" | "opaque" | "rotation";
export type Group = "baseline" | "reference" | "ours" | "peer";

export interface RowSpec {
  id: string;
  label: string;
  impl: Impl;
  tokens: TokenSet;
  group: Group;
  /**
   * Cores the row server may use: 2 (default: not pinned, sharing the machine with the load
   * generator, as real servers run) or 1 (server on CPU 0, load generator on CPU 1).
   */
  cores?: 1 | 2;
  /** `mcp`: a `tools/call` in an MCP session (see LoadWindow); default a `GET`. */
  request?: "get" | "mcp";
  /** The row *vs baseline* is paired with (default `baseline`, or `baseline@1` on one core). */
  baseline?: string;
}

export const PEERS: readonly { impl: Impl; label: string }[] = [
  { impl: "express-oauth2-jwt-bearer", label: "express-oauth2-jwt-bearer" },
  { impl: "express-jwt", label: "express-jwt + jwks-rsa" },
  { impl: "sdk-jose", label: "MCP SDK requireBearerAuth + jose" },
  { impl: "mcp-auth", label: "mcp-auth bearerAuth" },
  { impl: "mcp-framework", label: "mcp-framework OAuthAuthProvider" },
];

export const ROWS: readonly RowSpec[] = [
  { id: "baseline", label: "baseline (no auth)", impl: "baseline", tokens: "cached", group: "baseline" },
  { id: "sync-noop", label: "sync no-op middleware", impl: "sync-noop", tokens: "cached", group: "reference" },
  {
    id: "sets-auth",
    label: "sync middleware setting req.auth",
    impl: "sets-auth",
    tokens: "cached",
    group: "reference",
  },
  {
    id: "least-check",
    label: "the least a cached check does (header, Map lookup, exp, own AuthInfo; no signature check)",
    impl: "least-cached-check",
    tokens: "cached",
    group: "reference",
  },
  { id: "async-noop", label: "async no-op middleware", impl: "async-noop", tokens: "cached", group: "reference" },
  { id: "mcp-oauth:cached", label: "mcp-oauth JWT, cached", impl: "mcp-oauth", tokens: "cached", group: "ours" },
  {
    id: "mcp-oauth:per-connection",
    label: "mcp-oauth JWT, cached",
    impl: "mcp-oauth",
    tokens: "per-connection",
    group: "ours",
  },
  ...PEERS.map((peer): RowSpec => ({
    id: `${peer.impl}:cached`,
    label: peer.label,
    impl: peer.impl,
    tokens: "cached",
    group: "peer",
  })),
  {
    id: "sdk-jose:per-connection",
    label: "MCP SDK requireBearerAuth + jose",
    impl: "sdk-jose",
    tokens: "per-connection",
    group: "peer",
  },
  {
    id: "mcp-oauth:cold",
    label: "mcp-oauth JWT, cold (cache off)",
    impl: "mcp-oauth-nocache",
    tokens: "cold",
    group: "ours",
  },
  {
    id: "mcp-oauth-thread-pool:cold",
    label: "mcp-oauth JWT, cold, signatures on the thread pool",
    impl: "mcp-oauth-nocache-thread-pool",
    tokens: "cold",
    group: "reference",
  },
  {
    id: "mcp-oauth-cluster:cold",
    label: "mcp-oauth JWT, cold (cache off), node:cluster, one worker per core",
    impl: "mcp-oauth-nocache-cluster",
    tokens: "cold",
    group: "reference",
  },
  {
    id: "mcp-oauth-default-cache:cold",
    label: "mcp-oauth JWT, cold, default cache (miss + insert)",
    impl: "mcp-oauth",
    tokens: "cold",
    group: "ours",
  },
  ...PEERS.map((peer): RowSpec => ({
    id: `${peer.impl}:cold`,
    label: peer.label,
    impl: peer.impl,
    tokens: "cold",
    group: "peer",
  })),
  // One core: the same cold rows with the server pinned to CPU 0 and the load on CPU 1.
  { id: "baseline@1", label: "baseline (no auth)", impl: "baseline", tokens: "cached", group: "baseline", cores: 1 },
  {
    id: "mcp-oauth:cold@1",
    label: "mcp-oauth JWT, cold (cache off)",
    impl: "mcp-oauth-nocache",
    tokens: "cold",
    group: "ours",
    cores: 1,
  },
  {
    id: "mcp-oauth-thread-pool:cold@1",
    label: "mcp-oauth JWT, cold, signatures on the thread pool",
    impl: "mcp-oauth-nocache-thread-pool",
    tokens: "cold",
    group: "reference",
    cores: 1,
  },
  ...PEERS.map((peer): RowSpec => ({
    id: `${peer.impl}:cold@1`,
    label: peer.label,
    impl: peer.impl,
    tokens: "cold",
    group: "peer",
    cores: 1,
  })),
  // Replicas (docs/deployment.md): the Redis layer behind the in-memory one, on a local redis-server.
  {
    id: "mcp-oauth-redis:cached",
    label: "mcp-oauth JWT, cached, Redis layer (in-memory hit)",
    impl: "mcp-oauth-redis",
    tokens: "cached",
    group: "ours",
  },
  {
    id: "mcp-oauth-redis-only:cached",
    label: "mcp-oauth JWT, cached in Redis only (in-memory layer off: a Redis hit per request)",
    impl: "mcp-oauth-redis-only",
    tokens: "cached",
    group: "reference",
  },
  {
    id: "mcp-oauth-redis:cold",
    label: "mcp-oauth JWT, cold, Redis layer (miss in both + insert in both)",
    impl: "mcp-oauth-redis",
    tokens: "cold",
    group: "ours",
  },
  {
    id: "mcp-oauth-introspection:cached",
    label: "mcp-oauth introspection, cached",
    impl: "mcp-oauth-introspection",
    tokens: "opaque",
    group: "ours",
  },
  {
    id: "mcp-oauth:rotation",
    label: "mcp-oauth JWT, key rotation in each window",
    impl: "mcp-oauth-rotation",
    tokens: "rotation",
    group: "ours",
  },
  // The same GET on Hono (@hono/node-server), as the Hono example serves it: no auth, then
  // @mcp-oauth/fetch's mcpOAuthHono cached and cold, beside the Express rows above.
  { id: "hono", label: "Hono on @hono/node-server (no auth)", impl: "hono", tokens: "cached", group: "baseline" },
  {
    id: "mcp-oauth-hono:cached",
    label: "mcp-oauth on Hono (mcpOAuthHono), JWT, cached",
    impl: "mcp-oauth-hono",
    tokens: "cached",
    group: "ours",
    baseline: "hono",
  },
  {
    id: "mcp-oauth-hono:cold",
    label: "mcp-oauth on Hono (mcpOAuthHono), JWT, cold (cache off)",
    impl: "mcp-oauth-hono-nocache",
    tokens: "cold",
    group: "ours",
    baseline: "hono",
  },
  // A whole MCP request: tools/call through each transport, without and with protection.
  {
    id: "mcp-sdk",
    label: "MCP SDK Streamable HTTP, tools/call, no auth",
    impl: "mcp-sdk",
    tokens: "per-connection",
    group: "baseline",
    request: "mcp",
  },
  {
    id: "mcp-sdk:protected",
    label: "MCP SDK Streamable HTTP, tools/call, mcpOAuth",
    impl: "mcp-sdk-protected",
    tokens: "per-connection",
    group: "ours",
    request: "mcp",
    baseline: "mcp-sdk",
  },
  {
    id: "mcp-framework-server",
    label: "mcp-framework HTTP Stream, tools/call, no auth",
    impl: "mcp-framework-server",
    tokens: "per-connection",
    group: "baseline",
    request: "mcp",
  },
  {
    id: "mcp-framework-server:own-provider",
    label: "mcp-framework HTTP Stream, tools/call, mcp-framework's own OAuthAuthProvider",
    impl: "mcp-framework-server-own-provider",
    tokens: "per-connection",
    group: "peer",
    request: "mcp",
    baseline: "mcp-framework-server",
  },
  {
    // The floor for any provider on mcp-framework: with `auth` configured the framework awaits
    // the provider and logs three lines per request; this provider accepts at once.
    id: "mcp-framework-server:any-auth",
    label: "mcp-framework HTTP Stream, tools/call, a provider accepting every request",
    impl: "mcp-framework-server-any-auth",
    tokens: "per-connection",
    group: "reference",
    request: "mcp",
    baseline: "mcp-framework-server",
  },
  {
    id: "mcp-framework-server:protected",
    label: "mcp-framework HTTP Stream, tools/call, @mcp-oauth/mcp-framework",
    impl: "mcp-framework-server-protected",
    tokens: "per-connection",
    group: "ours",
    request: "mcp",
    baseline: "mcp-framework-server",
  },
];

/** The row whose windows a row's *vs baseline* is paired with. */
export function baselineOf(row: RowSpec): string {
  return row.baseline ?? (row.cores === 1 ? "baseline@1" : "baseline");
}

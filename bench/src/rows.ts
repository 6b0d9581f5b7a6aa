/** The rows of the benchmark: which server, which token set. */
import type { Impl } from "./shared.js";

export type TokenSet = "cached" | "cold" | "opaque";
export type Group = "baseline" | "reference" | "ours" | "peer";

export interface RowSpec {
  id: string;
  label: string;
  impl: Impl;
  tokens: TokenSet;
  group: Group;
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
  { id: "async-noop", label: "async no-op middleware", impl: "async-noop", tokens: "cached", group: "reference" },
  { id: "mcp-oauth:cached", label: "mcp-oauth JWT, cached", impl: "mcp-oauth", tokens: "cached", group: "ours" },
  ...PEERS.map((peer): RowSpec => ({
    id: `${peer.impl}:cached`,
    label: peer.label,
    impl: peer.impl,
    tokens: "cached",
    group: "peer",
  })),
  {
    id: "mcp-oauth:cold",
    label: "mcp-oauth JWT, cold (cache off)",
    impl: "mcp-oauth-nocache",
    tokens: "cold",
    group: "ours",
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
  {
    id: "mcp-oauth-introspection:cached",
    label: "mcp-oauth introspection, cached",
    impl: "mcp-oauth-introspection",
    tokens: "opaque",
    group: "ours",
  },
];

/**
 * What the DPoP benchmarks send (dpop.ts, dpop-ab.ts): an MCP request as a server receives
 * it, and a new ES256 proof for it.
 */
import { randomBytes, sign, type KeyObject } from "node:crypto";
import type { TokenRequest } from "@mcp-oauth/core";

/**
 * A string as Node's HTTP parser makes a header value: flat. A template literal is a V8 cons
 * string, which the first read flattens into a new string kept by whatever holds it: work and
 * garbage no server does, charged to whichever row read it first.
 */
export const flat = (text: string): string => Buffer.from(text, "latin1").toString("latin1");

/** The body of the request: a `tools/call`. */
export const TOOLS_CALL = {
  jsonrpc: "2.0",
  id: 1,
  method: "tools/call",
  params: { name: "echo", arguments: { text: "hi" } },
};

/**
 * `POST /mcp` to `host` with the headers an MCP client sends, `authorization` and, when given,
 * one `DPoP` header: a request object and header strings of its own, as a server gets them.
 */
export function mcpRequest(host: string, authorization: string, dpopProof?: string): TokenRequest {
  const raw = [
    "Host",
    host,
    "Content-Type",
    "application/json",
    "Accept",
    "application/json, text/event-stream",
    "Mcp-Session-Id",
    "4f1c2a9e-bench",
    "Authorization",
    flat(authorization),
    ...(dpopProof === undefined ? [] : ["DPoP", dpopProof]),
  ];
  const headers: Record<string, string> = {};
  for (let i = 0; i < raw.length; i += 2) headers[raw[i]!.toLowerCase()] = raw[i + 1]!;
  return { headers, rawHeaders: raw, method: "POST", url: "/mcp", originalUrl: "/mcp", body: TOOLS_CALL };
}

/** A new ES256 proof (a random `jti`) of `POST htu`, for the token whose hash is `ath`, flat. */
export function es256Proof(
  headerSegment: string,
  privateKey: KeyObject,
  htu: string,
  iat: number,
  ath: string,
): string {
  const payload = { jti: randomBytes(16).toString("base64url"), htm: "POST", htu, iat, ath };
  const input = `${headerSegment}.${Buffer.from(JSON.stringify(payload)).toString("base64url")}`;
  const signature = sign("sha256", Buffer.from(input), { key: privateKey, dsaEncoding: "ieee-p1363" });
  return flat(`${input}.${signature.toString("base64url")}`);
}

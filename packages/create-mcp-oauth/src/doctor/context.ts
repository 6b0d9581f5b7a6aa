/** What every check of `mcp-oauth doctor` shares: options, the recorder, findings, small helpers. */
import { WELL_KNOWN_PROTECTED_RESOURCE } from "@mcp-oauth/core";
import { isLoopbackHost, type AuthorizationServerMetadata } from "@mcp-oauth/core/internal";
import { jsonObject, statusText, type HttpResult } from "./http.js";
import { type KeyReport } from "./jwks.js";
import { type Check, type CheckSection } from "./report.js";

export interface DoctorOptions {
  /** The MCP endpoint URL, as clients are given it (`https://mcp.example.com/mcp`). */
  resource: string;
  /** Issuers to check; default: the `authorization_servers` of the resource's metadata. */
  authorizationServers?: readonly string[];
  /** A real access token for this resource: its claims are checked and it is tried once. Never printed. */
  token?: string;
  /** Per-request timeout in ms. Default 10000. */
  timeout?: number;
  fetch?: typeof fetch;
  /**
   * The npm scripts of the project the doctor runs in. A project made by create-mcp-oauth starts
   * its server with `dev` and its local authorization server with `auth-server`: a fix for a
   * loopback server that does not answer names the script.
   */
  projectScripts?: Readonly<Record<string, string>>;
}

/** The fix for a loopback server that does not answer, when the project has a script that starts it. */
export function startScript(ctx: Context, script: string, url: URL): string | undefined {
  return isLoopbackHost(url.hostname) && typeof ctx.projectScripts[script] === "string"
    ? `start it: \`npm run ${script}\` (in another terminal)`
    : undefined;
}

/** Bad arguments (not a finding about the server). */
export class DoctorUsageError extends Error {
  override readonly name = "DoctorUsageError";
}

export const PROTOCOL_VERSION = "2025-06-18";
export const INITIALIZE = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: {
    protocolVersion: PROTOCOL_VERSION,
    capabilities: {},
    clientInfo: { name: "mcp-oauth-doctor", version: "0.1.0" },
  },
});
export const MCP_HEADERS = {
  "content-type": "application/json",
  accept: "application/json, text/event-stream",
  "mcp-protocol-version": PROTOCOL_VERSION,
};
/** An origin no server allows specifically: public metadata must still be readable from it. */
export const FOREIGN_ORIGIN = "https://mcp-oauth-doctor.example";
export const SCOPE_CLAIMS = ["scope", "scp", "permissions", "roles"];

export interface Recorder {
  pass(id: string, message: string): void;
  warn(id: string, message: string, fix: string): void;
  fail(id: string, message: string, fix: string): void;
  /** `fail`, or `warn` when the server is known to accept what is being judged. */
  add(status: "warn" | "fail", id: string, message: string, fix: string): void;
}

export interface Context {
  resource: string;
  url: URL;
  projectScripts: Readonly<Record<string, string>>;
  checks: Check[];
  http(url: string, init?: RequestInit, readBody?: boolean): Promise<HttpResult>;
  section(section: CheckSection, subject?: string): Recorder;
}

export interface EndpointFindings {
  reachable: boolean;
  /** `resource_metadata` of the challenge, when it is an absolute URL. */
  resourceMetadata?: string;
  /** `scope` of the challenge. */
  scopes: string[];
  /** The 401's `WWW-Authenticate` value, when it had one. */
  challenge?: string;
}

export interface MetadataFindings {
  /** Union of `authorization_servers` of the documents found. */
  authorizationServers: string[];
  /** The first document found (its DPoP members are read by the DPoP checks). */
  document?: Record<string, unknown>;
}

export interface AuthorizationServerFindings {
  issuer: string;
  metadata?: AuthorizationServerMetadata;
  jwksUri?: string;
  keys?: KeyReport;
}

export const quote = (value: string): string => JSON.stringify(value);
export const list = (values: readonly string[]): string => values.map(quote).join(", ");

export function isHttpUrl(value: string): URL | undefined {
  try {
    const url = new URL(value);
    return url.protocol === "https:" || url.protocol === "http:" ? url : undefined;
  } catch {
    return undefined;
  }
}

export function suggestedMetadataUrl(url: URL): string {
  const path = url.pathname === "/" ? "" : url.pathname.replace(/\/$/, "");
  return `${url.origin}${WELL_KNOWN_PROTECTED_RESOURCE}${path}`;
}

export interface FetchedDocument {
  url: string;
  answer: HttpResult;
  document?: Record<string, unknown>;
  problem?: string;
}

export async function fetchDocument(ctx: Context, url: string): Promise<FetchedDocument> {
  const answer = await ctx.http(url, { headers: { accept: "application/json" } }, true);
  if (!answer.ok) return { url, answer, problem: answer.error };
  if (answer.status !== 200) {
    return {
      url,
      answer,
      problem:
        answer.status === 401 || answer.status === 403
          ? `${statusText(answer)}: it is behind the auth check`
          : statusText(answer),
    };
  }
  const parsed = jsonObject(answer);
  if ("error" in parsed) return { url, answer, problem: parsed.error };
  return { url, answer, document: parsed.value };
}

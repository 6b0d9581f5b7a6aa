/**
 * `mcp-oauth doctor`: checks a live MCP OAuth setup from the outside, the way an MCP
 * client meets it (MCP authorization spec 2025-06-18 to 2026-07-28): the 401 challenge
 * (RFC 6750 section 3, RFC 9728 section 5.1), the protected resource metadata (RFC 9728),
 * each authorization server's metadata (RFC 8414, OpenID Connect Discovery) and keys, and
 * optionally a real token. It never prints the token.
 */
// @ts-nocheck

import {
  AudienceMatcher, WELL_KNOWN_PROTECTED_RESOURCE, decodeJwt, isLoopbackHost, looksLikeJwt, metadataUrls, normalizeResourceUri,
  reportFor, scopesFromClaims, type AuthorizationServerMetadata,
} from "@mcp-oauth/core";
import { headerListIncludes, httpRequest, jsonObject, statusText, type HttpAnswer, type HttpResult } from "./http.js";
import { inspectKeySet, verifyJws, type KeyReport } from "./jwks.js";
import { summarize, type Check, type CheckSection, type DoctorReport } from "./report.js";
import { findChallenge, parseWwwAuthenticate, type Challenge } from "./www-authenticate.js";

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
}

/** Bad arguments (not a finding about the server). */
export class DoctorUsageError extends Error {
  override readonly name = "DoctorUsageError";
}

const PROTOCOL_VERSION = "2025-06-18";
const INITIALIZE = JSON.stringify({
  jsonrpc: "2.0", id: 1, method: "initialize",
  params: { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: "mcp-oauth-doctor", version: "0.1.0" } },
});
const MCP_HEADERS = { "content-type": "application/json", accept: "application/json, text/event-stream", "mcp-protocol-version": PROTOCOL_VERSION };
/** An origin no server allows specifically: public metadata must still be readable from it. */
const FOREIGN_ORIGIN = "https://mcp-oauth-doctor.example";
const SCOPE_CLAIMS = ["scope", "scp", "permissions", "roles"];

interface Recorder {
  pass(id: string, message: string): void;
  warn(id: string, message: string, fix: string): void;
  fail(id: string, message: string, fix: string): void;
  /** `fail`, or `warn` when the server is known to accept what is being judged. */
  add(status: "warn" | "fail", id: string, message: string, fix: string): void;
}

interface Context {
  resource: string;
  url: URL;
  checks: Check[];
  http(url: string, init?: RequestInit, readBody?: boolean): Promise<HttpResult>;
  section(section: CheckSection, subject?: string): Recorder;
}

interface EndpointFindings {
  reachable: boolean;
  /** `resource_metadata` of the challenge, when it is an absolute URL. */
  resourceMetadata?: string;
  /** `scope` of the challenge. */
  scopes: string[];
}

interface MetadataFindings {
  /** Union of `authorization_servers` of the documents found. */
  authorizationServers: string[];
}

interface AuthorizationServerFindings {
  issuer: string;
  metadata?: AuthorizationServerMetadata;
  jwksUri?: string;
  keys?: KeyReport;
}

const quote = (value: string): string => JSON.stringify(value);
const list = (values: readonly string[]): string => values.map(quote).join(", ");

function isHttpUrl(value: string): URL | undefined {
  try {
    const url = new URL(value);
    return url.protocol === "https:" || url.protocol === "http:" ? url : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------
// The MCP endpoint: URL form, the 401 challenge, CORS

async function checkEndpoint(ctx: Context): Promise<EndpointFindings> {
  const r = ctx.section("endpoint");
  const { url } = ctx;
  if (url.hash !== "" || ctx.resource.includes("#")) {
    r.fail("endpoint.url", `${ctx.resource} has a fragment: a resource identifier never does (RFC 8707 section 2)`, "drop the #... part from the URL clients use and from OAUTH_RESOURCE");
  } else if (url.protocol === "http:" && !isLoopbackHost(url.hostname)) {
    r.fail("endpoint.url", `plain http on ${url.hostname}: MCP clients and authorization servers require https outside loopback (OAuth 2.1 section 1.5)`,
      "serve the MCP endpoint over https (TLS at a proxy is fine) and publish the https URL as OAUTH_RESOURCE");
  } else {
    r.pass("endpoint.url", url.protocol === "https:" ? "https" : `http on loopback (${url.hostname}): development only, use https in production`);
  }

  const answer = await ctx.http(ctx.resource, { method: "POST", headers: MCP_HEADERS, body: INITIALIZE });
  if (!answer.ok) {
    r.fail("challenge.status", `no answer from ${ctx.resource}: ${answer.error}`, "start the server, and pass its MCP endpoint URL as --resource (e.g. https://mcp.example.com/mcp)");
    return { reachable: false, scopes: [] };
  }
  const suggested = suggestedMetadataUrl(url);
  if (answer.status !== 401) {
    const fixes: Record<number, string> = {
      404: "--resource must be the MCP endpoint itself (usually ending in /mcp)",
      403: "answer a request without a token with 401 and the challenge: MCP clients start OAuth only on 401",
    };
    const message = answer.status < 300
      ? `an MCP initialize request without a token got ${statusText(answer)}: the endpoint is not protected`
      : `an MCP initialize request without a token got ${statusText(answer)}, not 401`;
    r.fail("challenge.status", message, fixes[answer.status]
      ?? "put the OAuth check in front of the MCP endpoint (app.use(mcpOAuth(...)) for Express, OAuthAuthProvider for mcp-framework) so requests without a token get 401");
    return { reachable: true, scopes: [] };
  }
  r.pass("challenge.status", "401 for an MCP request without a token");

  const header = answer.headers.get("www-authenticate");
  if (header === null) {
    r.fail("challenge.header", "the 401 has no WWW-Authenticate header: clients cannot find the authorization server",
      `answer with WWW-Authenticate: Bearer resource_metadata="${suggested}" (mcpOAuth does; a proxy in front may be dropping the header)`);
    return { reachable: true, scopes: [] };
  }
  const bearer: Challenge | undefined = findChallenge(parseWwwAuthenticate(header), "Bearer");
  if (bearer === undefined) {
    r.fail("challenge.header", `WWW-Authenticate has no Bearer challenge: ${header}`, `answer with WWW-Authenticate: Bearer resource_metadata="${suggested}"`);
    return { reachable: true, scopes: [] };
  }

  const findings: EndpointFindings = { reachable: true, scopes: [] };
  const metadataParam = bearer.params.get("resource_metadata");
  if (metadataParam === undefined) {
    r.fail("challenge.resource_metadata", "the challenge has no resource_metadata: clients have to guess where the protected resource metadata is, and some give up (RFC 9728 section 5.1)",
      `add resource_metadata="${suggested}" to the challenge`);
  } else if (!metadataParam.quoted) {
    r.fail("challenge.resource_metadata", `resource_metadata is not quoted (resource_metadata=${metadataParam.value}): a widely used client parser cannot read an unquoted URL`,
      `quote every value in the challenge: resource_metadata="${metadataParam.value}"`);
    if (isHttpUrl(metadataParam.value)) findings.resourceMetadata = metadataParam.value;
  } else if (isHttpUrl(metadataParam.value) === undefined) {
    r.fail("challenge.resource_metadata", `resource_metadata ${quote(metadataParam.value)} is not an absolute http(s) URL`, `use the absolute URL of the metadata document, e.g. "${suggested}"`);
  } else {
    r.pass("challenge.resource_metadata", `resource_metadata="${metadataParam.value}"`);
    findings.resourceMetadata = metadataParam.value;
  }
  const unquoted = [...bearer.params].filter(([name, p]) => name !== "resource_metadata" && !p.quoted).map(([name]) => name);
  if (unquoted.length > 0) {
    r.warn("challenge.quoting", `unquoted value${unquoted.length > 1 ? "s" : ""} in the challenge: ${unquoted.join(", ")}`, "quote every auth-param value (RFC 7235 quoted-string); some client parsers read nothing else");
  }

  const error = bearer.params.get("error");
  if (error !== undefined) {
    r.warn("challenge.no_error", `the challenge says error=${quote(error.value)} although no token was sent`,
      "send no error code when the request carried no credentials (RFC 6750 section 3.1); keep invalid_token for tokens that were presented and refused");
  } else {
    r.pass("challenge.no_error", "no error code without a token (RFC 6750 section 3.1)");
  }

  const scope = bearer.params.get("scope");
  if (scope === undefined || scope.value.trim() === "") {
    r.warn("challenge.scope", "no scope in the challenge: clients fall back to every scope in scopes_supported, or to none",
      "send the scopes every request needs, e.g. scope=\"mcp:read\" (OAUTH_SCOPES)");
  } else {
    findings.scopes = scope.value.split(/\s+/).filter((s) => s !== "");
    r.pass("challenge.scope", `scope=${quote(scope.value)}`);
  }

  await checkEndpointCors(ctx, r);
  return findings;
}

async function checkEndpointCors(ctx: Context, r: Recorder): Promise<void> {
  const origin = ctx.url.origin;
  const preflight = await ctx.http(ctx.resource, {
    method: "OPTIONS",
    headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization,content-type,mcp-protocol-version" },
  });
  if (preflight.ok) {
    const allowHeaders = preflight.headers.get("access-control-allow-headers");
    const allowOrigin = preflight.headers.get("access-control-allow-origin");
    const missing = ["authorization", "mcp-protocol-version"].filter((h) => !headerListIncludes(allowHeaders, h));
    if (preflight.status === 401) {
      r.fail("cors.preflight", "the CORS preflight (OPTIONS) got 401: browsers never send credentials on a preflight, so browser-based clients cannot connect",
        "answer OPTIONS before the auth check (oauthCors / mcpOAuth do)");
    } else if (preflight.status >= 300 || allowOrigin === null) {
      r.warn("cors.preflight", `a CORS preflight from ${origin} got ${statusText(preflight)}${allowOrigin === null ? " without Access-Control-Allow-Origin" : ""}: browser-based clients cannot connect`,
        "answer preflights for the origins you serve (OAUTH_ALLOWED_ORIGINS), allowing Authorization and the MCP headers");
    } else if (missing.length > 0) {
      r.warn("cors.preflight", `the CORS preflight does not allow ${missing.join(", ")}`,
        "allow the Authorization, Content-Type, Mcp-Protocol-Version and Mcp-Session-Id request headers");
    } else {
      r.pass("cors.preflight", "CORS preflight answered without authentication, Authorization allowed");
    }
  }

  const withOrigin = await ctx.http(ctx.resource, { method: "POST", headers: { ...MCP_HEADERS, origin }, body: INITIALIZE });
  if (withOrigin.ok && withOrigin.status === 401) {
    if (headerListIncludes(withOrigin.headers.get("access-control-expose-headers"), "www-authenticate")) {
      r.pass("cors.expose", "WWW-Authenticate is exposed to browser scripts");
    } else {
      r.warn("cors.expose", "WWW-Authenticate is not in Access-Control-Expose-Headers: browser-based clients cannot read the challenge",
        "expose WWW-Authenticate and Mcp-Session-Id (Access-Control-Expose-Headers)");
    }
  }
}

function suggestedMetadataUrl(url: URL): string {
  const path = url.pathname === "/" ? "" : url.pathname.replace(/\/$/, "");
  return `${url.origin}${WELL_KNOWN_PROTECTED_RESOURCE}${path}`;
}

// ---------------------------------------------------------------------------------------
// Protected resource metadata (RFC 9728)

interface FetchedDocument {
  url: string;
  answer: HttpResult;
  document?: Record<string, unknown>;
  problem?: string;
}

async function fetchDocument(ctx: Context, url: string): Promise<FetchedDocument> {
  const answer = await ctx.http(url, { headers: { accept: "application/json" } }, true);
  if (!answer.ok) return { url, answer, problem: answer.error };
  if (answer.status !== 200) {
    return { url, answer, problem: answer.status === 401 || answer.status === 403 ? `${statusText(answer)}: it is behind the auth check` : statusText(answer) };
  }
  const parsed = jsonObject(answer);
  if ("error" in parsed) return { url, answer, problem: parsed.error };
  return { url, answer, document: parsed.value };
}

async function checkResourceMetadata(ctx: Context, endpoint: EndpointFindings, expected: readonly string[] | undefined): Promise<MetadataFindings> {
  const r = ctx.section("resource_metadata");
  const root = `${ctx.url.origin}${WELL_KNOWN_PROTECTED_RESOURCE}`;
  const suffixed = suggestedMetadataUrl(ctx.url);
  const wellKnown = suffixed === root ? [root] : [suffixed, root];
  const urls = [...new Set([...(endpoint.resourceMetadata ? [endpoint.resourceMetadata] : []), ...wellKnown])];
  const fetched = new Map((await Promise.all(urls.map((u) => fetchDocument(ctx, u)))).map((f) => [f.url, f]));
  const publicFix = "serve the document publicly (never behind the auth check) at both URLs, as JSON: app.use(mcpOAuth(...)) does";

  const named = endpoint.resourceMetadata !== undefined ? fetched.get(endpoint.resourceMetadata)! : undefined;
  if (named !== undefined && named.document === undefined) {
    r.fail("metadata.challenge_url", `the challenge names ${named.url}, which answers ${named.problem}: clients fetch only that URL`, publicFix);
  } else if (named !== undefined && !wellKnown.includes(named.url)) {
    r.pass("metadata.challenge_url", `served at the URL the challenge names (${named.url})`);
  }
  if (suffixed !== root) {
    const f = fetched.get(suffixed)!;
    if (f.document !== undefined) r.pass("metadata.path_suffixed", `served at ${suffixed}`);
    else {
      r.warn("metadata.path_suffixed", `not served at ${suffixed} (${f.problem}): clients try this URL first (RFC 9728 section 3.1)`,
        "serve it there too (mcpOAuth does, and OAuthAuthProvider on mcp-framework's own transports)");
    }
  }
  const rootFetched = fetched.get(root)!;
  if (rootFetched.document !== undefined) r.pass("metadata.root", `served at ${root}`);
  else r.warn("metadata.root", `not served at ${root} (${rootFetched.problem}): some clients read only the root`, "serve the document at the root URL as well");

  const found = [...fetched.values()].filter((f) => f.document !== undefined);
  if (found.length === 0) {
    r.fail("metadata.found", "no protected resource metadata anywhere a client looks: clients cannot find the authorization server", publicFix);
    return { authorizationServers: [] };
  }

  // Identical documents are judged once; different ones each, named by URL.
  const groups = new Map<string, FetchedDocument[]>();
  for (const f of found) {
    const key = JSON.stringify(f.document);
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  if (groups.size > 1) {
    r.warn("metadata.consistent", `the documents differ between ${found.map((f) => f.url).join(" and ")}`, "serve one document at every URL");
  }
  const authorizationServers = new Set<string>();
  for (const docs of groups.values()) {
    const where = groups.size > 1 ? `${docs.map((d) => d.url).join(", ")}: ` : "";
    const first = docs[0]!;
    const doc = first.document!;
    const contentType = (first.answer as HttpAnswer).headers.get("content-type") ?? "";
    if (!/^application\/(?:[\w.+-]*\+)?json\b/i.test(contentType)) {
      r.warn("metadata.content_type", `${where}Content-Type is ${quote(contentType)}, not application/json`, "answer with Content-Type: application/json");
    }
    checkResourceField(ctx, r, where, doc["resource"]);
    const servers = doc["authorization_servers"];
    if (!Array.isArray(servers) || servers.length === 0 || !servers.every((s) => typeof s === "string" && isHttpUrl(s) !== undefined)) {
      r.fail("metadata.authorization_servers", `${where}authorization_servers is ${servers === undefined ? "missing" : JSON.stringify(servers)}: it must list at least one issuer URL`,
        "set OAUTH_AUTHORIZATION_SERVER to your authorization server's issuer, exactly as it publishes it");
    } else {
      for (const s of servers as string[]) authorizationServers.add(s);
      r.pass("metadata.authorization_servers", `${where}authorization_servers: ${list(servers as string[])}`);
    }
    const scopes = doc["scopes_supported"];
    if (Array.isArray(scopes) && scopes.includes("offline_access")) {
      r.fail("metadata.offline_access", `${where}scopes_supported lists offline_access: MCP clients must not ask the resource for it (MCP 2026-07-28)`,
        "remove offline_access from scopes_supported (OAUTH_SCOPES / scopesSupported); refresh tokens are between the client and the authorization server");
    } else if (Array.isArray(scopes)) {
      r.pass("metadata.scopes_supported", `${where}scopes_supported: ${scopes.length === 0 ? "(empty)" : scopes.join(" ")}`);
    }
    const methods = doc["bearer_methods_supported"];
    if (Array.isArray(methods) && !methods.includes("header")) {
      r.warn("metadata.bearer_methods", `${where}bearer_methods_supported is ${JSON.stringify(methods)}: MCP sends tokens only in the Authorization header`, "publish bearer_methods_supported: [\"header\"]");
    }
  }

  if (expected !== undefined) {
    for (const issuer of expected) {
      if (!authorizationServers.has(issuer)) {
        r.fail("metadata.expected_issuer", `authorization_servers does not list ${quote(issuer)} (it lists ${list([...authorizationServers]) || "nothing"})`,
          `set OAUTH_AUTHORIZATION_SERVER=${issuer}, exactly the issuer the authorization server publishes`);
      }
    }
  }

  // CORS: browser-based clients (the MCP Inspector in a browser) read the document cross-origin.
  const cors = await ctx.http(found[0]!.url, { headers: { accept: "application/json", origin: FOREIGN_ORIGIN } });
  if (cors.ok) {
    const allow = cors.headers.get("access-control-allow-origin");
    if (cors.status === 200 && (allow === "*" || allow === FOREIGN_ORIGIN)) r.pass("metadata.cors", `readable from any origin (Access-Control-Allow-Origin: ${allow})`);
    else {
      r.warn("metadata.cors", `a request from another origin got ${statusText(cors)} with Access-Control-Allow-Origin ${allow === null ? "missing" : quote(allow)}: browser-based clients cannot read the metadata`,
        "answer the metadata with Access-Control-Allow-Origin: * (it is public)");
    }
  }
  return { authorizationServers: [...authorizationServers] };
}

function checkResourceField(ctx: Context, r: Recorder, where: string, resource: unknown): void {
  const expected = ctx.resource;
  const fix = `publish the endpoint URL exactly: OAUTH_RESOURCE=${expected}`;
  if (typeof resource !== "string" || resource === "") {
    r.fail("metadata.resource", `${where}resource is missing: clients check it against the URL they were given`, fix);
    return;
  }
  if (resource === expected) {
    r.pass("metadata.resource", `${where}resource is exactly ${quote(expected)}`);
    return;
  }
  if (normalizeResourceUri(resource) === normalizeResourceUri(expected)) {
    const why = resource.replace(/\/$/, "") === expected.replace(/\/$/, "") ? "differs only by a trailing slash" : "differs only in case";
    r.fail("metadata.resource", `${where}resource ${quote(resource)} ${why} from the endpoint ${quote(expected)}: clients (VS Code) compare exactly and send resource verbatim as the RFC 8707 parameter`,
      `${fix} (no trailing slash; new URL(...).href adds one to a bare origin)`);
    return;
  }
  const base = resource.replace(/\/$/, "");
  if (expected.startsWith(`${base}/`) || (expected.startsWith(base) && expected[base.length] === "?")) {
    r.warn("metadata.resource", `${where}resource ${quote(resource)} is a prefix of the endpoint ${quote(expected)}: allowed by the SDKs, refused by clients that want equality (VS Code)`, fix);
    return;
  }
  r.fail("metadata.resource", `${where}resource ${quote(resource)} is not the endpoint ${quote(expected)}: clients refuse metadata for another resource`,
    `${fix} (or pass the URL clients really use as --resource)`);
}

// ---------------------------------------------------------------------------------------
// Authorization servers (RFC 8414, OpenID Connect Discovery)

const ISSUER_FORMS = "Auth0 https://TENANT.auth0.com/ (with the slash), Okta https://ORG.okta.com/oauth2/default, Cognito https://cognito-idp.REGION.amazonaws.com/POOL_ID, "
  + "Entra https://login.microsoftonline.com/TENANT/v2.0, Keycloak https://HOST/realms/REALM";

async function checkAuthorizationServer(ctx: Context, issuer: string, fromMetadata: boolean): Promise<AuthorizationServerFindings> {
  const r = ctx.section("authorization_server", issuer);
  const findings: AuthorizationServerFindings = { issuer };
  const url = isHttpUrl(issuer);
  if (url === undefined) {
    r.fail("as.issuer_url", `${quote(issuer)} is not an http(s) URL`, `an issuer is an https URL, e.g. ${ISSUER_FORMS}`);
    return findings;
  }
  if (url.search !== "" || url.hash !== "") {
    r.fail("as.issuer_url", "the issuer has a query or fragment, which RFC 8414 section 2 forbids", "use the issuer exactly as the authorization server publishes it");
  } else if (url.protocol === "http:" && !isLoopbackHost(url.hostname)) {
    r.fail("as.issuer_url", `plain http on ${url.hostname}: MCP clients require https authorization servers outside loopback`, "use the authorization server's https issuer");
  }

  const urls = metadataUrls(issuer);
  const fetched = await Promise.all(urls.map((u) => fetchDocument(ctx, u)));
  const found = fetched.filter((f) => f.document !== undefined && typeof f.document["issuer"] === "string");
  if (found.length === 0) {
    r.fail("as.metadata", `no authorization server metadata (${fetched.map((f) => `${f.url}: ${f.problem ?? "no issuer field"}`).join("; ")})`,
      `check the issuer URL; it must be exactly the issuer the server publishes: ${ISSUER_FORMS}`);
    return findings;
  }
  const form = (u: string): string => (u.includes("/.well-known/oauth-authorization-server") ? "RFC 8414" : "OpenID Connect");
  r.pass("as.metadata", `metadata at ${found.map((f) => `${f.url} (${form(f.url)})`).join(", ")}`);

  const mismatched = found.filter((f) => f.document!["issuer"] !== issuer);
  for (const f of mismatched) {
    const published = String(f.document!["issuer"]);
    const slash = published.replace(/\/$/, "") === issuer.replace(/\/$/, "") ? " (they differ by a trailing slash)" : "";
    r.fail("as.issuer", `metadata at ${f.url} names issuer ${quote(published)}, not ${quote(issuer)}${slash}: clients reject the mismatch (RFC 8414 section 3.3)`,
      fromMetadata
        ? `set OAUTH_AUTHORIZATION_SERVER=${published} so authorization_servers names the issuer byte for byte`
        : `use the published issuer: --authorization-server ${published} and OAUTH_AUTHORIZATION_SERVER=${published}`);
  }
  if (mismatched.length === 0) r.pass("as.issuer", `issuer is exactly ${quote(issuer)}`);

  const chosen = found.find((f) => f.document!["issuer"] === issuer) ?? found[0]!;
  const metadata = chosen.document as AuthorizationServerMetadata;
  findings.metadata = metadata;
  const report = reportFor(issuer, { url: chosen.url, metadata });

  const missing = ["authorization_endpoint", "token_endpoint"].filter((f) => typeof metadata[f] !== "string");
  if (missing.length > 0) {
    r.fail("as.endpoints", `metadata lacks ${missing.join(" and ")}: clients cannot run the authorization code flow`, "publish authorization_endpoint and token_endpoint in the metadata");
  } else {
    r.pass("as.endpoints", "authorization_endpoint and token_endpoint published");
  }

  if (report.pkceS256) r.pass("as.pkce", "PKCE S256 advertised (code_challenge_methods_supported)");
  else {
    const methods = metadata.code_challenge_methods_supported;
    r.fail("as.pkce", `code_challenge_methods_supported ${Array.isArray(methods) ? `is ${JSON.stringify(methods)}` : "is missing"}: MCP clients refuse an authorization server without S256`,
      "enable PKCE with S256 at the authorization server and advertise code_challenge_methods_supported: [\"S256\"]");
  }

  const ways = [
    ...(report.registrationEndpoint ? [`dynamic client registration (RFC 7591) at ${report.registrationEndpoint}`] : []),
    ...(report.clientIdMetadataDocumentSupported ? ["Client ID Metadata Documents"] : []),
  ];
  if (ways.length > 0) r.pass("as.registration", `clients can get a client id: ${ways.join("; ")}`);
  else {
    r.warn("as.registration", "no registration_endpoint and no client_id_metadata_document_supported: MCP clients cannot get a client id on their own",
      "pre-register a client per MCP client application and give users its client id (most MCP clients accept one), enable dynamic registration, or put a proxy authorization server with registration in front (docs/providers)");
  }

  if (report.jwksUri === undefined) {
    r.warn("as.jwks", "no jwks_uri: tokens can only be checked by introspection", "use OAUTH_VALIDATION=introspection, or set OAUTH_JWKS_URI if the keys are published elsewhere");
    return findings;
  }
  findings.jwksUri = report.jwksUri;
  const jwks = await fetchDocument(ctx, report.jwksUri);
  if (jwks.document === undefined) {
    r.fail("as.jwks", `key set at ${report.jwksUri}: ${jwks.problem}`, "JWTs cannot be validated without it: check jwks_uri, or OAUTH_JWKS_URI on the server");
    return findings;
  }
  const keys = inspectKeySet(jwks.document);
  if ("error" in keys) {
    r.fail("as.jwks", `key set at ${report.jwksUri}: ${keys.error}`, "jwks_uri must serve a JSON Web Key Set (RFC 7517 section 5)");
    return findings;
  }
  findings.keys = keys;
  if (keys.privateKeys.length > 0) {
    r.fail("as.jwks_private", `the key set publishes private key material (${keys.privateKeys.join(", ")})`,
      "remove the private members (d, p, q, dp, dq, qi, k) from the published keys, and rotate those keys: anyone could sign tokens with them");
  }
  if (keys.usable.length === 0) {
    r.fail("as.jwks", `key set at ${report.jwksUri} has no usable public signing key${keys.skipped.length > 0 ? ` (${keys.skipped.join("; ")})` : ""}`,
      "publish the public RSA, EC or OKP keys that sign access tokens");
    return findings;
  }
  const describeKey = (k: KeyReport["usable"][number]): string => `${k.kid !== undefined ? quote(k.kid) : "no kid"} ${k.alg ?? k.kty}`;
  r.pass("as.jwks", `key set at ${report.jwksUri}: ${keys.usable.length} signing key${keys.usable.length === 1 ? "" : "s"} (${keys.usable.map(describeKey).join(", ")})`);
  return findings;
}

// ---------------------------------------------------------------------------------------
// An optional real token

async function checkToken(ctx: Context, token: string, endpoint: EndpointFindings, servers: AuthorizationServerFindings[], issuers: readonly string[]): Promise<void> {
  const r = ctx.section("token");
  // The live call first: whether the server accepts the token decides how hard claim
  // mismatches are judged (OAUTH_AUDIENCE / OAUTH_ISSUER may accept other forms).
  const live = endpoint.reachable ? await tryToken(ctx, token) : undefined;
  const accepted = live?.ok === true && live.status >= 200 && live.status < 300;
  const mismatch: "warn" | "fail" = accepted ? "warn" : "fail";

  if (!looksLikeJwt(token) && accepted) {
    r.pass("token.format", "opaque token (not a JWT): the endpoint accepted it, so it reads it by introspection; claims cannot be shown");
  } else if (!looksLikeJwt(token)) {
    r.warn("token.format", "opaque token (not a JWT): only the authorization server can read it, so only the call to the endpoint checks it",
      "nothing to change if the server uses OAUTH_VALIDATION=introspection; a JWT-validating server refuses it (at Auth0 an opaque token means no audience was requested)");
  } else {
    let decoded: ReturnType<typeof decodeJwt> | undefined;
    try {
      decoded = decodeJwt(token);
    } catch (error) {
      r.fail("token.format", `the token looks like a JWT but cannot be decoded: ${(error as Error).message}`, "pass the access token itself, not the whole token response or another credential");
    }
    if (decoded !== undefined) checkClaims(ctx, r, token, decoded, { endpoint, servers, issuers, mismatch, accepted });
  }

  if (live === undefined) return;
  if (!live.ok) {
    r.fail("token.accepted", `calling the endpoint with the token failed: ${live.error}`, "check that the server is reachable");
    return;
  }
  if (accepted) {
    r.pass("token.accepted", `the MCP endpoint accepted the token (${statusText(live)})`);
    return;
  }
  const challenge = findChallenge(parseWwwAuthenticate(live.headers.get("www-authenticate") ?? ""), "Bearer");
  const error = challenge?.params.get("error")?.value;
  const description = challenge?.params.get("error_description")?.value;
  const detail = [error ? `error=${quote(error)}` : "", description ? `error_description=${quote(description)}` : ""].filter((s) => s !== "").join(" ");
  if (live.status === 403 && error === "insufficient_scope") {
    const needed = challenge?.params.get("scope")?.value ?? "";
    r.fail("token.accepted", `the endpoint wants more scope: 403 insufficient_scope${needed ? ` (scope=${quote(needed)})` : ""}`,
      `request the token with scope=${quote(needed || endpoint.scopes.join(" "))}`);
  } else if (live.status === 503) {
    r.fail("token.accepted", `the server could not check the token (HTTP 503${detail ? `, ${detail}` : ""}): its key set or introspection endpoint is unreachable from the server`,
      "make the authorization server reachable from the MCP server; check OAUTH_JWKS_URI, OAUTH_INTROSPECTION_ENDPOINT and the introspection credentials");
  } else {
    r.fail("token.accepted", `the MCP endpoint refused the token: ${statusText(live)}${detail ? ` ${detail}` : ""}`,
      "compare the token's issuer and audience above with OAUTH_AUTHORIZATION_SERVER, OAUTH_ISSUER and OAUTH_AUDIENCE on the server");
  }
}

async function tryToken(ctx: Context, token: string): Promise<HttpResult> {
  const authorization = `Bearer ${token}`;
  const answer = await ctx.http(ctx.resource, { method: "POST", headers: { ...MCP_HEADERS, authorization }, body: INITIALIZE });
  const session = answer.ok ? answer.headers.get("mcp-session-id") : null;
  if (session !== null) {
    // Leave nothing behind: end the session the initialize opened.
    await ctx.http(ctx.resource, { method: "DELETE", headers: { authorization, "mcp-session-id": session, "mcp-protocol-version": PROTOCOL_VERSION } });
  }
  return answer;
}

interface ClaimContext {
  endpoint: EndpointFindings;
  servers: AuthorizationServerFindings[];
  issuers: readonly string[];
  mismatch: "warn" | "fail";
  accepted: boolean;
}

function checkClaims(ctx: Context, r: Recorder, token: string, decoded: ReturnType<typeof decodeJwt>, c: ClaimContext): void {
  const { header, payload } = decoded;
  const alg = typeof header["alg"] === "string" ? header["alg"] : "";
  if (alg === "" || alg.toLowerCase() === "none") {
    r.fail("token.alg", `alg is ${quote(alg || "missing")}: an unsigned token is never accepted (RFC 8725)`, "get a signed access token from the authorization server");
  } else if (alg.startsWith("HS")) {
    r.warn("token.alg", `alg ${alg}: HMAC-signed, so only a server holding the shared secret can check it`, "prefer asymmetric signatures (RS256, ES256) for access tokens");
  }

  const iss = payload["iss"];
  if (typeof iss !== "string") {
    r.fail("token.issuer", "the token has no iss claim", "get an access token from the authorization server (not an ID token or a self-made token)");
  } else if (c.issuers.includes(iss)) {
    r.pass("token.issuer", `issuer ${quote(iss)}`);
  } else {
    r.add(c.mismatch, "token.issuer", `issuer ${quote(iss)} is not an authorization server of this resource (${list(c.issuers) || "none known"})${c.accepted ? ", yet the server accepts it (OAUTH_ISSUER)" : ""}`,
      `get the token from ${c.issuers[0] ?? "the resource's authorization server"}; if ${quote(iss)} is another form of the same server (Entra v1 https://sts.windows.net/TENANT/), list it in OAUTH_ISSUER`);
  }

  const aud = payload["aud"];
  const audText = Array.isArray(aud) ? list(aud.filter((a): a is string => typeof a === "string")) : typeof aud === "string" ? quote(aud) : "";
  const audienceFix = `clients must request the token with resource=${ctx.resource} (RFC 8707); where the authorization server fixes the audience (Okta api://default, Entra's app id, Auth0's API identifier), list it in OAUTH_AUDIENCE`;
  if (new AudienceMatcher([ctx.resource]).matches(aud)) {
    r.pass("token.audience", `audience ${audText} is this resource`);
  } else if (aud === undefined && typeof payload["client_id"] === "string") {
    r.add(c.mismatch, "token.audience", `no aud claim, client_id ${quote(payload["client_id"])} (AWS Cognito access tokens): accepted only with an explicit client-id opt-in`,
      "list the app client ids in the Cognito preset's clientIds (validation.clientIdAsAudience)");
  } else if (aud === undefined) {
    r.fail("token.audience", "no aud claim: nothing says the token was issued for this server", audienceFix);
  } else {
    r.add(c.mismatch, "token.audience", `audience ${audText} is not this resource (${quote(ctx.resource)})${c.accepted ? ", yet the server accepts it (OAUTH_AUDIENCE)" : ""}`, audienceFix);
  }

  const now = Math.floor(Date.now() / 1000);
  const exp = payload["exp"];
  if (typeof exp !== "number") {
    r.fail("token.expiry", "the token has no exp claim: tokens without expiry are refused", "configure the authorization server to issue expiring access tokens");
  } else if (exp <= now) {
    r.fail("token.expiry", `expired ${duration(now - exp)} ago (${new Date(exp * 1000).toISOString()})`, "get a fresh token");
  } else {
    r.pass("token.expiry", `expires in ${duration(exp - now)} (${new Date(exp * 1000).toISOString()})`);
  }
  const nbf = payload["nbf"];
  if (typeof nbf === "number" && nbf > now + 60) {
    r.fail("token.expiry", `not valid before ${new Date(nbf * 1000).toISOString()}`, "check the clocks of the authorization server and this machine");
  }

  const scopes = scopesFromClaims(payload, SCOPE_CLAIMS);
  const lacking = c.endpoint.scopes.filter((s) => !scopes.includes(s));
  if (lacking.length > 0) {
    r.add(c.accepted ? "warn" : "fail", "token.scopes", `scopes ${scopes.length > 0 ? quote(scopes.join(" ")) : "(none)"} lack ${quote(lacking.join(" "))}, which the challenge asks for`,
      `request the token with scope=${quote(c.endpoint.scopes.join(" "))}`);
  } else {
    r.pass("token.scopes", `scopes ${scopes.length > 0 ? quote(scopes.join(" ")) : "(none)"}`);
  }

  const who = [
    typeof payload["sub"] === "string" ? `subject ${quote(payload["sub"])}` : "",
    ...["client_id", "azp", "cid", "appid"].filter((k) => typeof payload[k] === "string").slice(0, 1).map((k) => `client ${quote(String(payload[k]))}`),
    typeof header["typ"] === "string" ? `typ ${quote(header["typ"])}` : "",
  ].filter((s) => s !== "");
  if (who.length > 0) r.pass("token.subject", who.join(", "));

  // Signature, against the key set of the token's own issuer when it is one we checked.
  if (alg.startsWith("HS") || alg === "" || alg.toLowerCase() === "none") return;
  const server = c.servers.find((s) => s.issuer === iss && s.keys !== undefined) ?? c.servers.find((s) => s.keys !== undefined);
  if (server === undefined || server.keys === undefined) {
    r.warn("token.signature", "no key set to check the signature against", "see the authorization server checks above");
    return;
  }
  const kid = typeof header["kid"] === "string" ? header["kid"] : undefined;
  const candidates = server.keys.usable.filter((k) => kid === undefined || k.kid === kid);
  const match = candidates.find((k) => verifyJws(token, alg, k.key));
  if (match !== undefined) {
    r.pass("token.signature", `signature verifies with ${match.kid !== undefined ? `key ${quote(match.kid)}` : "a key"} from ${server.jwksUri}`);
  } else {
    r.fail("token.signature", `no key in ${server.jwksUri} verifies the signature${kid !== undefined && candidates.length === 0 ? ` (no key with kid ${quote(kid)})` : ""}`,
      `the token was signed by another server or a rotated key: get a fresh token from ${server.issuer}`);
  }
}

function duration(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86_400)} days`;
}

// ---------------------------------------------------------------------------------------

export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const url = isHttpUrl(options.resource);
  if (url === undefined) throw new DoctorUsageError(`--resource must be the http(s) URL of the MCP endpoint, not ${quote(options.resource)}`);
  const expected = options.authorizationServers?.length ? [...new Set(options.authorizationServers)] : undefined;
  const checks: Check[] = [];
  const timeout = options.timeout ?? 10_000;
  const doFetch = options.fetch ?? fetch;
  const ctx: Context = {
    resource: options.resource,
    url,
    checks,
    http: (target, init = {}, readBody = false) => httpRequest(target, init, { timeout, fetch: doFetch, readBody }),
    section: (section, subject) => {
      const add = (status: Check["status"], id: string, message: string, fix?: string): void => {
        checks.push({ id, section, ...(subject !== undefined ? { subject } : {}), status, message, ...(fix !== undefined ? { fix } : {}) });
      };
      return {
        pass: (id, message) => add("pass", id, message),
        warn: (id, message, fix) => add("warn", id, message, fix),
        fail: (id, message, fix) => add("fail", id, message, fix),
        add: (status, id, message, fix) => add(status, id, message, fix),
      };
    },
  };

  const endpoint = await checkEndpoint(ctx);
  const metadata = endpoint.reachable ? await checkResourceMetadata(ctx, endpoint, expected) : { authorizationServers: [] };
  const issuers = expected ?? metadata.authorizationServers;
  const servers = await Promise.all(issuers.map((issuer) => checkAuthorizationServer(ctx, issuer, expected === undefined)));
  if (options.token !== undefined && options.token !== "") {
    await checkToken(ctx, options.token, endpoint, servers, [...new Set([...issuers, ...metadata.authorizationServers])]);
  }

  // Nothing above writes the token, but a server may echo it back in an error_description.
  const token = options.token;
  if (token !== undefined && token.length >= 8) {
    for (const check of checks) {
      check.message = check.message.split(token).join("[token]");
      if (check.fix !== undefined) check.fix = check.fix.split(token).join("[token]");
    }
  }
  // Authorization servers were checked in parallel: group each one's lines together.
  const order = (c: Check): number => {
    const section = ["endpoint", "resource_metadata", "authorization_server", "token"].indexOf(c.section);
    return section * 1000 + (c.subject !== undefined ? issuers.indexOf(c.subject) + 1 : 0);
  };
  const sorted = checks.map((check, index) => ({ check, index })).sort((a, b) => order(a.check) - order(b.check) || a.index - b.index).map((e) => e.check);
  return summarize(options.resource, issuers, sorted);
}

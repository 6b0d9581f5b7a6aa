/** The MCP endpoint: URL form, the 401 challenge (RFC 6750 section 3, RFC 9728 section 5.1), CORS. */
import { isLoopbackHost } from "@mcp-oauth/core/internal";
import { headerListIncludes, statusText } from "./http.js";
import { findChallenge, parseWwwAuthenticate, type Challenge } from "./www-authenticate.js";
import {
  type Context,
  type EndpointFindings,
  INITIALIZE,
  isHttpUrl,
  MCP_HEADERS,
  quote,
  type Recorder,
  startScript,
  suggestedMetadataUrl,
} from "./context.js";

export async function checkEndpoint(ctx: Context): Promise<EndpointFindings> {
  const r = ctx.section("endpoint");
  const { url } = ctx;
  if (url.hash !== "" || ctx.resource.includes("#")) {
    r.fail(
      "endpoint.url",
      `${ctx.resource} has a fragment: a resource identifier never does (RFC 8707 section 2)`,
      "drop the #... part from the URL clients use and from OAUTH_RESOURCE",
    );
  } else if (url.protocol === "http:" && !isLoopbackHost(url.hostname)) {
    r.fail(
      "endpoint.url",
      `plain http on ${url.hostname}: MCP clients and authorization servers require https outside loopback (OAuth 2.1 section 1.5)`,
      "serve the MCP endpoint over https (TLS at a proxy is fine) and publish the https URL as OAUTH_RESOURCE",
    );
  } else {
    r.pass(
      "endpoint.url",
      url.protocol === "https:"
        ? "https"
        : `http on loopback (${url.hostname}): development only, use https in production`,
    );
  }

  const answer = await ctx.http(ctx.resource, { method: "POST", headers: MCP_HEADERS, body: INITIALIZE });
  if (!answer.ok) {
    r.fail(
      "challenge.status",
      `no answer from ${ctx.resource}: ${answer.error}`,
      startScript(ctx, "dev", url) ??
        "start the server, and pass its MCP endpoint URL as --resource (e.g. https://mcp.example.com/mcp)",
    );
    return { reachable: false, scopes: [] };
  }
  const suggested = suggestedMetadataUrl(url);
  if (answer.status !== 401) {
    const fixes: Record<number, string> = {
      404: "--resource must be the MCP endpoint itself (usually ending in /mcp)",
      403: "answer a request without a token with 401 and the challenge: MCP clients start OAuth only on 401",
    };
    const message =
      answer.status < 300
        ? `an MCP initialize request without a token got ${statusText(answer)}: the endpoint is not protected`
        : `an MCP initialize request without a token got ${statusText(answer)}, not 401`;
    r.fail(
      "challenge.status",
      message,
      fixes[answer.status] ??
        "put the OAuth check in front of the MCP endpoint (app.use(mcpOAuth(...)) for Express, OAuthAuthProvider for mcp-framework) so requests without a token get 401",
    );
    return { reachable: true, scopes: [] };
  }
  r.pass("challenge.status", "401 for an MCP request without a token");

  const header = answer.headers.get("www-authenticate");
  if (header === null) {
    r.fail(
      "challenge.header",
      "the 401 has no WWW-Authenticate header: clients cannot find the authorization server",
      `answer with WWW-Authenticate: Bearer resource_metadata="${suggested}" (mcpOAuth does; a proxy in front may be dropping the header)`,
    );
    return { reachable: true, scopes: [] };
  }
  // A server that requires DPoP answers with the DPoP challenge alone (RFC 9449 section 7.1),
  // carrying resource_metadata and scope as a Bearer one would.
  const challenges = parseWwwAuthenticate(header);
  const challenge: Challenge | undefined = findChallenge(challenges, "Bearer") ?? findChallenge(challenges, "DPoP");
  if (challenge === undefined) {
    r.fail(
      "challenge.header",
      `WWW-Authenticate has no Bearer (or DPoP) challenge: ${header}`,
      `answer with WWW-Authenticate: Bearer resource_metadata="${suggested}"`,
    );
    return { reachable: true, scopes: [], challenge: header };
  }

  const findings: EndpointFindings = { reachable: true, scopes: [], challenge: header };
  const metadataParam = challenge.params.get("resource_metadata");
  if (metadataParam === undefined) {
    r.fail(
      "challenge.resource_metadata",
      "the challenge has no resource_metadata: clients have to guess where the protected resource metadata is, and some give up (RFC 9728 section 5.1)",
      `add resource_metadata="${suggested}" to the challenge`,
    );
  } else if (!metadataParam.quoted) {
    r.fail(
      "challenge.resource_metadata",
      `resource_metadata is not quoted (resource_metadata=${metadataParam.value}): a widely used client parser cannot read an unquoted URL`,
      `quote every value in the challenge: resource_metadata="${metadataParam.value}"`,
    );
    if (isHttpUrl(metadataParam.value)) findings.resourceMetadata = metadataParam.value;
  } else if (isHttpUrl(metadataParam.value) === undefined) {
    r.fail(
      "challenge.resource_metadata",
      `resource_metadata ${quote(metadataParam.value)} is not an absolute http(s) URL`,
      `use the absolute URL of the metadata document, e.g. "${suggested}"`,
    );
  } else {
    r.pass("challenge.resource_metadata", `resource_metadata="${metadataParam.value}"`);
    findings.resourceMetadata = metadataParam.value;
  }
  const unquoted = [...challenge.params]
    .filter(([name, p]) => name !== "resource_metadata" && !p.quoted)
    .map(([name]) => name);
  if (unquoted.length > 0) {
    r.warn(
      "challenge.quoting",
      `unquoted value${unquoted.length > 1 ? "s" : ""} in the challenge: ${unquoted.join(", ")}`,
      "quote every auth-param value (RFC 7235 quoted-string); some client parsers read nothing else",
    );
  }

  const error = challenge.params.get("error");
  if (error !== undefined) {
    r.warn(
      "challenge.no_error",
      `the challenge says error=${quote(error.value)} although no token was sent`,
      "send no error code when the request carried no credentials (RFC 6750 section 3.1); keep invalid_token for tokens that were presented and refused",
    );
  } else {
    r.pass("challenge.no_error", "no error code without a token (RFC 6750 section 3.1)");
  }

  const scope = challenge.params.get("scope");
  if (scope === undefined || scope.value.trim() === "") {
    r.warn(
      "challenge.scope",
      "no scope in the challenge: clients fall back to every scope in scopes_supported, or to none",
      'send the scopes every request needs, e.g. scope="mcp:read" (OAUTH_SCOPES)',
    );
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
    headers: {
      origin,
      "access-control-request-method": "POST",
      "access-control-request-headers": "authorization,content-type,mcp-protocol-version",
    },
  });
  if (preflight.ok) {
    const allowHeaders = preflight.headers.get("access-control-allow-headers");
    const allowOrigin = preflight.headers.get("access-control-allow-origin");
    const missing = ["authorization", "mcp-protocol-version"].filter((h) => !headerListIncludes(allowHeaders, h));
    if (preflight.status === 401) {
      r.fail(
        "cors.preflight",
        "the CORS preflight (OPTIONS) got 401: browsers never send credentials on a preflight, so browser-based clients cannot connect",
        "answer OPTIONS before the auth check (oauthCors / mcpOAuth do)",
      );
    } else if (preflight.status >= 300 || allowOrigin === null) {
      r.warn(
        "cors.preflight",
        `a CORS preflight from ${origin} got ${statusText(preflight)}${allowOrigin === null ? " without Access-Control-Allow-Origin" : ""}: browser-based clients cannot connect`,
        "answer preflights for the origins you serve (OAUTH_ALLOWED_ORIGINS), allowing Authorization and the MCP headers",
      );
    } else if (missing.length > 0) {
      r.warn(
        "cors.preflight",
        `the CORS preflight does not allow ${missing.join(", ")}`,
        "allow the Authorization, Content-Type, Mcp-Protocol-Version and Mcp-Session-Id request headers",
      );
    } else {
      r.pass("cors.preflight", "CORS preflight answered without authentication, Authorization allowed");
    }
  }

  const withOrigin = await ctx.http(ctx.resource, {
    method: "POST",
    headers: { ...MCP_HEADERS, origin },
    body: INITIALIZE,
  });
  if (withOrigin.ok && withOrigin.status === 401) {
    if (headerListIncludes(withOrigin.headers.get("access-control-expose-headers"), "www-authenticate")) {
      r.pass("cors.expose", "WWW-Authenticate is exposed to browser scripts");
    } else {
      r.warn(
        "cors.expose",
        "WWW-Authenticate is not in Access-Control-Expose-Headers: browser-based clients cannot read the challenge",
        "expose WWW-Authenticate and Mcp-Session-Id (Access-Control-Expose-Headers)",
      );
    }
  }
}

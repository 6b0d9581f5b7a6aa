/** The protected resource metadata (RFC 9728). */
import { WELL_KNOWN_PROTECTED_RESOURCE } from "@mcp-oauth/core";
import { normalizeResourceUri } from "@mcp-oauth/core/internal";
import { statusText, type HttpAnswer } from "./http.js";
import {
  type Context,
  type EndpointFindings,
  fetchDocument,
  type FetchedDocument,
  FOREIGN_ORIGIN,
  isHttpUrl,
  list,
  type MetadataFindings,
  quote,
  type Recorder,
  suggestedMetadataUrl,
} from "./context.js";

export async function checkResourceMetadata(
  ctx: Context,
  endpoint: EndpointFindings,
  expected: readonly string[] | undefined,
): Promise<MetadataFindings> {
  const r = ctx.section("resource_metadata");
  const root = `${ctx.url.origin}${WELL_KNOWN_PROTECTED_RESOURCE}`;
  const suffixed = suggestedMetadataUrl(ctx.url);
  const wellKnown = suffixed === root ? [root] : [suffixed, root];
  const urls = [...new Set([...(endpoint.resourceMetadata ? [endpoint.resourceMetadata] : []), ...wellKnown])];
  const fetched = new Map((await Promise.all(urls.map((u) => fetchDocument(ctx, u)))).map((f) => [f.url, f]));
  const publicFix =
    "serve the document publicly (never behind the auth check) at both URLs, as JSON: app.use(mcpOAuth(...)) does";

  const named = endpoint.resourceMetadata !== undefined ? fetched.get(endpoint.resourceMetadata)! : undefined;
  if (named !== undefined && named.document === undefined) {
    r.fail(
      "metadata.challenge_url",
      `the challenge names ${named.url}, which answers ${named.problem}: clients fetch only that URL`,
      publicFix,
    );
  } else if (named !== undefined && !wellKnown.includes(named.url)) {
    r.pass("metadata.challenge_url", `served at the URL the challenge names (${named.url})`);
  }
  if (suffixed !== root) {
    const f = fetched.get(suffixed)!;
    if (f.document !== undefined) r.pass("metadata.path_suffixed", `served at ${suffixed}`);
    else {
      r.warn(
        "metadata.path_suffixed",
        `not served at ${suffixed} (${f.problem}): clients try this URL first (RFC 9728 section 3.1)`,
        "serve it there too (mcpOAuth does, and OAuthAuthProvider on mcp-framework's own transports)",
      );
    }
  }
  const rootFetched = fetched.get(root)!;
  if (rootFetched.document !== undefined) r.pass("metadata.root", `served at ${root}`);
  else
    r.warn(
      "metadata.root",
      `not served at ${root} (${rootFetched.problem}): some clients read only the root`,
      "serve the document at the root URL as well",
    );

  const found = [...fetched.values()].filter((f) => f.document !== undefined);
  if (found.length === 0) {
    r.fail(
      "metadata.found",
      "no protected resource metadata anywhere a client looks: clients cannot find the authorization server",
      publicFix,
    );
    return { authorizationServers: [] };
  }

  // Identical documents are judged once; different ones each, named by URL.
  const groups = new Map<string, FetchedDocument[]>();
  for (const f of found) {
    const key = JSON.stringify(f.document);
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  if (groups.size > 1) {
    r.warn(
      "metadata.consistent",
      `the documents differ between ${found.map((f) => f.url).join(" and ")}`,
      "serve one document at every URL",
    );
  }
  const authorizationServers = new Set<string>();
  for (const docs of groups.values()) {
    const where = groups.size > 1 ? `${docs.map((d) => d.url).join(", ")}: ` : "";
    const first = docs[0]!;
    const doc = first.document!;
    const contentType = (first.answer as HttpAnswer).headers.get("content-type") ?? "";
    if (!/^application\/(?:[\w.+-]*\+)?json\b/i.test(contentType)) {
      r.warn(
        "metadata.content_type",
        `${where}Content-Type is ${quote(contentType)}, not application/json`,
        "answer with Content-Type: application/json",
      );
    }
    checkResourceField(ctx, r, where, doc["resource"]);
    const servers = doc["authorization_servers"];
    if (
      !Array.isArray(servers) ||
      servers.length === 0 ||
      !servers.every((s) => typeof s === "string" && isHttpUrl(s) !== undefined)
    ) {
      r.fail(
        "metadata.authorization_servers",
        `${where}authorization_servers is ${servers === undefined ? "missing" : JSON.stringify(servers)}: it must list at least one issuer URL`,
        "set OAUTH_AUTHORIZATION_SERVER to your authorization server's issuer, exactly as it publishes it",
      );
    } else {
      for (const s of servers as string[]) authorizationServers.add(s);
      r.pass("metadata.authorization_servers", `${where}authorization_servers: ${list(servers as string[])}`);
    }
    const scopes = doc["scopes_supported"];
    if (Array.isArray(scopes) && scopes.includes("offline_access")) {
      r.fail(
        "metadata.offline_access",
        `${where}scopes_supported lists offline_access: MCP clients must not ask the resource for it (MCP 2026-07-28)`,
        "remove offline_access from scopes_supported (OAUTH_SCOPES / scopesSupported); refresh tokens are between the client and the authorization server",
      );
    } else if (Array.isArray(scopes)) {
      r.pass(
        "metadata.scopes_supported",
        `${where}scopes_supported: ${scopes.length === 0 ? "(empty)" : scopes.join(" ")}`,
      );
    }
    const methods = doc["bearer_methods_supported"];
    if (Array.isArray(methods) && !methods.includes("header")) {
      r.warn(
        "metadata.bearer_methods",
        `${where}bearer_methods_supported is ${JSON.stringify(methods)}: MCP sends tokens only in the Authorization header`,
        'publish bearer_methods_supported: ["header"]',
      );
    }
  }

  if (expected !== undefined) {
    for (const issuer of expected) {
      if (!authorizationServers.has(issuer)) {
        r.fail(
          "metadata.expected_issuer",
          `authorization_servers does not list ${quote(issuer)} (it lists ${list([...authorizationServers]) || "nothing"})`,
          `set OAUTH_AUTHORIZATION_SERVER=${issuer}, exactly the issuer the authorization server publishes`,
        );
      }
    }
  }

  // CORS: browser-based clients (the MCP Inspector in a browser) read the document cross-origin.
  const cors = await ctx.http(found[0]!.url, { headers: { accept: "application/json", origin: FOREIGN_ORIGIN } });
  if (cors.ok) {
    const allow = cors.headers.get("access-control-allow-origin");
    if (cors.status === 200 && (allow === "*" || allow === FOREIGN_ORIGIN))
      r.pass("metadata.cors", `readable from any origin (Access-Control-Allow-Origin: ${allow})`);
    else {
      r.warn(
        "metadata.cors",
        `a request from another origin got ${statusText(cors)} with Access-Control-Allow-Origin ${allow === null ? "missing" : quote(allow)}: browser-based clients cannot read the metadata`,
        "answer the metadata with Access-Control-Allow-Origin: * (it is public)",
      );
    }
  }
  return { authorizationServers: [...authorizationServers], document: found[0]!.document! };
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
    const why =
      resource.replace(/\/$/, "") === expected.replace(/\/$/, "")
        ? "differs only by a trailing slash"
        : "differs only in case";
    r.fail(
      "metadata.resource",
      `${where}resource ${quote(resource)} ${why} from the endpoint ${quote(expected)}: clients (VS Code) compare exactly and send resource verbatim as the RFC 8707 parameter`,
      `${fix} (no trailing slash; new URL(...).href adds one to a bare origin)`,
    );
    return;
  }
  const base = resource.replace(/\/$/, "");
  if (expected.startsWith(`${base}/`) || (expected.startsWith(base) && expected[base.length] === "?")) {
    r.warn(
      "metadata.resource",
      `${where}resource ${quote(resource)} is a prefix of the endpoint ${quote(expected)}: allowed by the SDKs, refused by clients that want equality (VS Code)`,
      fix,
    );
    return;
  }
  // `localhost` against `127.0.0.1` (or a name against its address): one machine, two origins
  // (RFC 6454 compares hosts as strings), so the Origin rule of the MCP transport refuses the other.
  const published = isHttpUrl(resource);
  const checked = ctx.url;
  if (
    published !== undefined &&
    published.hostname !== checked.hostname &&
    `${published.protocol}${published.port}${published.pathname}${published.search}` ===
      `${checked.protocol}${checked.port}${checked.pathname}${checked.search}`
  ) {
    r.fail(
      "metadata.resource",
      `${where}resource ${quote(resource)} names the host ${published.hostname}, the URL checked ${checked.hostname}: both may reach this server, ` +
        `but they are different URLs and different origins. Clients refuse metadata for another resource, and browsers ` +
        `and the MCP Origin rule (DNS rebinding protection) treat ${checked.origin} and ${published.origin} as two ` +
        `origins: a browser-based client served from one is refused (403) by a server whose resource is the other`,
      `spell the host one way everywhere: give clients ${resource}, or set OAUTH_RESOURCE=${expected} if they use that one`,
    );
    return;
  }
  r.fail(
    "metadata.resource",
    `${where}resource ${quote(resource)} is not the endpoint ${quote(expected)}: clients refuse metadata for another resource`,
    `${fix} (or pass the URL clients really use as --resource)`,
  );
}

/** Each authorization server: metadata (RFC 8414, OpenID Connect Discovery) and keys. */
import { isLoopbackHost, metadataUrls, reportFor, type AuthorizationServerMetadata } from "@mcp-oauth/core/internal";
import { inspectKeySet, type KeyReport } from "./jwks.js";
import {
  type AuthorizationServerFindings,
  type Context,
  fetchDocument,
  isHttpUrl,
  quote,
  startScript,
} from "./context.js";

const ISSUER_FORMS =
  "Auth0 https://TENANT.auth0.com/ (with the slash), Okta https://ORG.okta.com/oauth2/default, Cognito https://cognito-idp.REGION.amazonaws.com/POOL_ID, " +
  "Entra https://login.microsoftonline.com/TENANT/v2.0, Keycloak https://HOST/realms/REALM";

export async function checkAuthorizationServer(
  ctx: Context,
  issuer: string,
  fromMetadata: boolean,
): Promise<AuthorizationServerFindings> {
  const r = ctx.section("authorization_server", issuer);
  const findings: AuthorizationServerFindings = { issuer };
  const url = isHttpUrl(issuer);
  if (url === undefined) {
    r.fail(
      "as.issuer_url",
      `${quote(issuer)} is not an http(s) URL`,
      `an issuer is an https URL, e.g. ${ISSUER_FORMS}`,
    );
    return findings;
  }
  if (url.search !== "" || url.hash !== "") {
    r.fail(
      "as.issuer_url",
      "the issuer has a query or fragment, which RFC 8414 section 2 forbids",
      "use the issuer exactly as the authorization server publishes it",
    );
  } else if (url.protocol === "http:" && !isLoopbackHost(url.hostname)) {
    r.fail(
      "as.issuer_url",
      `plain http on ${url.hostname}: MCP clients require https authorization servers outside loopback`,
      "use the authorization server's https issuer",
    );
  }

  const urls = metadataUrls(issuer);
  const fetched = await Promise.all(urls.map((u) => fetchDocument(ctx, u)));
  const found = fetched.filter((f) => f.document !== undefined && typeof f.document["issuer"] === "string");
  const unanswered = fetched.flatMap((f) => (f.answer.ok ? [] : [f.answer.error]));
  if (unanswered.length === fetched.length) {
    // No HTTP answer at all: the issuer's form is not the problem, reaching it is.
    r.fail(
      "as.metadata",
      `nothing answers at ${issuer} (${[...new Set(unanswered)].join("; ")})`,
      isLoopbackHost(url.hostname)
        ? (startScript(ctx, "auth-server", url) ??
            `start the authorization server at ${issuer}, or correct the issuer (OAUTH_AUTHORIZATION_SERVER)`)
        : `check that ${url.host} is reachable from here, and the issuer: ${ISSUER_FORMS}`,
    );
    return findings;
  }
  if (found.length === 0) {
    r.fail(
      "as.metadata",
      `no authorization server metadata (${fetched.map((f) => `${f.url}: ${f.problem ?? "no issuer field"}`).join("; ")})`,
      `check the issuer URL; it must be exactly the issuer the server publishes: ${ISSUER_FORMS}`,
    );
    return findings;
  }
  const form = (u: string): string =>
    u.includes("/.well-known/oauth-authorization-server") ? "RFC 8414" : "OpenID Connect";
  r.pass("as.metadata", `metadata at ${found.map((f) => `${f.url} (${form(f.url)})`).join(", ")}`);

  const mismatched = found.filter((f) => f.document!["issuer"] !== issuer);
  for (const f of mismatched) {
    const published = String(f.document!["issuer"]);
    const slash =
      published.replace(/\/$/, "") === issuer.replace(/\/$/, "") ? " (they differ by a trailing slash)" : "";
    r.fail(
      "as.issuer",
      `metadata at ${f.url} names issuer ${quote(published)}, not ${quote(issuer)}${slash}: clients reject the mismatch (RFC 8414 section 3.3)`,
      fromMetadata
        ? `set OAUTH_AUTHORIZATION_SERVER=${published} so authorization_servers names the issuer byte for byte`
        : `use the published issuer: --authorization-server ${published} and OAUTH_AUTHORIZATION_SERVER=${published}`,
    );
  }
  if (mismatched.length === 0) r.pass("as.issuer", `issuer is exactly ${quote(issuer)}`);

  const chosen = found.find((f) => f.document!["issuer"] === issuer) ?? found[0]!;
  const metadata = chosen.document as AuthorizationServerMetadata;
  findings.metadata = metadata;
  const report = reportFor(issuer, { url: chosen.url, metadata });

  const missing = ["authorization_endpoint", "token_endpoint"].filter((f) => typeof metadata[f] !== "string");
  if (missing.length > 0) {
    r.fail(
      "as.endpoints",
      `metadata lacks ${missing.join(" and ")}: clients cannot run the authorization code flow`,
      "publish authorization_endpoint and token_endpoint in the metadata",
    );
  } else {
    r.pass("as.endpoints", "authorization_endpoint and token_endpoint published");
  }

  if (report.pkceS256) r.pass("as.pkce", "PKCE S256 advertised (code_challenge_methods_supported)");
  else {
    const methods = metadata.code_challenge_methods_supported;
    r.fail(
      "as.pkce",
      `code_challenge_methods_supported ${Array.isArray(methods) ? `is ${JSON.stringify(methods)}` : "is missing"}: MCP clients refuse an authorization server without S256`,
      'enable PKCE with S256 at the authorization server and advertise code_challenge_methods_supported: ["S256"]',
    );
  }

  const ways = [
    ...(report.registrationEndpoint
      ? [`dynamic client registration (RFC 7591) at ${report.registrationEndpoint}`]
      : []),
    ...(report.clientIdMetadataDocumentSupported ? ["Client ID Metadata Documents"] : []),
  ];
  if (ways.length > 0) r.pass("as.registration", `clients can get a client id: ${ways.join("; ")}`);
  else {
    r.warn(
      "as.registration",
      "no registration_endpoint and no client_id_metadata_document_supported: MCP clients cannot get a client id on their own",
      "pre-register a client per MCP client application and give users its client id (most MCP clients accept one), enable dynamic registration, or put a proxy authorization server with registration in front (docs/providers)",
    );
  }

  if (report.jwksUri === undefined) {
    r.warn(
      "as.jwks",
      "no jwks_uri: tokens can only be checked by introspection",
      "use OAUTH_VALIDATION=introspection, or set OAUTH_JWKS_URI if the keys are published elsewhere",
    );
    return findings;
  }
  findings.jwksUri = report.jwksUri;
  const jwks = await fetchDocument(ctx, report.jwksUri);
  if (jwks.document === undefined) {
    r.fail(
      "as.jwks",
      `key set at ${report.jwksUri}: ${jwks.problem}`,
      "JWTs cannot be validated without it: check jwks_uri, or OAUTH_JWKS_URI on the server",
    );
    return findings;
  }
  const keys = inspectKeySet(jwks.document);
  if ("error" in keys) {
    r.fail(
      "as.jwks",
      `key set at ${report.jwksUri}: ${keys.error}`,
      "jwks_uri must serve a JSON Web Key Set (RFC 7517 section 5)",
    );
    return findings;
  }
  findings.keys = keys;
  if (keys.privateKeys.length > 0) {
    r.fail(
      "as.jwks_private",
      `the key set publishes private key material (${keys.privateKeys.join(", ")})`,
      "remove the private members (d, p, q, dp, dq, qi, k) from the published keys, and rotate those keys: anyone could sign tokens with them",
    );
  }
  if (keys.usable.length === 0) {
    r.fail(
      "as.jwks",
      `key set at ${report.jwksUri} has no usable public signing key${keys.skipped.length > 0 ? ` (${keys.skipped.join("; ")})` : ""}`,
      "publish the public RSA, EC or OKP keys that sign access tokens",
    );
    return findings;
  }
  const describeKey = (k: KeyReport["usable"][number]): string =>
    `${k.kid !== undefined ? quote(k.kid) : "no kid"} ${k.alg ?? k.kty}`;
  r.pass(
    "as.jwks",
    `key set at ${report.jwksUri}: ${keys.usable.length} signing key${keys.usable.length === 1 ? "" : "s"} (${keys.usable.map(describeKey).join(", ")})`,
  );
  return findings;
}

/** An optional real token: its claims checked, tried once against the endpoint. Never printed. */
import { AudienceMatcher, decodeJwt, looksLikeJwt, scopesFromClaims } from "@mcp-oauth/core/internal";
import { statusText, type HttpResult } from "./http.js";
import { verifyJws } from "./jwks.js";
import { findChallenge, parseWwwAuthenticate } from "./www-authenticate.js";
import { boundThumbprint, probe } from "./dpop.js";
import {
  type AuthorizationServerFindings,
  type Context,
  type EndpointFindings,
  list,
  quote,
  type Recorder,
  SCOPE_CLAIMS,
} from "./context.js";

export async function checkToken(
  ctx: Context,
  token: string,
  endpoint: EndpointFindings,
  servers: AuthorizationServerFindings[],
  issuers: readonly string[],
): Promise<void> {
  const r = ctx.section("token");
  // The live call first: whether the server accepts the token decides how hard claim
  // mismatches are judged (OAUTH_AUDIENCE / OAUTH_ISSUER may accept other forms).
  // A DPoP-bound token is usable only with a proof of the client's key, which the doctor does
  // not hold: it is not tried here (the DPoP checks send it without a proof, to be refused).
  const bound = boundThumbprint(token) !== undefined;
  const live = endpoint.reachable && !bound ? await tryToken(ctx, token) : undefined;
  const accepted = live?.ok === true && live.status >= 200 && live.status < 300;
  const mismatch: "warn" | "fail" = accepted ? "warn" : "fail";

  if (!looksLikeJwt(token) && accepted) {
    r.pass(
      "token.format",
      "opaque token (not a JWT): the endpoint accepted it, so it reads it by introspection; claims cannot be shown",
    );
  } else if (!looksLikeJwt(token)) {
    r.warn(
      "token.format",
      "opaque token (not a JWT): only the authorization server can read it, so only the call to the endpoint checks it",
      "nothing to change if the server uses OAUTH_VALIDATION=introspection; a JWT-validating server refuses it (at Auth0 an opaque token means no audience was requested)",
    );
  } else {
    let decoded: ReturnType<typeof decodeJwt> | undefined;
    try {
      decoded = decodeJwt(token);
    } catch (error) {
      r.fail(
        "token.format",
        `the token looks like a JWT but cannot be decoded: ${(error as Error).message}`,
        "pass the access token itself, not the whole token response or another credential",
      );
    }
    if (decoded !== undefined) checkClaims(ctx, r, token, decoded, { endpoint, servers, issuers, mismatch, accepted });
  }

  if (bound && endpoint.reachable) {
    r.pass(
      "token.accepted",
      "not tried: the token is DPoP-bound (cnf.jkt), so only a request with a proof of the client's key may use it; the DPoP checks below send it without one",
    );
  }
  if (live === undefined) return;
  if (!live.ok) {
    r.fail(
      "token.accepted",
      `calling the endpoint with the token failed: ${live.error}`,
      "check that the server is reachable",
    );
    return;
  }
  if (accepted) {
    r.pass("token.accepted", `the MCP endpoint accepted the token (${statusText(live)})`);
    return;
  }
  const challenge = findChallenge(parseWwwAuthenticate(live.headers.get("www-authenticate") ?? ""), "Bearer");
  const error = challenge?.params.get("error")?.value;
  const description = challenge?.params.get("error_description")?.value;
  const detail = [error ? `error=${quote(error)}` : "", description ? `error_description=${quote(description)}` : ""]
    .filter((s) => s !== "")
    .join(" ");
  if (live.status === 403 && error === "insufficient_scope") {
    const needed = challenge?.params.get("scope")?.value ?? "";
    r.fail(
      "token.accepted",
      `the endpoint wants more scope: 403 insufficient_scope${needed ? ` (scope=${quote(needed)})` : ""}`,
      `request the token with scope=${quote(needed || endpoint.scopes.join(" "))}`,
    );
  } else if (live.status === 503) {
    r.fail(
      "token.accepted",
      `the server could not check the token (HTTP 503${detail ? `, ${detail}` : ""}): its key set or introspection endpoint is unreachable from the server`,
      "make the authorization server reachable from the MCP server; check OAUTH_JWKS_URI, OAUTH_INTROSPECTION_ENDPOINT and the introspection credentials",
    );
  } else {
    r.fail(
      "token.accepted",
      `the MCP endpoint refused the token: ${statusText(live)}${detail ? ` ${detail}` : ""}`,
      "compare the token's issuer and audience above with OAUTH_AUTHORIZATION_SERVER, OAUTH_ISSUER and OAUTH_AUDIENCE on the server",
    );
  }
}

const tryToken = (ctx: Context, token: string): Promise<HttpResult> => probe(ctx, `Bearer ${token}`);

interface ClaimContext {
  endpoint: EndpointFindings;
  servers: AuthorizationServerFindings[];
  issuers: readonly string[];
  mismatch: "warn" | "fail";
  accepted: boolean;
}

function checkClaims(
  ctx: Context,
  r: Recorder,
  token: string,
  decoded: ReturnType<typeof decodeJwt>,
  c: ClaimContext,
): void {
  const { header, payload } = decoded;
  const alg = typeof header["alg"] === "string" ? header["alg"] : "";
  if (alg === "" || alg.toLowerCase() === "none") {
    r.fail(
      "token.alg",
      `alg is ${quote(alg || "missing")}: an unsigned token is never accepted (RFC 8725)`,
      "get a signed access token from the authorization server",
    );
  } else if (alg.startsWith("HS")) {
    r.warn(
      "token.alg",
      `alg ${alg}: HMAC-signed, so only a server holding the shared secret can check it`,
      "prefer asymmetric signatures (RS256, ES256) for access tokens",
    );
  }

  const iss = payload["iss"];
  if (typeof iss !== "string") {
    r.fail(
      "token.issuer",
      "the token has no iss claim",
      "get an access token from the authorization server (not an ID token or a self-made token)",
    );
  } else if (c.issuers.includes(iss)) {
    r.pass("token.issuer", `issuer ${quote(iss)}`);
  } else {
    r.add(
      c.mismatch,
      "token.issuer",
      `issuer ${quote(iss)} is not an authorization server of this resource (${list(c.issuers) || "none known"})${c.accepted ? ", yet the server accepts it (OAUTH_ISSUER)" : ""}`,
      `get the token from ${c.issuers[0] ?? "the resource's authorization server"}; if ${quote(iss)} is another form of the same server (Entra v1 https://sts.windows.net/TENANT/), list it in OAUTH_ISSUER`,
    );
  }

  const aud = payload["aud"];
  const audText = Array.isArray(aud)
    ? list(aud.filter((a): a is string => typeof a === "string"))
    : typeof aud === "string"
      ? quote(aud)
      : "";
  const audienceFix = `clients must request the token with resource=${ctx.resource} (RFC 8707); where the authorization server fixes the audience (Okta api://default, Entra's app id, Auth0's API identifier), list it in OAUTH_AUDIENCE`;
  if (new AudienceMatcher([ctx.resource]).matches(aud)) {
    r.pass("token.audience", `audience ${audText} is this resource`);
  } else if (aud === undefined && typeof payload["client_id"] === "string") {
    r.add(
      c.mismatch,
      "token.audience",
      `no aud claim, client_id ${quote(payload["client_id"])} (AWS Cognito access tokens): accepted only with an explicit client-id opt-in`,
      "list the app client ids in the Cognito preset's clientIds (validation.clientIdAsAudience)",
    );
  } else if (aud === undefined) {
    r.fail("token.audience", "no aud claim: nothing says the token was issued for this server", audienceFix);
  } else {
    r.add(
      c.mismatch,
      "token.audience",
      `audience ${audText} is not this resource (${quote(ctx.resource)})${c.accepted ? ", yet the server accepts it (OAUTH_AUDIENCE)" : ""}`,
      audienceFix,
    );
  }

  const now = Math.floor(Date.now() / 1000);
  const exp = payload["exp"];
  if (typeof exp !== "number") {
    r.fail(
      "token.expiry",
      "the token has no exp claim: tokens without expiry are refused",
      "configure the authorization server to issue expiring access tokens",
    );
  } else if (exp <= now) {
    r.fail(
      "token.expiry",
      `expired ${duration(now - exp)} ago (${new Date(exp * 1000).toISOString()})`,
      "get a fresh token",
    );
  } else {
    r.pass("token.expiry", `expires in ${duration(exp - now)} (${new Date(exp * 1000).toISOString()})`);
  }
  const nbf = payload["nbf"];
  if (typeof nbf === "number" && nbf > now + 60) {
    r.fail(
      "token.expiry",
      `not valid before ${new Date(nbf * 1000).toISOString()}`,
      "check the clocks of the authorization server and this machine",
    );
  }

  const scopes = scopesFromClaims(payload, SCOPE_CLAIMS);
  const lacking = c.endpoint.scopes.filter((s) => !scopes.includes(s));
  if (lacking.length > 0) {
    r.add(
      c.accepted ? "warn" : "fail",
      "token.scopes",
      `scopes ${scopes.length > 0 ? quote(scopes.join(" ")) : "(none)"} lack ${quote(lacking.join(" "))}, which the challenge asks for`,
      `request the token with scope=${quote(c.endpoint.scopes.join(" "))}`,
    );
  } else {
    r.pass("token.scopes", `scopes ${scopes.length > 0 ? quote(scopes.join(" ")) : "(none)"}`);
  }

  const who = [
    typeof payload["sub"] === "string" ? `subject ${quote(payload["sub"])}` : "",
    ...["client_id", "azp", "cid", "appid"]
      .filter((k) => typeof payload[k] === "string")
      .slice(0, 1)
      .map((k) => `client ${quote(String(payload[k]))}`),
    typeof header["typ"] === "string" ? `typ ${quote(header["typ"])}` : "",
  ].filter((s) => s !== "");
  if (who.length > 0) r.pass("token.subject", who.join(", "));

  // Signature, against the key set of the token's own issuer when it is one we checked.
  if (alg.startsWith("HS") || alg === "" || alg.toLowerCase() === "none") return;
  const server =
    c.servers.find((s) => s.issuer === iss && s.keys !== undefined) ?? c.servers.find((s) => s.keys !== undefined);
  if (server === undefined || server.keys === undefined) {
    r.warn("token.signature", "no key set to check the signature against", "see the authorization server checks above");
    return;
  }
  const kid = typeof header["kid"] === "string" ? header["kid"] : undefined;
  const candidates = server.keys.usable.filter((k) => kid === undefined || k.kid === kid);
  const match = candidates.find((k) => verifyJws(token, alg, k.key));
  if (match !== undefined) {
    r.pass(
      "token.signature",
      `signature verifies with ${match.kid !== undefined ? `key ${quote(match.kid)}` : "a key"} from ${server.jwksUri}`,
    );
  } else {
    r.fail(
      "token.signature",
      `no key in ${server.jwksUri} verifies the signature${kid !== undefined && candidates.length === 0 ? ` (no key with kid ${quote(kid)})` : ""}`,
      `the token was signed by another server or a rotated key: get a fresh token from ${server.issuer}`,
    );
  }
}

function duration(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86_400)} days`;
}

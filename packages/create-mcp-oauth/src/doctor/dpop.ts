/**
 * DPoP (RFC 9449, the MCP DPoP extension draft): whether the server advertises it (the
 * protected resource metadata members of RFC 9728 section 2 and the `DPoP` challenge of
 * RFC 9449 section 7.1, which must agree), and whether it enforces it, as far as a client
 * without the token's key can tell: the `DPoP` scheme without a proof is refused, and a
 * DPoP-bound token (`cnf.jkt`) sent as `Bearer` is refused (section 7.2, a downgrade). The
 * doctor never makes a proof for someone else's token and never prints the token.
 */
import { decodeJwt, looksLikeJwt } from "@mcp-oauth/core/internal";
import { statusText, type HttpResult } from "./http.js";
import { findChallenge, parseWwwAuthenticate, type Challenge } from "./www-authenticate.js";
import {
  type Context,
  type EndpointFindings,
  INITIALIZE,
  list,
  MCP_HEADERS,
  type MetadataFindings,
  PROTOCOL_VERSION,
  quote,
} from "./context.js";

/** What the server says about DPoP, from its metadata and its 401 challenge. */
interface Advertised {
  algorithms: string[] | undefined;
  required: boolean | undefined;
  challenge: Challenge | undefined;
}

/** Algorithms a proof must never use (RFC 9449 section 4.3: asymmetric only). */
const isSymmetricOrNone = (alg: string): boolean => alg.toLowerCase() === "none" || /^HS\d+$/i.test(alg);

/** A token's `cnf.jkt`, when it is a JWT bound to a key (RFC 9449 section 6.1). */
export function boundThumbprint(token: string): string | undefined {
  if (!looksLikeJwt(token)) return undefined;
  try {
    const cnf = decodeJwt(token).payload["cnf"] as { jkt?: unknown } | undefined;
    return typeof cnf?.jkt === "string" ? cnf.jkt : undefined;
  } catch {
    return undefined;
  }
}

/** An MCP initialize with these credentials; a session it opened is ended at once (nothing left behind). */
export async function probe(ctx: Context, authorization: string): Promise<HttpResult> {
  const answer = await ctx.http(ctx.resource, {
    method: "POST",
    headers: { ...MCP_HEADERS, authorization },
    body: INITIALIZE,
  });
  const session = answer.ok ? answer.headers.get("mcp-session-id") : null;
  if (session !== null) {
    await ctx.http(ctx.resource, {
      method: "DELETE",
      headers: { authorization, "mcp-session-id": session, "mcp-protocol-version": PROTOCOL_VERSION },
    });
  }
  return answer;
}

const accepted = (answer: HttpResult): boolean => answer.ok && answer.status >= 200 && answer.status < 300;

const errorOf = (answer: HttpResult, scheme: "Bearer" | "DPoP"): string | undefined =>
  answer.ok
    ? findChallenge(parseWwwAuthenticate(answer.headers.get("www-authenticate") ?? ""), scheme)?.params.get("error")
        ?.value
    : undefined;

export async function checkDpop(
  ctx: Context,
  endpoint: EndpointFindings,
  metadata: MetadataFindings,
  token: string | undefined,
): Promise<void> {
  const r = ctx.section("dpop");
  const document = metadata.document ?? {};
  const algs = document["dpop_signing_alg_values_supported"];
  const required = document["dpop_bound_access_tokens_required"];
  const challenge =
    endpoint.challenge === undefined ? undefined : findChallenge(parseWwwAuthenticate(endpoint.challenge), "DPoP");
  const advertised: Advertised = {
    algorithms: Array.isArray(algs) && algs.every((a) => typeof a === "string") ? algs : undefined,
    required: typeof required === "boolean" ? required : undefined,
    challenge,
  };

  if (algs !== undefined && advertised.algorithms === undefined) {
    r.fail(
      "dpop.metadata",
      `dpop_signing_alg_values_supported is ${JSON.stringify(algs)}: it must be an array of algorithm names (RFC 9728 section 2)`,
      'publish e.g. "dpop_signing_alg_values_supported": ["ES256"] (OAUTH_DPOP_ALGS)',
    );
  } else if (advertised.algorithms !== undefined && advertised.algorithms.length === 0) {
    r.fail(
      "dpop.metadata",
      "dpop_signing_alg_values_supported is empty: no client can make a proof the server accepts",
      "list the accepted proof algorithms (OAUTH_DPOP_ALGS, default ES256, PS256, RS256, EdDSA)",
    );
  } else if (advertised.algorithms?.some(isSymmetricOrNone)) {
    r.fail(
      "dpop.metadata",
      `dpop_signing_alg_values_supported lists ${list(advertised.algorithms.filter(isSymmetricOrNone))}: a proof must be signed with a private key (RFC 9449 section 4.3)`,
      "accept asymmetric algorithms only (OAUTH_DPOP_ALGS)",
    );
  }
  if (required !== undefined && advertised.required === undefined) {
    r.fail(
      "dpop.metadata",
      `dpop_bound_access_tokens_required is ${JSON.stringify(required)}: it must be true or false (RFC 9728 section 2)`,
      "publish a JSON boolean",
    );
  }

  const inMetadata = advertised.algorithms !== undefined && advertised.algorithms.length > 0;
  if (!inMetadata && challenge === undefined) {
    if (advertised.required === true) {
      r.fail(
        "dpop.advertised",
        "dpop_bound_access_tokens_required is true, but no proof algorithm is advertised: clients cannot comply",
        "publish dpop_signing_alg_values_supported (OAUTH_DPOP_ALGS) or set OAUTH_DPOP=allowed",
      );
    } else {
      r.pass(
        "dpop.advertised",
        "DPoP not advertised (no dpop_signing_alg_values_supported, no DPoP challenge): Bearer tokens only",
      );
    }
  } else {
    const challengeAlgs = challenge?.params
      .get("algs")
      ?.value.split(" ")
      .filter((a) => a !== "");
    const mode = advertised.required === true ? "required" : "accepted next to Bearer";
    if (inMetadata) {
      r.pass(
        "dpop.advertised",
        `DPoP ${mode}: dpop_signing_alg_values_supported ${list(advertised.algorithms!)}, dpop_bound_access_tokens_required ${String(advertised.required ?? false)}`,
      );
    } else {
      r.warn(
        "dpop.advertised",
        `the challenge offers DPoP (algs=${quote(challengeAlgs?.join(" ") ?? "")}) but the metadata does not list dpop_signing_alg_values_supported`,
        "publish dpop_signing_alg_values_supported (and dpop_bound_access_tokens_required) in the protected resource metadata, matching what is enforced",
      );
    }
    if (challenge === undefined) {
      r.warn(
        "dpop.challenge",
        "the metadata advertises DPoP, but the 401 challenge has no DPoP challenge: clients that read only the challenge do not learn it (RFC 9449 section 7.1)",
        'answer 401 with WWW-Authenticate: DPoP algs="..." (next to the Bearer challenge where Bearer is accepted)',
      );
    } else if (challengeAlgs === undefined) {
      r.warn(
        "dpop.challenge",
        "the DPoP challenge has no algs: clients cannot tell which proof algorithms are accepted (RFC 9449 section 7.1)",
        `add algs="${(advertised.algorithms ?? ["ES256"]).join(" ")}" to the DPoP challenge`,
      );
    } else if (
      inMetadata &&
      (challengeAlgs.length !== advertised.algorithms!.length ||
        challengeAlgs.some((a) => !advertised.algorithms!.includes(a)))
    ) {
      r.warn(
        "dpop.challenge",
        `the DPoP challenge offers algs=${quote(challengeAlgs.join(" "))}, the metadata ${list(advertised.algorithms!)}: they must say the same`,
        "derive both from one setting (OAUTH_DPOP_ALGS)",
      );
    } else {
      r.pass("dpop.challenge", `the 401 challenge offers DPoP algs=${quote(challengeAlgs.join(" "))}`);
    }
    const bearer =
      endpoint.challenge === undefined ? undefined : findChallenge(parseWwwAuthenticate(endpoint.challenge), "Bearer");
    if (advertised.required === true && bearer !== undefined) {
      r.warn(
        "dpop.required_challenge",
        "DPoP is required (dpop_bound_access_tokens_required), yet the 401 challenge still offers Bearer",
        "with DPoP required, answer with the DPoP challenge only",
      );
    }
  }

  if (!endpoint.reachable) return;
  const dpopAdvertised = inMetadata || challenge !== undefined;
  // The DPoP scheme with no proof: with the real token when given (a server that takes the
  // scheme as another name for Bearer accepts it), otherwise with a placeholder.
  const presented = token !== undefined && token !== "" ? token : "mcp-oauth-doctor-probe";
  const unproven = await probe(ctx, `DPoP ${presented}`);
  if (!unproven.ok) {
    r.fail(
      "dpop.unproven",
      `the request with the DPoP scheme and no proof failed: ${unproven.error}`,
      "check that the server is reachable",
    );
  } else if (accepted(unproven)) {
    r.fail(
      "dpop.unproven",
      `Authorization: DPoP with ${presented === token ? "the token" : "a placeholder token"} and no DPoP proof was accepted (${statusText(unproven)}): the server does not check possession`,
      "check the DPoP proof on every request with the DPoP scheme (RFC 9449 section 4.3): OAUTH_DPOP=allowed or required with @mcp-oauth",
    );
  } else if (dpopAdvertised && presented === token && unproven.status === 401) {
    const error = errorOf(unproven, "DPoP");
    if (error === "invalid_dpop_proof" || error === "use_dpop_nonce") {
      r.pass("dpop.unproven", `the DPoP scheme without a proof is refused: 401 DPoP error=${quote(error)}`);
    } else {
      r.warn(
        "dpop.unproven",
        `the DPoP scheme without a proof is refused (401), but the DPoP challenge says error=${quote(error ?? "")}, not invalid_dpop_proof`,
        'answer a missing or bad proof with WWW-Authenticate: DPoP error="invalid_dpop_proof" (RFC 9449 section 7.1)',
      );
    }
  } else {
    r.pass("dpop.unproven", `the DPoP scheme without a proof is refused (${statusText(unproven)})`);
  }

  const jkt = token === undefined ? undefined : boundThumbprint(token);
  if (token === undefined || jkt === undefined) return;
  const asBearer = await probe(ctx, `Bearer ${token}`);
  if (!asBearer.ok) {
    r.fail(
      "dpop.bound_as_bearer",
      `the request with the token as Bearer failed: ${asBearer.error}`,
      "check that the server is reachable",
    );
  } else if (accepted(asBearer)) {
    r.fail(
      "dpop.bound_as_bearer",
      `the token is DPoP-bound (cnf.jkt), yet it was accepted as Bearer (${statusText(asBearer)}): whoever copies it can use it without the key (RFC 9449 section 7.2)`,
      "refuse a token with cnf.jkt under the Bearer scheme: OAUTH_DPOP=allowed or required with @mcp-oauth",
    );
  } else {
    const error = errorOf(asBearer, "Bearer") ?? errorOf(asBearer, "DPoP");
    r.pass(
      "dpop.bound_as_bearer",
      `the DPoP-bound token (cnf.jkt) sent as Bearer is refused (${statusText(asBearer)}${error ? ` error=${quote(error)}` : ""})`,
    );
  }
}

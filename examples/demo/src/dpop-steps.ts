/**
 * The DPoP part of the demo's flow (RFC 9449, the MCP DPoP extension draft): how each SDK
 * generation proves possession, and the checks that only a DPoP run makes. SDK v2 has DPoP
 * built in (`OAuthClientProvider.dpop()` returning its `DpopSession`); SDK v1 gets it from the
 * reference client (dpop-client.ts) on its `fetch` option. Nothing here prints a token, a
 * proof or a `DPoP` header value.
 */
import { DpopSession } from "@modelcontextprotocol/client";
import { DpopClient, parseChallenges, type Challenge } from "./dpop-client.js";
import type { ClientGeneration } from "./flow.js";

/** What the flow needs from the client's DPoP side, whichever the SDK generation. */
export interface DemoDpop {
  /** RFC 7638 thumbprint of the client's key: the `cnf.jkt` of its tokens. */
  readonly thumbprint: string;
  /** The transport's `fetch`: v1's wrapped by the reference client, v2's as is (the SDK wraps it). */
  transportFetch(next: typeof fetch): typeof fetch;
  /** For the provider's `dpop` option (SDK v2 only). */
  readonly session: (() => Promise<unknown>) | undefined;
  /** The nonce last received from `url`'s origin (RFC 9449 section 8.2), if any. */
  nonceFor(url: URL): string | undefined;
  /** A fresh proof for one request, with the nonce last received from its origin. */
  proof(method: string, url: URL, accessToken: string): Promise<string>;
}

export async function createDemoDpop(generation: ClientGeneration): Promise<DemoDpop> {
  if (generation === "v2") {
    const session = await DpopSession.create({ alg: "ES256" });
    return {
      thumbprint: session.thumbprint,
      transportFetch: (next) => next,
      session: async () => session,
      nonceFor: (url) => session.nonceFor(url),
      proof: (method, url, accessToken) => session.buildProof({ htm: method, htu: url, accessToken }),
    };
  }
  const client = await DpopClient.create({ alg: "ES256" });
  return {
    thumbprint: client.thumbprint,
    transportFetch: (next) => client.fetch(next, { bearerChallengeForSdkV1: true }),
    session: undefined,
    nonceFor: (url) => client.nonceFor(url),
    proof: (method, url, accessToken) => client.proof({ method, url, accessToken }),
  };
}

/** The `cnf.jkt` of a JWT access token; undefined for an opaque one (introspection reads it). */
export function boundThumbprintOf(accessToken: string): string | undefined {
  const parts = accessToken.split(".");
  if (parts.length !== 3) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8")) as { cnf?: { jkt?: unknown } };
    return typeof claims.cnf?.jkt === "string" ? claims.cnf.jkt : undefined;
  } catch {
    return undefined;
  }
}

/** The challenge of a scheme in a `WWW-Authenticate` value. */
export function challengeOf(header: string | null, scheme: "Bearer" | "DPoP"): Challenge | undefined {
  return parseChallenges(header ?? "").find((c) => c.scheme.toLowerCase() === scheme.toLowerCase());
}

export type Expect = (ok: boolean, what: string, detail?: string) => void;

const INITIALIZE = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "demo", version: "0" } },
});

/** One MCP `initialize` POST with the given credentials headers; the answer's status and challenge. */
async function post(url: URL, headers: Record<string, string>): Promise<{ status: number; challenge: string | null }> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
    body: INITIALIZE,
  });
  await response.body?.cancel();
  return { status: response.status, challenge: response.headers.get("www-authenticate") };
}

/**
 * The refusals a DPoP resource server owes (RFC 9449 sections 4.3, 7.1 and 7.2): a proof used
 * twice, the bound token under the Bearer scheme, the DPoP scheme with no proof.
 */
export async function checkDpopRefusals(
  url: URL,
  accessToken: string,
  dpop: DemoDpop,
  expect: Expect,
  log: (line: string) => void,
  required = false,
): Promise<void> {
  const show = (what: string, answer: { status: number; challenge: string | null }): void =>
    log(`   ${what}: POST ${url.origin}${url.pathname} -> ${answer.status}  WWW-Authenticate: ${answer.challenge}`);

  const proof = await dpop.proof("POST", url, accessToken);
  const credentials = { authorization: `DPoP ${accessToken}`, dpop: proof };
  const first = await post(url, credentials);
  show("fresh proof", first);
  expect(first.status === 200, "a fresh proof with the bound token is accepted", `got ${first.status}`);
  const replayed = await post(url, credentials);
  show("same proof again", replayed);
  expect(
    replayed.status === 401 && challengeOf(replayed.challenge, "DPoP")?.params["error"] === "invalid_dpop_proof",
    'the same proof again is refused: 401, DPoP error="invalid_dpop_proof" (replay, RFC 9449 section 11.1)',
    `got ${replayed.status}`,
  );

  const asBearer = await post(url, { authorization: `Bearer ${accessToken}` });
  show("bound token as Bearer", asBearer);
  const bearerError =
    challengeOf(asBearer.challenge, "Bearer")?.params["error"] ??
    challengeOf(asBearer.challenge, "DPoP")?.params["error"];
  if (required) {
    // DPoP required: the Bearer scheme is not accepted at all, so the answer is the plain
    // DPoP challenge, as to a request with no credentials of a scheme the server takes.
    expect(
      asBearer.status === 401 && challengeOf(asBearer.challenge, "Bearer") === undefined,
      "the bound token sent as Bearer is refused: 401, the DPoP challenge alone (Bearer not accepted)",
      `got ${asBearer.status} ${asBearer.challenge ?? ""}`,
    );
  } else {
    expect(
      asBearer.status === 401 && bearerError === "invalid_token",
      'the bound token sent as Bearer is refused: 401, error="invalid_token" (downgrade, RFC 9449 section 7.2)',
      `got ${asBearer.status} ${bearerError ?? ""}`,
    );
  }

  const unproven = await post(url, { authorization: `DPoP ${accessToken}` });
  show("DPoP scheme, no proof", unproven);
  expect(
    unproven.status === 401 && challengeOf(unproven.challenge, "DPoP")?.params["error"] === "invalid_dpop_proof",
    'the DPoP scheme without a proof is refused: 401, DPoP error="invalid_dpop_proof"',
    `got ${unproven.status}`,
  );
}

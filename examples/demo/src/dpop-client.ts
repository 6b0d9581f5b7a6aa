/**
 * The reference DPoP client (RFC 9449, the MCP DPoP extension draft SEP-1932), for people
 * writing MCP clients: what a client must do, in one small module on Web Crypto (Node 20+,
 * browsers, edge runtimes), plugged into an MCP SDK client through its `fetch` option.
 *
 * - One key pair per client (ES256 by default), its private key not extractable (section 11).
 * - At the token endpoint (any token request: a form POST with `grant_type`, RFC 6749 section
 *   3.2), a proof (`htm`, `htu`, no `ath`), so the authorization server binds the token to the
 *   key (section 5). The answer's `token_type` decides: `DPoP` tokens are presented with the
 *   DPoP scheme from then on, a `Bearer` one (a server that ignored the proof) stays Bearer.
 * - On every other request carrying a DPoP-bound token, `Authorization: DPoP <token>` and a
 *   fresh proof: new `jti` and `iat`, `htm`, `htu` without query and fragment (section 4.2),
 *   `ath` = base64url(SHA-256(token)).
 * - Server nonces (sections 8 and 9): a `DPoP-Nonce` on any answer is remembered per origin
 *   (the authorization server and the resource server have their own) and put in the next
 *   proof; a `use_dpop_nonce` refusal (400 from the token endpoint, 401 from the resource
 *   server) is retried once with a new proof carrying the nonce given.
 * - Challenges: 401 and 403 answers reach the SDK as they came, so it refreshes or steps up
 *   (the new token request carries a proof again); for SDK v1, which reads only a challenge
 *   that starts with `Bearer`, a `DPoP`-only challenge (a server with DPoP required) is also
 *   presented under that name (`bearerChallengeForSdkV1`).
 *
 * SDK v2 (`@modelcontextprotocol/client`) does all of this itself when its auth provider has
 * `dpop()` (its `DpopSession`); this module is what SDK v1 (`@modelcontextprotocol/sdk`)
 * clients need, and a readable account of the behaviour for any other client.
 *
 * It never logs: a proof, a token and a `DPoP` header value are credentials.
 */

// Types only: the code uses the global `crypto` (Web Crypto), as a browser would.
import type { webcrypto } from "node:crypto";

type CryptoKey = webcrypto.CryptoKey;
type Algorithm = webcrypto.Algorithm;
type EcdsaParams = webcrypto.EcdsaParams;

export type DpopClientAlgorithm = "ES256" | "EdDSA" | "PS256" | "RS256";

type KeyParameters = {
  generate: webcrypto.EcKeyGenParams | webcrypto.RsaHashedKeyGenParams | Algorithm;
  sign: Algorithm | EcdsaParams;
};

const ALGORITHMS: Record<DpopClientAlgorithm, KeyParameters> = {
  ES256: { generate: { name: "ECDSA", namedCurve: "P-256" }, sign: { name: "ECDSA", hash: "SHA-256" } },
  EdDSA: { generate: { name: "Ed25519" }, sign: { name: "Ed25519" } },
  PS256: {
    generate: { name: "RSA-PSS", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    sign: { name: "RSA-PSS", saltLength: 32 } as Algorithm,
  },
  RS256: {
    generate: {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
    sign: { name: "RSASSA-PKCS1-v1_5" },
  },
};

/** The members of a public JWK that RFC 7638 section 3.2 hashes, by key type, in order. */
const THUMBPRINT_MEMBERS: Record<string, readonly string[]> = {
  EC: ["crv", "kty", "x", "y"],
  OKP: ["crv", "kty", "x"],
  RSA: ["e", "kty", "n"],
};

const encoder = new TextEncoder();

function base64url(bytes: ArrayBuffer | Uint8Array): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let binary = "";
  for (const byte of view) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const sha256 = async (text: string): Promise<string> =>
  base64url(await crypto.subtle.digest("SHA-256", encoder.encode(text)));

/** `htu` (RFC 9449 section 4.2): the request URI without query and fragment. */
export function htuOf(url: string | URL): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}

/** `ath` (RFC 9449 section 4.2): base64url SHA-256 of the ASCII access token. */
export const athOf = (accessToken: string): Promise<string> => sha256(accessToken);

export interface DpopProofRequest {
  /** The request method (`htm`), as sent. */
  method: string;
  /** The request URL; query and fragment are dropped for `htu`. */
  url: string | URL;
  /** The access token the request carries (`ath`); none at the token endpoint. */
  accessToken?: string;
  /** The server's nonce; default the one last received from the URL's origin. */
  nonce?: string;
}

export interface DpopFetchOptions {
  /**
   * Also present a 401/403 answer whose only challenge is `DPoP` as a `Bearer` challenge with
   * the same parameters: SDK v1 reads `resource_metadata`, `scope` and `error` only from a
   * `WWW-Authenticate` that starts with `Bearer`, so without it it could not step up against
   * a server that requires DPoP. Default false (SDK v2 reads the DPoP challenge itself).
   */
  bearerChallengeForSdkV1?: boolean;
}

/** Whether an answer is a refusal asking for a nonce (RFC 9449 sections 8 and 9). */
async function asksForNonce(response: Response, tokenRequest: boolean): Promise<boolean> {
  if (!response.headers.has("dpop-nonce")) return false;
  if (tokenRequest) {
    if (response.status !== 400) return false;
    const body = (await response
      .clone()
      .json()
      .catch(() => undefined)) as { error?: unknown } | undefined;
    return body?.error === "use_dpop_nonce";
  }
  if (response.status !== 401) return false;
  const challenges = parseChallenges(response.headers.get("www-authenticate") ?? "");
  return challenges.some((c) => c.scheme.toLowerCase() === "dpop" && c.params["error"] === "use_dpop_nonce");
}

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/**
 * The challenges of a `WWW-Authenticate` value (RFC 9110 section 11.6.1): several may share
 * one header, as `Bearer ..., DPoP algs="ES256", ...` does on a server accepting both.
 */
export function parseChallenges(header: string): Challenge[] {
  const challenges: Challenge[] = [];
  const token = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/;
  let rest = header.trim();
  while (rest.length > 0) {
    const scheme = token.exec(rest)?.[0];
    if (scheme === undefined) break;
    rest = rest.slice(scheme.length).trimStart();
    const challenge: Challenge = { scheme, params: {} };
    challenges.push(challenge);
    for (;;) {
      const param = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)[ \t]*=[ \t]*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/.exec(rest);
      if (param === null) break;
      challenge.params[param[1]!.toLowerCase()] = param[2] !== undefined ? param[2].replace(/\\(.)/g, "$1") : param[3]!;
      rest = rest.slice(param[0].length).trimStart();
      if (!rest.startsWith(",")) break;
      rest = rest.slice(1).trimStart();
    }
  }
  return challenges;
}

const quote = (value: string): string => `"${value.replace(/(["\\])/g, "\\$1")}"`;

/** A `DPoP`-only challenge presented to SDK v1 under the `Bearer` name (see `bearerChallengeForSdkV1`). */
function withBearerChallenge(response: Response): Response {
  if (response.status !== 401 && response.status !== 403) return response;
  const header = response.headers.get("www-authenticate");
  if (header === null) return response;
  const challenges = parseChallenges(header);
  const dpop = challenges.find((c) => c.scheme.toLowerCase() === "dpop");
  if (dpop === undefined || challenges.some((c) => c.scheme.toLowerCase() === "bearer")) return response;
  const params = Object.entries(dpop.params)
    .filter(([name]) => name !== "algs")
    .map(([name, value]) => `${name}=${quote(value)}`);
  const headers = new Headers(response.headers);
  headers.set("www-authenticate", `Bearer ${params.join(", ")}, ${header}`);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

/** Whether a request is a token request: a form POST naming a `grant_type` (RFC 6749 section 3.2). */
function isTokenRequest(method: string, headers: Headers, body: ArrayBuffer | undefined): boolean {
  if (method !== "POST" || body === undefined) return false;
  if (!(headers.get("content-type") ?? "").toLowerCase().startsWith("application/x-www-form-urlencoded")) return false;
  return new URLSearchParams(new TextDecoder().decode(body)).has("grant_type");
}

export class DpopClient {
  readonly alg: DpopClientAlgorithm;
  /** RFC 7638 thumbprint of the public key: the `cnf.jkt` of the tokens bound to it. */
  readonly thumbprint: string;
  readonly #privateKey: CryptoKey;
  readonly #publicJwk: Record<string, string>;
  readonly #sign: Algorithm | EcdsaParams;
  /** The last nonce each origin gave (RFC 9449 section 8.2: the newest wins). */
  readonly #nonces = new Map<string, string>();
  /** Access tokens the authorization server issued with `token_type` DPoP: bound to this key. */
  readonly #boundTokens = new Set<string>();
  readonly #now: () => number;

  private constructor(
    alg: DpopClientAlgorithm,
    privateKey: CryptoKey,
    publicJwk: Record<string, string>,
    thumbprint: string,
    now: () => number,
  ) {
    this.alg = alg;
    this.#privateKey = privateKey;
    this.#publicJwk = publicJwk;
    this.thumbprint = thumbprint;
    this.#sign = ALGORITHMS[alg].sign;
    this.#now = now;
  }

  /** A client with a fresh key pair; the private key cannot be exported (RFC 9449 section 11). */
  static async create(options: { alg?: DpopClientAlgorithm; now?: () => number } = {}): Promise<DpopClient> {
    const alg = options.alg ?? "ES256";
    const pair = (await crypto.subtle.generateKey(ALGORITHMS[alg].generate, false, [
      "sign",
      "verify",
    ])) as webcrypto.CryptoKeyPair;
    const exported = (await crypto.subtle.exportKey("jwk", pair.publicKey)) as Record<string, unknown>;
    // The public members only: Web Crypto adds `key_ops`, `ext` and, for RSA, `alg`.
    const members = THUMBPRINT_MEMBERS[exported["kty"] as string]!;
    const publicJwk = Object.fromEntries(members.map((name) => [name, exported[name] as string]));
    const thumbprint = await sha256(JSON.stringify(publicJwk));
    return new DpopClient(alg, pair.privateKey, publicJwk, thumbprint, options.now ?? Date.now);
  }

  /** The public key a proof carries in its `jwk` header. */
  get publicJwk(): Readonly<Record<string, string>> {
    return this.#publicJwk;
  }

  /** The nonce last received from `url`'s origin, if any. */
  nonceFor(url: string | URL): string | undefined {
    return this.#nonces.get(new URL(url).origin);
  }

  /** Remembers a `DPoP-Nonce` from an answer to a request to `url`, whatever its status (section 8.2). */
  observe(response: Response, url: string | URL): void {
    const nonce = response.headers.get("dpop-nonce");
    if (nonce !== null && nonce !== "") this.#nonces.set(new URL(url).origin, nonce);
  }

  /** Whether `accessToken` was issued bound to this key (`token_type` DPoP). */
  isBound(accessToken: string): boolean {
    return this.#boundTokens.has(accessToken);
  }

  /** Records a token response's access token as bound when its `token_type` says DPoP. */
  recordTokenResponse(body: unknown): void {
    const { access_token: token, token_type: type } = (body ?? {}) as Record<string, unknown>;
    if (typeof token === "string" && typeof type === "string" && type.toLowerCase() === "dpop") {
      this.#boundTokens.add(token);
    }
  }

  /** A new proof for one request: fresh `jti` and `iat` every time (RFC 9449 section 4.2). */
  async proof(request: DpopProofRequest): Promise<string> {
    const header = { typ: "dpop+jwt", alg: this.alg, jwk: this.#publicJwk };
    const nonce = request.nonce ?? this.nonceFor(request.url);
    const claims: Record<string, unknown> = {
      jti: base64url(crypto.getRandomValues(new Uint8Array(16))),
      htm: request.method,
      htu: htuOf(request.url),
      iat: Math.floor(this.#now() / 1000),
      ...(request.accessToken !== undefined ? { ath: await athOf(request.accessToken) } : {}),
      ...(nonce !== undefined ? { nonce } : {}),
    };
    const input = `${base64url(encoder.encode(JSON.stringify(header)))}.${base64url(encoder.encode(JSON.stringify(claims)))}`;
    const signature = await crypto.subtle.sign(this.#sign, this.#privateKey, encoder.encode(input));
    return `${input}.${base64url(signature)}`;
  }

  /**
   * A `fetch` that proves possession on every request it can (see the module comment), for an
   * MCP SDK client's `fetch` option: `new StreamableHTTPClientTransport(url, { authProvider,
   * fetch: dpop.fetch(fetch, { bearerChallengeForSdkV1: true }) })`.
   */
  fetch(next: typeof fetch = globalThis.fetch, options: DpopFetchOptions = {}): typeof fetch {
    return async (input, init) => {
      const original = new Request(input, init);
      const method = original.method;
      const url = original.url;
      // Read once: a nonce retry sends the same body again.
      const body = method === "GET" || method === "HEAD" ? undefined : await original.arrayBuffer();
      const tokenRequest = isTokenRequest(method, original.headers, body);
      const authorization = original.headers.get("authorization") ?? "";
      const scheme = /^(Bearer|DPoP) +(\S+)$/i.exec(authorization);
      const accessToken = scheme !== null && this.isBound(scheme[2]!) ? scheme[2]! : undefined;
      if (!tokenRequest && accessToken === undefined) {
        const response = await next(original.url, withBody(original, body, original.headers));
        this.observe(response, url);
        return response;
      }

      const send = async (): Promise<Response> => {
        const headers = new Headers(original.headers);
        if (accessToken !== undefined) headers.set("authorization", `DPoP ${accessToken}`);
        headers.set("dpop", await this.proof({ method, url, ...(accessToken !== undefined ? { accessToken } : {}) }));
        return next(url, withBody(original, body, headers));
      };
      let response = await send();
      if (await asksForNonce(response, tokenRequest)) {
        // Retried once: a server that asks again is answered as it answered (no loop).
        this.observe(response, url);
        await response.body?.cancel();
        response = await send();
      }
      this.observe(response, url);
      if (tokenRequest && response.ok) {
        this.recordTokenResponse(
          await response
            .clone()
            .json()
            .catch(() => undefined),
        );
      }
      return options.bearerChallengeForSdkV1 ? withBearerChallenge(response) : response;
    };
  }
}

/** The request's init again, with `headers` and the body read once. */
function withBody(original: Request, body: ArrayBuffer | undefined, headers: Headers): RequestInit {
  return {
    method: original.method,
    headers,
    redirect: original.redirect,
    signal: original.signal,
    ...(body !== undefined ? { body } : {}),
  };
}

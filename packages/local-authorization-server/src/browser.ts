/**
 * A scripted user agent for the local authorization server's login and consent pages:
 * it follows redirects with a cookie jar and submits each HTML form, as a person would,
 * until the authorization server redirects to the client's redirect URI.
 */
import { createHash, randomBytes } from "node:crypto";

const MAX_STEPS = 20;

function attr(tag: string, name: string): string | undefined {
  return new RegExp(`\\b${name}="([^"]*)"`, "i").exec(tag)?.[1];
}

function decodeHtml(value: string): string {
  return value
    .replace(/&amp;/g, "&")
    .replace(/&quot;/g, '"')
    .replace(/&#x2F;/gi, "/")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">");
}

/** The first form of a page: its action and its fields, with `login` filled in. */
function readForm(html: string, login: string): { action: string; fields: URLSearchParams } | undefined {
  const form = /<form\b[^>]*>([\s\S]*?)<\/form>/i.exec(html);
  if (!form) return undefined;
  const action = attr(form[0].slice(0, form[0].indexOf(">") + 1), "action");
  if (action === undefined) return undefined;
  const fields = new URLSearchParams();
  for (const input of form[1]!.match(/<input\b[^>]*>/gi) ?? []) {
    const name = attr(input, "name");
    if (name === undefined) continue;
    const value = name === "login" ? login : name === "password" ? "password" : decodeHtml(attr(input, "value") ?? "");
    fields.set(name, value);
  }
  return { action: decodeHtml(action), fields };
}

/**
 * Opens `authorizationUrl`, signs in as `login`, consents, and returns the URL the
 * authorization server redirected to (holding `code` and `state`, or `error`).
 */
export async function completeAuthorization(
  authorizationUrl: string | URL,
  options: { login?: string; redirectUri?: string } = {},
): Promise<URL> {
  const login = options.login ?? "alice";
  const start = new URL(authorizationUrl);
  const redirectUri = options.redirectUri ?? start.searchParams.get("redirect_uri") ?? "";
  const cookies = new Map<string, string>();
  let url = start;
  let init: RequestInit = {};

  for (let step = 0; step < MAX_STEPS; step++) {
    if (redirectUri !== "" && url.href.startsWith(redirectUri)) return url;
    const response = await fetch(url, {
      ...init,
      redirect: "manual",
      headers: {
        ...(init.headers as Record<string, string> | undefined),
        cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join("; "),
      },
    });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(";");
      const eq = pair!.indexOf("=");
      cookies.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim());
    }
    const location = response.headers.get("location");
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel();
      url = new URL(location, url);
      init = {};
      continue;
    }
    const html = await response.text();
    const form = response.ok ? readForm(html, login) : undefined;
    if (!form) throw new Error(`authorization stopped at ${url.pathname} with HTTP ${response.status}`);
    url = new URL(form.action, url);
    init = {
      method: "POST",
      body: form.fields.toString(),
      headers: { "content-type": "application/x-www-form-urlencoded" },
    };
  }
  throw new Error(`authorization did not finish within ${MAX_STEPS} steps`);
}

export interface ObtainAccessTokenOptions {
  /** RFC 8707 resource: the MCP endpoint URL. */
  resource: string;
  /** Space-separated scopes. Default `mcp:read`. */
  scope?: string;
  /** Who signs in. Default `alice`. */
  login?: string;
  /** Client name to register. */
  clientName?: string;
  /**
   * URL of a Client ID Metadata Document to use as `client_id` instead of registering
   * (MCP 2025-11-25 and 2026-07-28 client registration). Its `redirect_uris` must list
   * `redirectUri`.
   */
  clientIdMetadataDocument?: string;
  /** Redirect URI of the client. Default `http://127.0.0.1:1/callback` (nothing listens there). */
  redirectUri?: string;
  /**
   * The client's `fetch` for discovery, registration and the token request: a DPoP client's
   * (one that adds a proof to the token request) gets a DPoP-bound token. Default the global one.
   */
  fetch?: typeof fetch;
}

export interface TokenSet {
  access_token: string;
  token_type: string;
  expires_in?: number;
  scope?: string;
  refresh_token?: string;
  /** The client of this token: the registered one, or the metadata document URL. */
  client_id: string;
}

async function register(
  registrationEndpoint: string,
  clientName: string,
  redirectUri: string,
  fetchFn: typeof fetch,
): Promise<string> {
  const registration = await fetchFn(registrationEndpoint, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      client_name: clientName,
      redirect_uris: [redirectUri],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    }),
  });
  if (!registration.ok)
    throw new Error(`registration failed: HTTP ${registration.status} ${await registration.text()}`);
  return ((await registration.json()) as { client_id: string }).client_id;
}

/**
 * The whole flow an MCP client runs: dynamic client registration (or a Client ID Metadata
 * Document), authorization code with PKCE S256 and the `resource` parameter, the `iss`
 * check of the authorization response (RFC 9207, MCP 2026-07-28), code exchange. Returns
 * the token response.
 */
export async function obtainAccessToken(issuer: string, options: ObtainAccessTokenOptions): Promise<TokenSet> {
  const fetchFn = options.fetch ?? fetch;
  const metadata = (await (await fetchFn(`${issuer}/.well-known/oauth-authorization-server`)).json()) as Record<
    string,
    unknown
  >;
  const endpoint = (name: string): string => {
    const value = metadata[name];
    if (typeof value !== "string") throw new Error(`the authorization server metadata has no ${name}`);
    return value;
  };
  const redirectUri = options.redirectUri ?? "http://127.0.0.1:1/callback";
  const clientId =
    options.clientIdMetadataDocument ??
    (await register(
      endpoint("registration_endpoint"),
      options.clientName ?? "mcp-oauth test client",
      redirectUri,
      fetchFn,
    ));

  const verifier = randomBytes(32).toString("base64url");
  const state = randomBytes(8).toString("base64url");
  const authorize = new URL(endpoint("authorization_endpoint"));
  authorize.search = new URLSearchParams({
    response_type: "code",
    client_id: clientId,
    redirect_uri: redirectUri,
    scope: options.scope ?? "mcp:read",
    resource: options.resource,
    state,
    code_challenge: createHash("sha256").update(verifier).digest("base64url"),
    code_challenge_method: "S256",
  }).toString();
  const callback = await completeAuthorization(authorize, {
    redirectUri,
    ...(options.login ? { login: options.login } : {}),
  });
  // RFC 9207 section 2.4: a response that names another issuer (or none, when the server
  // says it sends one) is not acted on, error included (mix-up attacks).
  const iss = callback.searchParams.get("iss");
  if (iss !== null ? iss !== metadata["issuer"] : metadata["authorization_response_iss_parameter_supported"] === true)
    throw new Error(`authorization response from the wrong issuer: iss ${iss ?? "missing"}`);
  const code = callback.searchParams.get("code");
  if (code === null || callback.searchParams.get("state") !== state) {
    throw new Error(
      `authorization failed: ${callback.searchParams.get("error") ?? "no code"} ${callback.searchParams.get("error_description") ?? ""}`,
    );
  }

  const token = await fetchFn(endpoint("token_endpoint"), {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code,
      redirect_uri: redirectUri,
      client_id: clientId,
      code_verifier: verifier,
      resource: options.resource,
    }).toString(),
  });
  if (!token.ok) throw new Error(`token request failed: HTTP ${token.status} ${await token.text()}`);
  return { ...((await token.json()) as Omit<TokenSet, "client_id">), client_id: clientId };
}

/**
 * An `OAuthClientProvider` for the MCP SDK clients (v1 and v2 share the shape) that keeps
 * everything in memory and, instead of opening a browser, lets the scripted user agent
 * sign in and consent at the local authorization server.
 */
import { completeAuthorization } from "@mcp-oauth/local-authorization-server";

// Loopback redirect URI of a native client (RFC 8252 section 7.3). Nothing listens there:
// the scripted user agent stops at the redirect and hands the code back.
const REDIRECT_URI = "http://127.0.0.1/callback";

type Tokens = {
  access_token: string;
  token_type: string;
  refresh_token?: string;
  scope?: string;
  expires_in?: number;
  [k: string]: unknown;
};
type ClientInformation = { client_id: string; client_secret?: string; [k: string]: unknown };

export interface HeadlessOAuthProviderOptions {
  /** Who signs in. */
  login: string;
  clientName?: string;
  /**
   * URL of the client's Client ID Metadata Document: the client id, so the client never
   * registers. The SDK clients take a document URL themselves (`clientMetadataUrl`) only
   * over https; on loopback it is handed to them as the client id they already hold.
   */
  clientIdMetadataDocument?: string;
  /** Called with a line for each browser step. */
  log?: (line: string) => void;
  /**
   * SDK v2's DPoP switch (`OAuthClientProvider.dpop`): the session whose key signs the proofs
   * at the token endpoint and on every request. Left out, the provider has no `dpop` and
   * SDK v2 stays with Bearer tokens.
   */
  dpop?: () => Promise<unknown>;
}

export class HeadlessOAuthProvider {
  readonly #options: HeadlessOAuthProviderOptions;
  #client: ClientInformation | undefined;
  #tokens: Tokens | undefined;
  #verifier = "";
  #callback: URL | undefined;
  /**
   * SDK v1 answers a 403 `insufficient_scope` by refreshing first, and a refresh can never
   * widen scopes (RFC 6749 section 6), so the step-up would fail. While this is set, the
   * provider hides its refresh token so the SDK runs a new authorization instead.
   */
  stepUpPending = false;
  /** Set only with the `dpop` option: SDK v2 tests whether the provider has it. */
  readonly dpop?: () => Promise<unknown>;

  constructor(options: HeadlessOAuthProviderOptions) {
    this.#options = options;
    if (options.dpop !== undefined) this.dpop = options.dpop;
    if (options.clientIdMetadataDocument !== undefined) this.#client = { client_id: options.clientIdMetadataDocument };
  }

  get redirectUrl(): string {
    return REDIRECT_URI;
  }

  /** What the client declares about itself: sent when it registers, or served as its metadata document. */
  get clientMetadata(): {
    client_name: string;
    redirect_uris: string[];
    grant_types: string[];
    response_types: string[];
    token_endpoint_auth_method: string;
  } {
    return {
      client_name: this.#options.clientName ?? "mcp-oauth demo client",
      redirect_uris: [REDIRECT_URI],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    };
  }

  clientInformation(): ClientInformation | undefined {
    return this.#client;
  }

  saveClientInformation(information: ClientInformation): void {
    this.#client = information;
  }

  tokens(): Tokens | undefined {
    if (this.#tokens && this.stepUpPending) {
      const { refresh_token: _hidden, ...withoutRefresh } = this.#tokens;
      return withoutRefresh as Tokens;
    }
    return this.#tokens;
  }

  saveTokens(tokens: Tokens): void {
    this.#tokens = tokens;
    this.stepUpPending = false;
  }

  /** Scopes of the current access token, as the token response said. */
  get grantedScope(): string | undefined {
    return this.#tokens?.scope;
  }

  // SDK v2 binds the callback to the authorization server it discovered (SEP-2352): keep
  // what it saves, unchanged, next to the code verifier.
  #discovery: unknown;

  saveDiscoveryState(state: unknown): void {
    this.#discovery = state;
  }

  discoveryState(): unknown {
    return this.#discovery;
  }

  saveCodeVerifier(verifier: string): void {
    this.#verifier = verifier;
  }

  codeVerifier(): string {
    return this.#verifier;
  }

  async redirectToAuthorization(authorizationUrl: URL): Promise<void> {
    const params = authorizationUrl.searchParams;
    this.#options.log?.(
      `browser: GET ${authorizationUrl.origin}${authorizationUrl.pathname} (response_type=${params.get("response_type")}, code_challenge_method=${params.get("code_challenge_method")}, resource=${params.get("resource")}, scope="${params.get("scope")}")`,
    );
    this.#callback = await completeAuthorization(authorizationUrl, {
      login: this.#options.login,
      redirectUri: REDIRECT_URI,
    });
    this.#options.log?.(
      `browser: signed in as ${this.#options.login}, consented, redirected back with ${this.#callback.searchParams.has("code") ? "a code" : `error=${this.#callback.searchParams.get("error")}`}`,
    );
  }

  /** Whether an authorization ran and its redirect is waiting to be taken. */
  get hasCallback(): boolean {
    return this.#callback !== undefined;
  }

  /** The redirect the authorization server sent the user agent back with; throws if there was none. */
  takeCallback(): URL {
    const callback = this.#callback;
    this.#callback = undefined;
    if (!callback) throw new Error("no authorization was started");
    const error = callback.searchParams.get("error");
    if (error)
      throw new Error(`authorization failed: ${error} ${callback.searchParams.get("error_description") ?? ""}`);
    return callback;
  }
}

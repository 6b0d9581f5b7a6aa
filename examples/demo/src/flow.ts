/**
 * The MCP OAuth flow as a real client runs it, step by step, against a running MCP
 * server and authorization server, with a check for every behaviour the specification
 * asks of the resource server. Used by the demo command and by the end-to-end tests,
 * with either generation of the MCP TypeScript SDK client.
 */
import { Client as ClientV1 } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as TransportV1 } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { SSEClientTransport as SseTransportV1 } from "@modelcontextprotocol/sdk/client/sse.js";
import { auth as authorizeV1, type OAuthClientProvider as ProviderV1 } from "@modelcontextprotocol/sdk/client/auth.js";
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as TransportV2,
  type OAuthClientProvider as ProviderV2,
} from "@modelcontextprotocol/client";
import { serveClientMetadataDocument, type ServedClientMetadataDocument } from "./client-metadata-document.js";
import { HeadlessOAuthProvider } from "./headless-oauth-provider.js";
import { boundThumbprintOf, challengeOf, checkDpopRefusals, createDemoDpop, type DemoDpop } from "./dpop-steps.js";

export type ClientGeneration = "v1" | "v2";

export interface Check {
  step: string;
  what: string;
  ok: boolean;
  detail?: string;
}

export interface FlowOptions {
  /** The MCP endpoint. */
  mcpUrl: string;
  generation: ClientGeneration;
  /** Who signs in at the authorization server. */
  login: string;
  /** Receives every line the flow prints. */
  log: (line: string) => void;
  /** Where the server serves its metadata. Default: the path-suffixed RFC 9728 URL. */
  metadataUrl?: string;
  /** Run step 5 (403 insufficient_scope for write_note, step-up). Default true. */
  stepUp?: boolean;
  /**
   * `streamable-http` (default), or the legacy HTTP+SSE transport (`mcpUrl` is then the
   * event stream; SDK v1's `SSEClientTransport` only).
   */
  transport?: "streamable-http" | "sse";
  /**
   * How the client gets its client id: dynamic registration (RFC 7591, default), or a
   * Client ID Metadata Document it serves on loopback (MCP 2025-11-25 and 2026-07-28).
   */
  registration?: "dynamic" | "client-id-metadata-document";
  /**
   * Run with DPoP (RFC 9449) against a server started with `OAUTH_DPOP=allowed`: the client
   * proves possession of an ES256 key at the token endpoint and on every request (SDK v2 by
   * itself, SDK v1 through the reference client), and step 6 checks the refusals.
   */
  dpop?: boolean;
  /** The server was started with `OAUTH_DPOP_NONCE_SECRET`: check that the client's proofs carry its nonce. */
  dpopNonces?: boolean;
  /** The server was started with `OAUTH_DPOP=required` (default: `allowed`). */
  dpopRequired?: boolean;
}

interface Exchange {
  method: string;
  url: string;
  status: number;
  challenge: string | null;
}

/** `key="value"` pairs of a challenge, for checks (the SDK clients parse it their own way). */
function challengeParams(challenge: string | null): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of (challenge ?? "").matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g))
    out[m[1]!] = m[2]!.replace(/\\(.)/g, "$1");
  return out;
}

/** Tool text as JSON; mcp-framework tools that return a string have it JSON-encoded once more. */
function parseJson(text: string): unknown {
  const value: unknown = JSON.parse(text);
  return typeof value === "string" ? JSON.parse(value) : value;
}

interface Session {
  listTools(): Promise<string[]>;
  callTool(name: string, args: Record<string, unknown>): Promise<string>;
  finishAuth(callback: URL): Promise<void>;
  /**
   * Starts the authorization the client itself starts on a 403 insufficient_scope, for a
   * transport that does not (v1 SSEClientTransport only reacts to 401).
   */
  stepUp?(scope: string, resourceMetadataUrl: string): Promise<void>;
  close(): Promise<void>;
}

function openSession(
  generation: ClientGeneration,
  url: URL,
  provider: HeadlessOAuthProvider,
  fetchFn: typeof fetch,
  kind: "streamable-http" | "sse" = "streamable-http",
): { connect(): Promise<void>; session: Session } {
  const text = (result: unknown): string =>
    ((result as { content?: { type: string; text?: string }[] }).content ?? []).map((c) => c.text ?? "").join("");
  if (kind === "sse") {
    if (generation !== "v1") throw new Error("the legacy HTTP+SSE transport is SDK v1 only");
    const transport = new SseTransportV1(url, { authProvider: provider as unknown as ProviderV1, fetch: fetchFn });
    const client = new ClientV1({ name: "mcp-oauth-demo (SDK v1, SSE)", version: "0.1.0" });
    return {
      connect: () => client.connect(transport),
      session: {
        listTools: async () => (await client.listTools()).tools.map((t) => t.name),
        callTool: async (name, args) => text(await client.callTool({ name, arguments: args })),
        finishAuth: (callback) => transport.finishAuth(callback.searchParams.get("code")!),
        stepUp: async (scope, resourceMetadataUrl) => {
          await authorizeV1(provider as unknown as ProviderV1, {
            serverUrl: url,
            scope,
            resourceMetadataUrl: new URL(resourceMetadataUrl),
            fetchFn,
          });
        },
        close: () => client.close(),
      },
    };
  }
  if (generation === "v1") {
    const transport = new TransportV1(url, { authProvider: provider as unknown as ProviderV1, fetch: fetchFn });
    const client = new ClientV1({ name: "mcp-oauth-demo (SDK v1)", version: "0.1.0" });
    return {
      connect: () => client.connect(transport),
      session: {
        listTools: async () => (await client.listTools()).tools.map((t) => t.name),
        callTool: async (name, args) => text(await client.callTool({ name, arguments: args })),
        finishAuth: (callback) => transport.finishAuth(callback.searchParams.get("code")!),
        close: () => client.close(),
      },
    };
  }
  const transport = new TransportV2(url, { authProvider: provider as unknown as ProviderV2, fetch: fetchFn });
  const client = new ClientV2({ name: "mcp-oauth-demo (SDK v2)", version: "0.1.0" });
  return {
    connect: () => client.connect(transport),
    session: {
      listTools: async () => (await client.listTools()).tools.map((t) => t.name),
      callTool: async (name, args) => text(await client.callTool({ name, arguments: args })),
      finishAuth: (callback) => transport.finishAuth(callback.searchParams),
      close: () => client.close(),
    },
  };
}

export async function runFlow(options: FlowOptions): Promise<Check[]> {
  if (options.registration !== "client-id-metadata-document") return runSteps(options, undefined);
  let provider: HeadlessOAuthProvider | undefined;
  const document = await serveClientMetadataDocument(() => provider?.clientMetadata ?? {});
  try {
    return await runSteps(options, document, (created) => (provider = created));
  } finally {
    await document.close();
  }
}

async function runSteps(
  options: FlowOptions,
  document: ServedClientMetadataDocument | undefined,
  created?: (provider: HeadlessOAuthProvider) => void,
): Promise<Check[]> {
  const { log } = options;
  const url = new URL(options.mcpUrl);
  const checks: Check[] = [];
  let step = "";
  const expect = (ok: boolean, what: string, detail?: string): void => {
    checks.push({ step, what, ok, ...(detail !== undefined ? { detail } : {}) });
    log(`   ${ok ? "ok  " : "FAIL"} ${what}${!ok && detail ? ` (${detail})` : ""}`);
  };
  const heading = (title: string): void => {
    step = title;
    log(`\n== ${title}`);
  };

  const dpop: DemoDpop | undefined = options.dpop ? await createDemoDpop(options.generation) : undefined;
  const exchanges: Exchange[] = [];
  // Every request the client makes, printed without credentials or bodies.
  const loggingFetch: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    const response = await fetch(request);
    const target = new URL(request.url);
    const challenge = response.headers.get("www-authenticate");
    exchanges.push({ method: request.method, url: request.url, status: response.status, challenge });
    // A nonce is no credential, but the demo prints no header value it does not need to.
    const nonce = response.headers.has("dpop-nonce") ? "  DPoP-Nonce: (a new nonce)" : "";
    log(
      `   ${request.method} ${target.origin}${target.pathname} -> ${response.status}${challenge ? `  WWW-Authenticate: ${challenge}` : ""}${nonce}`,
    );
    if (response.status === 403 && challengeParams(challenge)["error"] === "insufficient_scope")
      provider.stepUpPending = true;
    return response;
  };
  const transportFetch = dpop ? dpop.transportFetch(loggingFetch) : loggingFetch;
  const provider = new HeadlessOAuthProvider({
    login: options.login,
    clientName: `mcp-oauth demo (SDK ${options.generation})`,
    ...(document ? { clientIdMetadataDocument: document.url } : {}),
    log: (line) => log(`   ${line}`),
    ...(dpop?.session ? { dpop: dpop.session } : {}),
  });
  created?.(provider);
  const metadataUrl =
    options.metadataUrl ??
    `${url.origin}/.well-known/oauth-protected-resource${url.pathname === "/" ? "" : url.pathname}`;

  heading("1. initialize without a token");
  const anonymous = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "demo", version: "0" } },
    }),
  });
  const firstChallenge = anonymous.headers.get("www-authenticate");
  await anonymous.body?.cancel();
  log(`   POST ${url.href} -> ${anonymous.status}  WWW-Authenticate: ${firstChallenge}`);
  const first = challengeParams(firstChallenge);
  expect(anonymous.status === 401, "401 Unauthorized", `got ${anonymous.status}`);
  expect(
    first["resource_metadata"] === metadataUrl,
    "challenge names the protected resource metadata",
    first["resource_metadata"],
  );
  expect(first["error"] === undefined, "no error code when no token was sent (RFC 6750 section 3.1)");
  const required = options.dpopRequired === true;
  if (dpop) {
    const offered = challengeOf(firstChallenge, "DPoP");
    const bearerOffered = challengeOf(firstChallenge, "Bearer") !== undefined;
    expect(
      offered !== undefined &&
        (offered.params["algs"] ?? "").split(" ").includes("ES256") &&
        bearerOffered !== required,
      required
        ? 'the DPoP challenge alone offers algs="... ES256 ..." (RFC 9449 section 7.1)'
        : 'a DPoP challenge offers algs="... ES256 ..." next to the Bearer one (RFC 9449 section 7.1)',
      firstChallenge ?? "no challenge",
    );
    const metadata = (await (await fetch(metadataUrl)).json()) as Record<string, unknown>;
    const algs = metadata["dpop_signing_alg_values_supported"];
    log(
      `   metadata: dpop_signing_alg_values_supported ${JSON.stringify(algs)}, dpop_bound_access_tokens_required ${JSON.stringify(metadata["dpop_bound_access_tokens_required"])}`,
    );
    expect(
      Array.isArray(algs) && algs.includes("ES256") && metadata["dpop_bound_access_tokens_required"] === required,
      required
        ? "the metadata says DPoP is required (RFC 9728 section 2)"
        : "the metadata says DPoP is accepted, not required (RFC 9728 section 2)",
    );
  }

  heading(
    document
      ? `2-3. the SDK ${options.generation} client, identified by its Client ID Metadata Document ${document.url}, discovers, authorizes (PKCE S256 + resource) and gets a token`
      : `2-3. the SDK ${options.generation} client discovers, registers, authorizes (PKCE S256 + resource) and gets a token`,
  );
  let opened = openSession(options.generation, url, provider, transportFetch, options.transport);
  const authorize = async (): Promise<void> => {
    try {
      await opened.connect();
      return;
    } catch (error) {
      // The client stops at the redirect (UnauthorizedError); finish it and connect again.
      if (!provider.hasCallback) throw error;
      await opened.session.finishAuth(provider.takeCallback());
    }
    await opened.session.close().catch(() => {});
    opened = openSession(options.generation, url, provider, transportFetch, options.transport);
    await opened.connect();
  };
  await authorize();
  const saw = (predicate: (e: Exchange) => boolean): boolean => exchanges.some(predicate);
  expect(
    saw((e) => e.url === metadataUrl && e.status === 200),
    "client read the protected resource metadata",
  );
  expect(
    saw((e) => /\/\.well-known\/(oauth-authorization-server|openid-configuration)/.test(e.url) && e.status === 200),
    "client read the authorization server metadata",
  );
  const registered = saw((e) => e.method === "POST" && e.url.endsWith("/reg"));
  if (document) {
    log(`   the authorization server fetched ${document.url} ${document.fetches()} time(s)`);
    expect(
      document.fetches() > 0 && !registered,
      "the authorization server read the client's metadata document; no registration",
      `fetched ${document.fetches()} time(s), registered: ${registered}`,
    );
  } else {
    expect(
      saw((e) => e.method === "POST" && e.url.endsWith("/reg") && e.status === 201),
      "client registered itself (RFC 7591)",
    );
  }
  expect(
    saw((e) => e.method === "POST" && e.url.endsWith("/token") && e.status === 200),
    "client exchanged the code for a token",
  );
  log(`   token scope: "${provider.grantedScope ?? ""}" (token not shown)`);
  const expectBound = (when: string): void => {
    const tokens = provider.tokens();
    const jkt = tokens ? boundThumbprintOf(tokens.access_token) : undefined;
    log(`   token_type: ${tokens?.token_type ?? "none"}${jkt ? ", cnf.jkt: the client's key thumbprint" : ""}`);
    expect(
      tokens?.token_type === "DPoP" && (jkt === undefined || jkt === dpop!.thumbprint),
      `${when} is bound to the client's key (token_type DPoP, cnf.jkt, RFC 9449 section 6)`,
      `token_type ${tokens?.token_type ?? "none"}`,
    );
  };
  if (dpop) expectBound("the token");
  if (dpop && options.dpopNonces) {
    expect(
      dpop.nonceFor(url) !== undefined,
      "the server gave the client a DPoP-Nonce, which its proofs carried (nonces required, RFC 9449 section 9)",
    );
  }

  heading("4. tools/list and tools/call whoami");
  const tools = await opened.session.listTools();
  log(`   tools: ${tools.join(", ")}`);
  expect(tools.includes("whoami") && tools.includes("write_note"), "tools/list answered");
  const who = parseJson(await opened.session.callTool("whoami", {})) as {
    sub: string;
    clientId: string;
    scopes: string[];
  };
  log(`   whoami -> ${JSON.stringify(who)}`);
  expect(
    who.sub === options.login && (document === undefined || who.clientId === document.url),
    document ? "the tool sees who is calling, and the document URL as the client id" : "the tool sees who is calling",
    `${who.sub} via ${who.clientId}`,
  );
  expect(!who.scopes.includes("mcp:write"), "the first token lacks mcp:write");

  if (options.stepUp === false) {
    await opened.session.close();
    return checks;
  }

  heading("5. write_note needs mcp:write: 403 insufficient_scope, step up, retry");
  const before = exchanges.length;
  let stepped = false;
  try {
    await opened.session.callTool("write_note", { text: "hello from the demo" });
  } catch (error) {
    const challenged = challengeParams(exchanges.slice(before).find((e) => e.status === 403)?.challenge ?? null);
    if (!provider.hasCallback && opened.session.stepUp && challenged["error"] === "insufficient_scope") {
      await opened.session.stepUp(challenged["scope"] ?? "", challenged["resource_metadata"] ?? metadataUrl);
    }
    if (!provider.hasCallback) throw error;
    await opened.session.finishAuth(provider.takeCallback());
    stepped = true;
  }
  const refused = exchanges.slice(before).find((e) => e.status === 403);
  const scopeChallenge = challengeParams(refused?.challenge ?? null);
  expect(refused !== undefined, "403 Forbidden");
  expect(scopeChallenge["error"] === "insufficient_scope", 'error="insufficient_scope"');
  expect(
    scopeChallenge["scope"] === "mcp:read mcp:write",
    "scope names every scope the call needs",
    scopeChallenge["scope"],
  );
  expect(scopeChallenge["resource_metadata"] === metadataUrl, "challenge names the protected resource metadata");
  expect(stepped, "the client re-authorized with the challenged scopes");
  await opened.session.close().catch(() => {});
  opened = openSession(options.generation, url, provider, transportFetch, options.transport);
  await opened.connect();
  const saved = await opened.session.callTool("write_note", { text: "hello from the demo" });
  log(`   write_note -> ${saved}`);
  // mcp-framework JSON-encodes a tool's string result once more.
  expect(
    saved.startsWith("saved note") || saved.startsWith('"saved note'),
    "write_note succeeded after step-up",
    saved,
  );
  const whoAfter = parseJson(await opened.session.callTool("whoami", {})) as { scopes: string[] };
  expect(
    whoAfter.scopes.includes("mcp:write") && whoAfter.scopes.includes("mcp:read"),
    "the new token has mcp:read and mcp:write",
    whoAfter.scopes.join(" "),
  );
  await opened.session.close();
  if (dpop) {
    expectBound("the stepped-up token");
    heading("6. DPoP refusals: a replayed proof, the bound token as Bearer, the DPoP scheme with no proof");
    await checkDpopRefusals(url, provider.tokens()!.access_token, dpop, expect, log, required);
  }
  return checks;
}

/**
 * The files of a generated project, as strings: an Express (MCP SDK, Streamable HTTP) or
 * mcp-framework server with a `whoami` tool, configured by the same `OAUTH_*` variables as
 * the examples of this repository.
 */
import { envExample, type Validation } from "./env-example.js";
import { formatSteps, nextSteps } from "./next-steps.js";
import { CLIENT_ID_METADATA_NOTE, providerInfo, type ProviderId } from "./providers.js";

export const TEMPLATES = ["express", "mcp-framework"] as const;
export type Template = (typeof TEMPLATES)[number];
export const VALIDATIONS = ["jwt", "introspection"] as const;
export type { Validation };

export interface ProjectOptions {
  /** npm package name of the generated project. */
  name: string;
  template: Template;
  provider: ProviderId;
  validation: Validation;
  /**
   * mcp-oauth packages packed into the project because they are not on the npm registry yet:
   * package name to tarball path relative to the project (`vendor/mcp-oauth-core-0.1.0.tgz`).
   * The project depends on them by `file:` (and `overrides`, for those its dependencies need)
   * in place of the registry ranges of `VERSIONS`.
   */
  vendored?: Readonly<Record<string, string>>;
}

/** Versions the generated package.json asks for (those this repository is tested with). */
export const VERSIONS = {
  mcpOAuth: "^0.1.0",
  createMcpOAuth: "^0.1.0",
  sdk: "^1.32.2",
  express: "^5.3.0",
  typesExpress: "^5.0.6",
  zodForSdk: "^4.6.7",
  mcpFramework: "^0.2.22",
  zodForFramework: "^3.25.76",
  tsx: "^4.23.15",
  typescript: "^5.9.3",
  typesNode: "^20.19.43",
} as const;

/** The mcp-oauth packages (and create-mcp-oauth, for `mcp-oauth doctor`) a project depends on directly. */
export function mcpOAuthPackages(o: Pick<ProjectOptions, "template" | "provider">): string[] {
  return [
    o.template === "express" ? "@mcp-oauth/express" : "@mcp-oauth/mcp-framework",
    ...(o.provider === "local" ? ["@mcp-oauth/local-authorization-server"] : []),
    "create-mcp-oauth",
  ];
}

const indent = (lines: readonly string[], spaces: number): string =>
  lines.map((l) => `${" ".repeat(spaces)}${l}`).join("\n");

function packageJson(o: ProjectOptions): string {
  const express = o.template === "express";
  const local = o.provider === "local";
  const vendored = o.vendored ?? {};
  const ours = (name: string, range: string): string =>
    vendored[name] !== undefined ? `file:${vendored[name]}` : range;
  const pkg = {
    name: o.name,
    version: "0.1.0",
    private: true,
    type: "module",
    description: `MCP server (${express ? "Express + MCP SDK" : "mcp-framework"}) protected by OAuth 2.1 with mcp-oauth`,
    engines: { node: ">=20.19" },
    scripts: {
      dev: "tsx watch src/index.ts",
      build: "tsc -p tsconfig.build.json",
      start: "node dist/index.js",
      typecheck: "tsc -p tsconfig.json",
      test: "node --import tsx --test test/*.test.ts",
      // The URL the server listens at, from .env and the environment as src/index.ts reads them.
      doctor: "mcp-oauth doctor --dotenv .env",
      ...(local ? { "auth-server": "tsx scripts/auth-server.ts", token: "tsx scripts/token.ts" } : {}),
    },
    dependencies: express
      ? {
          "@mcp-oauth/express": ours("@mcp-oauth/express", VERSIONS.mcpOAuth),
          "@modelcontextprotocol/sdk": VERSIONS.sdk,
          express: VERSIONS.express,
          zod: VERSIONS.zodForSdk,
        }
      : {
          "@mcp-oauth/mcp-framework": ours("@mcp-oauth/mcp-framework", VERSIONS.mcpOAuth),
          "mcp-framework": VERSIONS.mcpFramework,
          zod: VERSIONS.zodForFramework,
        },
    devDependencies: {
      ...(local
        ? { "@mcp-oauth/local-authorization-server": ours("@mcp-oauth/local-authorization-server", VERSIONS.mcpOAuth) }
        : {}),
      ...(express ? { "@types/express": VERSIONS.typesExpress } : {}),
      "@types/node": VERSIONS.typesNode,
      "create-mcp-oauth": ours("create-mcp-oauth", VERSIONS.createMcpOAuth),
      tsx: VERSIONS.tsx,
      typescript: VERSIONS.typescript,
    },
    // The packed packages name each other by registry range (@mcp-oauth/express needs
    // @mcp-oauth/core@^0.1.0): npm takes those from vendor/ too. A direct dependency's override
    // must be the same spec as the dependency, which it is.
    ...(Object.keys(vendored).length > 0
      ? { overrides: Object.fromEntries(Object.entries(vendored).map(([name, file]) => [name, `file:${file}`])) }
      : {}),
  };
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

function tsconfig(o: ProjectOptions): string {
  return `${JSON.stringify(
    {
      compilerOptions: {
        target: "ES2022",
        lib: ["ES2023"],
        module: "NodeNext",
        moduleResolution: "NodeNext",
        strict: true,
        esModuleInterop: true,
        skipLibCheck: true,
        isolatedModules: true,
        verbatimModuleSyntax: true,
        resolveJsonModule: true,
        types: ["node"],
        noEmit: true,
      },
      include: ["src", "test", ...(o.provider === "local" ? ["scripts"] : [])],
    },
    null,
    2,
  )}\n`;
}

const TSCONFIG_BUILD = `${JSON.stringify(
  {
    extends: "./tsconfig.json",
    compilerOptions: { noEmit: false, rootDir: "src", outDir: "dist", sourceMap: true },
    include: ["src"],
  },
  null,
  2,
)}\n`;

const GITIGNORE = "node_modules/\ndist/\n.env\n*.log\n";

/** `oauthOptions()`: optionsFromEnv plus the provider's claim quirks. */
function oauthOptionsCode(o: ProjectOptions, returnType: string): string {
  const p = providerInfo(o.provider);
  const validation =
    p.validationCode.length > 0
      ? `\n    validation: {\n      ...options.validation,\n${indent(p.validationCode, 6)}\n    },`
      : "";
  const cognitoHelper =
    o.provider === "cognito"
      ? `
/** OAUTH_COGNITO_CLIENT_IDS: the app clients whose tokens count as issued for this server. */
function cognitoClientIds(env: Env): string[] {
  const ids = list(env["OAUTH_COGNITO_CLIENT_IDS"]);
  if (ids.length === 0) {
    throw Object.assign(new Error("OAUTH_COGNITO_CLIENT_IDS: list the Cognito app client ids whose access tokens this server accepts (Cognito access tokens carry no aud)"), { name: "McpOAuthConfigError" });
  }
  return ids;
}
`
      : "";
  return `${cognitoHelper}
/**
 * mcp-oauth options from the OAUTH_* variables (see .env.example)${p.validationCode.length > 0 ? `, plus what ${p.title} needs` : ""}.
 * The resource defaults to this server's own /mcp URL.
 */
export function oauthOptions(env: Env, defaultResource: string): ${returnType} {
  const options = optionsFromEnv(env, env["OAUTH_RESOURCE"] ? {} : { resource: defaultResource });
  return {
    ...options,
    resourceName: ${JSON.stringify(o.name)},${validation}
  };
}`;
}

function expressServer(o: ProjectOptions): string {
  return `/**
 * The MCP server: Streamable HTTP at /mcp (MCP SDK) behind mcp-oauth. Every MCP request needs
 * a valid access token from your authorization server; the protected resource metadata
 * (RFC 9728) tells MCP clients where to get one. Configured only by the environment.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import express, { type Request, type Response } from "express";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { mcpOAuth, optionsFromEnv, type McpOAuthMiddleware, type McpOAuthOptions } from "@mcp-oauth/express";

export type Env = Readonly<Record<string, string | undefined>>;

const list = (value: string | undefined): string[] => (value ?? "").split(/[\\s,]+/).filter((v) => v !== "");
${oauthOptionsCode(o, "McpOAuthOptions")}

/** The MCP server and its tools. Handlers see the verified caller as \`extra.authInfo\`. */
function createMcpServer(): McpServer {
  const server = new McpServer({ name: ${JSON.stringify(o.name)}, version: "0.1.0" });
  server.registerTool("whoami", { description: "Who is calling: subject, client id and scopes of the access token." }, async (extra) => {
    const auth = extra.authInfo;
    const { sub } = (auth?.extra ?? {}) as { sub?: string };
    const caller = { sub, clientId: auth?.clientId, scopes: auth?.scopes ?? [] };
    return { content: [{ type: "text", text: JSON.stringify(caller) }] };
  });
  return server;
}

export interface App {
  app: express.Express;
  /** The OAuth middleware; \`oauth.resourceServer\` holds the resolved options. */
  oauth: McpOAuthMiddleware;
}

export function createApp(env: Env, defaultResource: string): App {
  const allowedOrigins = list(env["OAUTH_ALLOWED_ORIGINS"]);
  const oauth = mcpOAuth({
    ...oauthOptions(env, defaultResource),
    cors: { allowedOrigins: allowedOrigins.includes("*") ? "*" : allowedOrigins },
  });
  const app = express();
  app.disable("x-powered-by");
  // Metadata at /.well-known/oauth-protected-resource[/mcp]; CORS and the token check on every
  // route registered after it (public routes go before it).
  app.use(oauth);
  app.use(express.json({ limit: "4mb" }));

  // Stateless Streamable HTTP: a fresh server and transport per request, so nothing outlives
  // the token that was checked for it.
  app.post("/mcp", async (req: Request, res: Response) => {
    const server = createMcpServer();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on("close", () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  });
  const notAllowed = (_req: Request, res: Response): void => {
    res.status(405).set("Allow", "POST").json({ jsonrpc: "2.0", error: { code: -32000, message: "Method not allowed" }, id: null });
  };
  app.get("/mcp", notAllowed);
  app.delete("/mcp", notAllowed);
  return { app, oauth };
}

export interface RunningServer {
  /** The MCP endpoint: the resource clients are given. */
  url: string;
  /** The protected resource metadata URL named in every challenge. */
  metadataUrl: string;
  oauth: McpOAuthMiddleware;
  close(): Promise<void>;
}

/** Listens on HOST:PORT (default 127.0.0.1:3000; PORT=0 picks a free port). */
export async function startServer(env: Env = process.env): Promise<RunningServer> {
  const host = env["HOST"] || "127.0.0.1";
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(Number(env["PORT"] || 3000), host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  // A wildcard bind address is no URL a client can use: the default resource is loopback.
  const publicHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? \`[\${host}]\` : host;
  let app: App;
  try {
    app = createApp(env, \`http://\${publicHost}:\${port}/mcp\`);
  } catch (error) {
    server.close();
    throw error;
  }
  server.on("request", app.app);
  const { options } = app.oauth.resourceServer;
  return {
    url: options.resource,
    metadataUrl: options.resourceMetadataUrl,
    oauth: app.oauth,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
`;
}

const LOAD_ENV = `// .env (see .env.example) fills in what the environment does not set.
if (existsSync(".env")) process.loadEnvFile(".env");`;

const REPORT_AUTHORIZATION_SERVERS = (
  target: string,
): string => `// What MCP clients will meet at the authorization server (PKCE S256, registration): warnings only.
void ${target}.inspectAuthorizationServers().then((reports) => {
  for (const report of reports) {
    if (!report.ok) console.warn(\`authorization server \${report.issuer}: \${report.error}\`);
    for (const warning of report.warnings) console.warn(\`authorization server \${report.issuer}: \${warning}\`);
  }
});`;

function expressIndex(): string {
  return `/** Starts the server from the environment (and .env). */
import { existsSync } from "node:fs";
import { McpOAuthConfigError } from "@mcp-oauth/express";
import { startServer, type RunningServer } from "./server.js";

${LOAD_ENV}

let running: RunningServer;
try {
  running = await startServer(process.env);
} catch (error) {
  if (error instanceof McpOAuthConfigError || (error as Error).name === "McpOAuthConfigError") {
    console.error((error as Error).message);
    process.exit(2);
  }
  throw error;
}
console.log(\`MCP server at \${running.url}\`);
console.log(\`  protected resource metadata: \${running.metadataUrl}\`);
${REPORT_AUTHORIZATION_SERVERS("running.oauth.resourceServer")}

const stop = (): void => {
  void running.close().then(() => process.exit(0));
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
`;
}

function frameworkServer(o: ProjectOptions): string {
  return `/**
 * The MCP server: mcp-framework's HTTP Stream transport at /mcp, with mcp-oauth's
 * OAuthAuthProvider in front of every request (metadata, Origin rule, access token, scopes,
 * sessions bound to their subject). Configured only by the environment.
 */
import { MCPServer, MCPTool, getRequestContext } from "mcp-framework";
import { z } from "zod";
import { OAuthAuthProvider, optionsFromEnv, type OAuthAuthProviderOptions, type OAuthRequestContext } from "@mcp-oauth/mcp-framework";

export type Env = Readonly<Record<string, string | undefined>>;

const list = (value: string | undefined): string[] => (value ?? "").split(/[\\s,]+/).filter((v) => v !== "");
${oauthOptionsCode(o, "OAuthAuthProviderOptions")}

/** Tools read the verified caller from mcp-framework's request context. */
export class WhoamiTool extends MCPTool {
  name = "whoami";
  description = "Who is calling: subject, client id and scopes of the access token.";
  schema = z.object({});

  async execute(): Promise<{ sub: string | undefined; clientId: string | undefined; scopes: string[] }> {
    const { sub, clientId, scopes } = (getRequestContext() ?? {}) as Partial<OAuthRequestContext>;
    return { sub, clientId, scopes: scopes ?? [] };
  }
}

export interface App {
  server: MCPServer;
  provider: OAuthAuthProvider;
  /** The MCP endpoint: the resource clients are given. */
  url: string;
  port: number;
}

/** The server on HOST:PORT (default 127.0.0.1:3000); \`server.start()\` listens. */
export function createApp(env: Env = process.env): App {
  const host = env["HOST"] || "127.0.0.1";
  const port = Number(env["PORT"] || 3000);
  const publicHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? \`[\${host}]\` : host;
  const allowedOrigins = list(env["OAUTH_ALLOWED_ORIGINS"]);
  const provider = new OAuthAuthProvider({
    ...oauthOptions(env, \`http://\${publicHost}:\${port}/mcp\`),
    // Browser origins allowed besides the server's own ("*": any).
    cors: { allowedOrigins: allowedOrigins.includes("*") ? "*" : allowedOrigins },
  });
  const server = new MCPServer({
    name: ${JSON.stringify(o.name)},
    version: "0.1.0",
    transport: {
      type: "http-stream",
      options: {
        port,
        host,
        endpoint: "/mcp",
        responseMode: "batch",
        auth: { provider },
      },
    },
  });
  server.addTool(WhoamiTool);
  return { server, provider, url: provider.resourceServer.options.resource, port };
}
`;
}

function frameworkIndex(): string {
  return `/** Starts the server from the environment (and .env). */
import { existsSync } from "node:fs";
import { createApp, type App } from "./server.js";

${LOAD_ENV}

let app: App;
try {
  app = createApp(process.env);
} catch (error) {
  if ((error as Error).name === "McpOAuthConfigError") {
    console.error((error as Error).message);
    process.exit(2);
  }
  throw error;
}
console.log(\`MCP server (mcp-framework) at \${app.url}\`);
console.log(\`  protected resource metadata: \${app.provider.resourceServer.options.resourceMetadataUrl}\`);
${REPORT_AUTHORIZATION_SERVERS("app.provider.resourceServer")}
await app.server.start();
`;
}

/** Variables the generated test sets so it runs without any real authorization server. */
function testEnv(o: ProjectOptions): Record<string, string> {
  return {
    OAUTH_AUTHORIZATION_SERVER: "https://auth.example.com",
    OAUTH_SCOPES: "mcp:read",
    OAUTH_VALIDATION: o.validation,
    ...(o.validation === "introspection"
      ? {
          OAUTH_CLIENT_ID: "test-client",
          OAUTH_CLIENT_SECRET: "test-secret",
          OAUTH_INTROSPECTION_ENDPOINT: "https://auth.example.com/introspect",
        }
      : {}),
    ...(o.provider === "cognito" ? { OAUTH_COGNITO_CLIENT_IDS: "test-app-client" } : {}),
  };
}

const TEST_REQUESTS = `const INITIALIZE = JSON.stringify({
  jsonrpc: "2.0", id: 1, method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "test", version: "0" } },
});
const MCP_HEADERS = { "content-type": "application/json", accept: "application/json, text/event-stream" };`;

const TEST_CASES = (
  urlExpr: string,
  metadataExpr: string,
): string => `test("publishes the protected resource metadata (RFC 9728)", async () => {
  const res = await fetch(${metadataExpr});
  assert.equal(res.status, 200);
  const metadata = (await res.json()) as { resource: string; authorization_servers: string[] };
  assert.equal(metadata.resource, ${urlExpr});
  assert.deepEqual(metadata.authorization_servers, [env.OAUTH_AUTHORIZATION_SERVER]);
});

test("answers an MCP request without a token with 401 and the challenge", async () => {
  const res = await fetch(${urlExpr}, { method: "POST", headers: MCP_HEADERS, body: INITIALIZE });
  assert.equal(res.status, 401);
  const challenge = res.headers.get("www-authenticate") ?? "";
  assert.match(challenge, /^Bearer /);
  assert.ok(challenge.includes(\`resource_metadata="\${${metadataExpr}}"\`), challenge);
  assert.ok(!challenge.includes("error="), "no error code without a token (RFC 6750 section 3.1)");
});

test("refuses a token it cannot verify", async () => {
  const res = await fetch(${urlExpr}, { method: "POST", headers: { ...MCP_HEADERS, authorization: "Bearer not-a-real-token" }, body: INITIALIZE });
  assert.ok(res.status === 401 || res.status === 503, \`status \${res.status}\`);
});
`;

function expressTest(o: ProjectOptions): string {
  return `/**
 * Runs the server on a free port with a placeholder authorization server: what can be
 * checked without tokens (metadata, challenge, refusal). \`npm run doctor\` checks a real setup.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startServer, type RunningServer } from "../src/server.js";

const env = ${JSON.stringify(testEnv(o), null, 2).replace(/\n/g, "\n")};
${TEST_REQUESTS}

let running: RunningServer | undefined;
let url = "";
let metadataUrl = "";
before(async () => {
  running = await startServer({ ...env, HOST: "127.0.0.1", PORT: "0" });
  ({ url, metadataUrl } = running);
});
after(async () => {
  await running?.close();
});

${TEST_CASES("url", "metadataUrl")}`;
}

function frameworkTest(o: ProjectOptions): string {
  return `/**
 * Runs the server on a free port with a placeholder authorization server: what can be
 * checked without tokens (metadata, challenge, refusal). \`npm run doctor\` checks a real setup.
 */
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { after, before, test } from "node:test";
import { createApp, type App } from "../src/server.js";

const env = ${JSON.stringify(testEnv(o), null, 2)};
${TEST_REQUESTS}

/** mcp-framework's transport needs a fixed port: take one that is free now. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", () => resolve()));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

let app: App | undefined;
let running: Promise<void> | undefined;
let url = "";
let metadataUrl = "";
before(async () => {
  const started = createApp({ ...env, HOST: "127.0.0.1", PORT: String(await freePort()) });
  app = started;
  url = started.url;
  metadataUrl = started.provider.resourceServer.options.resourceMetadataUrl;
  // start() resolves only when the server stops: wait for its metadata document instead.
  let failure: unknown;
  running = started.server.start().catch((error: unknown) => {
    failure = error;
  });
  for (let attempt = 0; ; attempt++) {
    if (failure !== undefined) throw failure;
    const up = await fetch(metadataUrl).then((r) => r.ok, () => false);
    if (up) break;
    if (attempt > 200) throw new Error("the server did not start");
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
});
after(async () => {
  await app?.server.stop();
  await running;
});

${TEST_CASES("url", "metadataUrl")}`;
}

function authServerScript(o: ProjectOptions): string {
  return `/**
 * A real OAuth 2.1 authorization server on loopback for development: dynamic client
 * registration, PKCE, resource indicators${o.validation === "jwt" ? ", JWT access tokens" : ", opaque access tokens and introspection"}. Any login name signs in.
 * Everything is in memory: a restart means new keys and new clients.
 */
import { existsSync } from "node:fs";
import { startLocalAuthorizationServer } from "@mcp-oauth/local-authorization-server";

if (existsSync(".env")) process.loadEnvFile(".env");
const issuer = new URL(process.env["OAUTH_AUTHORIZATION_SERVER"]?.split(",")[0] || "http://127.0.0.1:9000");
const clientId = process.env["OAUTH_CLIENT_ID"];
const clientSecret = process.env["OAUTH_CLIENT_SECRET"];
const as = await startLocalAuthorizationServer({
  host: issuer.hostname,
  port: Number(issuer.port || 9000),
  accessTokenFormat: ${JSON.stringify(o.validation === "jwt" ? "jwt" : "opaque")},
  // The client this MCP server introspects with (OAUTH_CLIENT_ID / OAUTH_CLIENT_SECRET).
  ...(clientId && clientSecret ? { introspectionClient: { clientId, clientSecret } } : {}),
});
console.log(\`local authorization server at \${as.issuer} (any login name signs in)\`);
const stop = (): void => {
  void as.close().then(() => process.exit(0));
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
`;
}

function tokenScript(): string {
  return `/**
 * Prints an access token for this MCP server from the local authorization server, obtained as
 * an MCP client obtains one: dynamic client registration, authorization code with PKCE and the
 * resource parameter, a scripted browser signing in (as the login name given, default alice)
 * and consenting. For the doctor: npm run -s token | npm run doctor -- --token -
 * Development only: it prints the token, which is what it is for.
 */
import { existsSync } from "node:fs";
import { obtainAccessToken } from "@mcp-oauth/local-authorization-server";

if (existsSync(".env")) process.loadEnvFile(".env");
const env = process.env;
const issuer = (env["OAUTH_AUTHORIZATION_SERVER"] ?? "").split(",")[0]?.trim() || "http://127.0.0.1:9000";
// The resource the server publishes (src/server.ts): OAUTH_RESOURCE, else its own /mcp URL.
const host = env["HOST"] || "127.0.0.1";
const publicHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? \`[\${host}]\` : host;
const resource = env["OAUTH_RESOURCE"] || \`http://\${publicHost}:\${env["PORT"] || 3000}/mcp\`;
const scope = (env["OAUTH_SCOPES"] ?? "").split(/[\\s,]+/).filter((s) => s !== "").join(" ") || "mcp:read";

try {
  const tokens = await obtainAccessToken(issuer, { resource, scope, login: process.argv[2] || "alice" });
  process.stdout.write(\`\${tokens.access_token}\\n\`);
} catch (error) {
  const code = (error as { cause?: { code?: string } }).cause?.code;
  console.error(
    code === "ECONNREFUSED"
      ? \`no authorization server answers at \${issuer}: start it with \\\`npm run auth-server\\\` (in another terminal)\`
      : \`no token from \${issuer}: \${(error as Error).message}\`,
  );
  process.exitCode = 1;
}
`;
}

function readme(o: ProjectOptions): string {
  const p = providerInfo(o.provider);
  const express = o.template === "express";
  const local = o.provider === "local";
  const steps = nextSteps(o.provider);
  const vendored = Object.keys(o.vendored ?? {});
  const lines = [
    `# ${o.name}`,
    "",
    `An MCP server (${express ? "Express + the MCP TypeScript SDK, Streamable HTTP" : "mcp-framework, HTTP Stream transport"}) that is an OAuth 2.1`,
    `resource server: mcp-oauth checks the access token of every MCP request${express ? "" : " (`OAuthAuthProvider`)"},`,
    'answers without one with `401` and the `WWW-Authenticate: Bearer resource_metadata="..."` challenge, and publishes',
    "the protected resource metadata (RFC 9728) that tells MCP clients where to get a token.",
    `Authorization server: ${p.title}; token validation: ${o.validation === "jwt" ? "JWT (signature and claims checked locally)" : "introspection (RFC 7662)"}.`,
    "",
    "## Next steps",
    "",
    "```sh",
    ...formatSteps(steps.now),
    "```",
    "",
    ...(steps.afterSetUp.length > 0
      ? [
          `Then set up ${p.title} (below), and:`,
          "",
          "```sh",
          ...formatSteps(steps.afterSetUp),
          "```",
          "",
          `No ${p.title} at hand? A project made with \`--provider local\` runs on this machine as it is: it comes with a`,
          "local authorization server and a script that gets a token from it.",
          "",
        ]
      : [
          "`npm run -s token` prints a token from the local authorization server (`npm run -s token -- bob`: signed in as bob).",
          "",
        ]),
    `Then connect an MCP client (the MCP Inspector, Claude, VS Code) to \`http://127.0.0.1:3000/mcp\` and call \`whoami\`:`,
    "it answers with the subject, client id and scopes of the token the client obtained.",
    "",
    ...(vendored.length > 0
      ? [
          "## The mcp-oauth packages in `vendor/`",
          "",
          `${vendored.map((n) => `\`${n}\``).join(", ")} were not on the npm registry when this project was made:`,
          "create-mcp-oauth packed them from its mcp-oauth repository into `vendor/`, and `package.json` depends on",
          "those files (`file:vendor/...`, and `overrides` for the ones they depend on). Keep `vendor/` with the project.",
          `Once they are published, replace each \`file:vendor/...\` with \`${VERSIONS.mcpOAuth}\`, delete \`overrides\` and`,
          "`vendor/`, and run `npm install`.",
          "",
        ]
      : []),
    `## ${p.title}`,
    "",
    ...p.setup.map((s, i) => `${i + 1}. ${s}`),
    "",
    "Then set the values in `.env` (each is explained in `.env.example`):",
    "",
    "```sh",
    // Commented out: set, it must be the URL the server is reached at (which `npm run doctor` then checks).
    "# OAUTH_RESOURCE=https://mcp.example.com/mcp   # once deployed: the MCP endpoint's public URL (unset: http://HOST:PORT/mcp)",
    ...(p.scopes.value !== "" ? [`OAUTH_SCOPES=${p.scopes.value}`] : []),
    `OAUTH_AUTHORIZATION_SERVER=${p.issuer.value}`,
    ...(p.issuers ? [`OAUTH_ISSUER=${p.issuers.value}`] : []),
    ...(p.audience ? [`OAUTH_AUDIENCE=${p.audience.value}`] : []),
    ...(o.validation === "jwt" && !p.jwksUri.commented ? [`OAUTH_JWKS_URI=${p.jwksUri.value}`] : []),
    ...p.extraEnv.map((e) => `${e.name}=${e.value}`),
    ...(o.validation === "introspection" && "endpoint" in p.introspection
      ? [
          `OAUTH_INTROSPECTION_ENDPOINT=${p.introspection.endpoint}`,
          `OAUTH_CLIENT_ID=${p.introspection.clientId}`,
          `OAUTH_CLIENT_SECRET=${p.introspection.clientSecret}`,
        ]
      : []),
    "```",
    "",
    "### How MCP clients get a client id",
    "",
    [...p.clientIds, ...CLIENT_ID_METADATA_NOTE].join("\n"),
    "",
    "## Going to production",
    "",
    "- Serve over https and set `OAUTH_RESOURCE` to the public URL of the MCP endpoint, exactly as clients are given it",
    "  (no trailing slash); behind a proxy or in a container also `HOST=0.0.0.0`.",
    "- `npm run build && npm start` runs the compiled server; `npm run dev` restarts on changes.",
    `- Run \`npx mcp-oauth doctor --resource https://YOUR-HOST/mcp\` against the deployed server; add \`--token <access token>\``,
    "  to check a real token (audience, issuer, expiry, scopes; the token is never printed).",
    "- Never commit `.env`: it may hold the introspection client secret.",
    "",
    "## Files",
    "",
    "- `src/server.ts`: the server, its OAuth options (`oauthOptions`) and the `whoami` tool; add your tools here.",
    "- `src/index.ts`: reads `.env` and the environment, starts the server.",
    "- `test/server.test.ts`: starts the server on a free port and checks the metadata and the challenge.",
    ...(local
      ? [
          "- `scripts/auth-server.ts`: the local authorization server (`npm run auth-server`).",
          "- `scripts/token.ts`: a token from it for this server (`npm run -s token`).",
        ]
      : []),
    ...(vendored.length > 0 ? ["- `vendor/`: the mcp-oauth packages, packed (see above)."] : []),
    ...(express
      ? []
      : [
          "",
          "`OAuthAuthProvider` puts mcp-oauth in front of every request of mcp-framework's transport: the metadata at both",
          "RFC 9728 URLs, the library's refusals, per-tool scopes (`scopePolicy`, 403 `insufficient_scope`), sessions bound to",
          "their subject; `/health` needs a token too (see the mcp-oauth documentation, `docs/mcp-framework.md`).",
        ]),
    "",
  ];
  return lines.join("\n");
}

/** Every file of the project, by path relative to its directory. */
export function generateFiles(o: ProjectOptions): Record<string, string> {
  const express = o.template === "express";
  return {
    "package.json": packageJson(o),
    "tsconfig.json": tsconfig(o),
    "tsconfig.build.json": TSCONFIG_BUILD,
    ".gitignore": GITIGNORE,
    ".env.example": envExample(o.provider, o.validation),
    "README.md": readme(o),
    "src/server.ts": express ? expressServer(o) : frameworkServer(o),
    "src/index.ts": express ? expressIndex() : frameworkIndex(),
    "test/server.test.ts": express ? expressTest(o) : frameworkTest(o),
    ...(o.provider === "local"
      ? { "scripts/auth-server.ts": authServerScript(o), "scripts/token.ts": tokenScript() }
      : {}),
  };
}

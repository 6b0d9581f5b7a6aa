/**
 * The quick start's main job (until the full demo exists): a local authorization server,
 * the Express example protected by mcpOAuth, one unauthorized call and one authorized
 * `whoami` through the real MCP SDK client. Exits 0 only when both behave as specified.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { obtainAccessToken, startLocalAuthorizationServer } from "@mcp-oauth/local-authorization-server";
import { startExampleServer } from "../examples/express-server/src/server.js";

const step = (text: string): void => console.log(`\n== ${text}`);
const failures: string[] = [];
const expect = (ok: boolean, what: string): void => {
  console.log(`   ${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) failures.push(what);
};

const as = await startLocalAuthorizationServer();
const mcp = await startExampleServer({ OAUTH_AUTHORIZATION_SERVER: as.issuer, OAUTH_SCOPES: "mcp:read", PORT: "0" });
try {
  console.log(`authorization server: ${as.issuer}`);
  console.log(`MCP server:           ${mcp.url}`);

  step("1. initialize without a token");
  const init = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "smoke", version: "0" } } };
  const anonymous = await fetch(mcp.url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
    body: JSON.stringify(init),
  });
  const challenge = anonymous.headers.get("www-authenticate") ?? "";
  console.log(`   POST ${mcp.url} -> ${anonymous.status}`);
  console.log(`   WWW-Authenticate: ${challenge}`);
  expect(anonymous.status === 401, "401 without a token");
  expect(challenge.includes(`resource_metadata="${new URL(mcp.url).origin}/.well-known/oauth-protected-resource/mcp"`), "challenge carries resource_metadata");
  expect(!challenge.includes("error="), "no error code when no token was sent (RFC 6750 3.1)");

  step("2. protected resource metadata");
  const metadataUrl = /resource_metadata="([^"]+)"/.exec(challenge)?.[1] ?? "";
  const metadata = await (await fetch(metadataUrl)).json() as { resource: string; authorization_servers: string[] };
  console.log(`   GET ${metadataUrl}`);
  console.log(`   ${JSON.stringify(metadata)}`);
  expect(metadata.resource === mcp.url, "resource is the MCP endpoint, verbatim");
  expect(metadata.authorization_servers[0] === as.issuer, "authorization_servers names the local authorization server");

  step("3. a token from the authorization server (DCR, authorization code + PKCE, resource indicator)");
  const tokens = await obtainAccessToken(as.issuer, { resource: mcp.url, scope: "mcp:read", login: "alice" });
  console.log(`   token_type=${tokens.token_type} scope="${tokens.scope}" expires_in=${tokens.expires_in} (token not shown)`);

  step("4. tools/call whoami with the real MCP SDK client");
  const client = new Client({ name: "mcp-oauth-smoke", version: "0.1.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(mcp.url), {
    requestInit: { headers: { Authorization: `Bearer ${tokens.access_token}` } },
  }));
  const result = await client.callTool({ name: "whoami", arguments: {} });
  const text = (result.content as { type: string; text: string }[])[0]?.text ?? "";
  console.log(`   whoami -> ${text}`);
  const who = JSON.parse(text) as { sub: string; scopes: string[] };
  expect(who.sub === "alice", "the tool sees the caller's subject");
  expect(who.scopes.includes("mcp:read"), "the tool sees the caller's scopes");
  await client.close();
} catch (error) {
  failures.push(String(error));
  console.error(error);
} finally {
  await mcp.close();
  await as.close();
}

console.log(failures.length === 0 ? "\nsmoke run passed" : `\nsmoke run FAILED: ${failures.join("; ")}`);
process.exit(failures.length === 0 ? 0 : 1);

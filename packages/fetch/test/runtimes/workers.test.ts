/**
 * The Fetch protection on workerd, the Workers runtime, through miniflare (both registry
 * packages): the example's Workers module (examples/fetch-server/src/worker.ts), bundled by
 * esbuild as wrangler would, with `nodejs_compat`, checked from outside with real tokens and
 * the real MCP SDK v2 client: metadata, 401 challenge, a token accepted, 403 step-up and the
 * call with the scope.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { obtainAccessToken } from "@mcp-oauth/local-authorization-server";
import { Miniflare } from "miniflare";
import {
  startTestAuthorizationServer,
  type TestAuthorizationServer,
} from "../../../../test/helpers/authorization-server.js";
import { parseChallenge } from "../../../../test/helpers/challenge-parser.js";
import { freePort } from "../../../../test/helpers/listen.js";
import { bundleForWorkerd, WORKERD_COMPATIBILITY } from "../../../../test/helpers/workerd.js";

interface Seen {
  status: number;
  challenge: string | null;
}

let as: TestAuthorizationServer;
let mf: Miniflare;
let url: string;
let readToken: string;
let writeToken: string;

async function connect(token: string, seen: Seen[] = []): Promise<Client> {
  const client = new Client({ name: "workers-test", version: "0.0.0" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), {
      requestInit: { headers: { Authorization: `Bearer ${token}` } },
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        seen.push({ status: response.status, challenge: response.headers.get("www-authenticate") });
        return response;
      },
    }),
  );
  return client;
}

const textOf = (result: unknown): string => (result as { content: { text: string }[] }).content[0]?.text ?? "";

beforeAll(async () => {
  as = await startTestAuthorizationServer();
  const port = await freePort();
  url = `http://127.0.0.1:${port}/mcp`;
  mf = new Miniflare({
    modules: true,
    script: await bundleForWorkerd("examples/fetch-server/src/worker.ts"),
    ...WORKERD_COMPATIBILITY,
    bindings: { OAUTH_AUTHORIZATION_SERVER: as.issuer, OAUTH_RESOURCE: url, OAUTH_SCOPES: "mcp:read" },
    host: "127.0.0.1",
    port,
  });
  await mf.ready;
  const tokenFor = (scope: string): Promise<string> =>
    obtainAccessToken(as.issuer, { resource: url, scope, login: "alice" }).then((t) => t.access_token);
  [readToken, writeToken] = await Promise.all([tokenFor("mcp:read"), tokenFor("mcp:read mcp:write")]);
}, 60_000);

afterAll(async () => {
  await mf?.dispose();
  await as?.close();
});

describe("the example on workerd (miniflare)", () => {
  it("serves the metadata document", async () => {
    const res = await fetch(new URL("/.well-known/oauth-protected-resource/mcp", url));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ resource: url, authorization_servers: [as.issuer] });
  });

  it("answers a request without a token with the MCP challenge", async () => {
    const res = await fetch(url, { method: "POST" });
    expect(res.status).toBe(401);
    expect(parseChallenge(res.headers.get("www-authenticate")!).params).toEqual({
      resource_metadata: `${new URL(url).origin}/.well-known/oauth-protected-resource/mcp`,
      scope: "mcp:read",
    });
  });

  it("accepts a token: the MCP SDK v2 client calls whoami and the tool sees its caller", async () => {
    const client = await connect(readToken);
    expect(JSON.parse(textOf(await client.callTool({ name: "whoami", arguments: {} })))).toMatchObject({
      sub: "alice",
      scopes: ["mcp:read"],
    });
    await client.close();
  });

  it("refuses write_note without mcp:write with 403 naming every scope needed, and runs it with it", async () => {
    const seen: Seen[] = [];
    const reader = await connect(readToken, seen);
    await expect(reader.callTool({ name: "write_note", arguments: { text: "x" } })).rejects.toThrow();
    expect(parseChallenge(seen.find((s) => s.status === 403)!.challenge!).params).toMatchObject({
      error: "insufficient_scope",
      scope: "mcp:read mcp:write",
    });
    await reader.close();
    const writer = await connect(writeToken);
    expect(textOf(await writer.callTool({ name: "write_note", arguments: { text: "x" } }))).toBe(
      "saved note 1 for alice",
    );
    await writer.close();
  });
});

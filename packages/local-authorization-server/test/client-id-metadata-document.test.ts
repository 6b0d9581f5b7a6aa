/**
 * Client ID Metadata Documents at the local authorization server (MCP 2025-11-25 and
 * 2026-07-28 client registration; draft-ietf-oauth-client-id-metadata-document): the
 * client's `client_id` is the URL of a JSON document the authorization server fetches and
 * checks. The clients here serve their documents on loopback ports over http, as a client
 * in development does.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import {
  completeAuthorization,
  obtainAccessToken,
  startLocalAuthorizationServer,
  type LocalAuthorizationServer,
} from "@mcp-oauth/local-authorization-server";
import { isLoopbackClientIdUrl } from "../src/client-id-metadata-document.js";
import { redirectNoticeHtml } from "../src/redirect-notice.js";
import { listen, type Listening } from "../../../test/helpers/listen.js";

const RESOURCE = "http://127.0.0.1:3999/mcp";
const REDIRECT_URI = "http://127.0.0.1:1/callback";

type Answer = { status?: number; headers?: Record<string, string>; body: string };

/** A client's web server: serves whatever `documents` holds at a path, and counts the fetches. */
let site: Listening;
const documents = new Map<string, (url: string) => Answer>();
const fetches = new Map<string, number>();
let as: LocalAuthorizationServer;

const documentFor = (url: string, overrides: Record<string, unknown> = {}): string =>
  JSON.stringify({
    client_id: url,
    client_name: "document client",
    redirect_uris: [REDIRECT_URI],
    grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"],
    token_endpoint_auth_method: "none",
    ...overrides,
  });

/** Serves `answer` at a fresh path of the client's site; returns the document URL. */
function serve(answer: (url: string) => Answer): string {
  const path = `/clients/${randomBytes(6).toString("hex")}.json`;
  documents.set(path, answer);
  return `${site.url}${path}`;
}

const payloadOf = (jwt: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString("utf8")) as Record<string, unknown>;

/** An authorization request for `clientId`, run by the scripted user agent: the redirect it ends at, or the page it stopped at. */
async function authorize(clientId: string, redirectUri = REDIRECT_URI): Promise<URL | Error> {
  const url = new URL(`${as.issuer}/auth`);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: clientId,
    redirect_uri: redirectUri,
    scope: "mcp:read",
    resource: RESOURCE,
    state: "s",
    code_challenge: createHash("sha256").update("v".repeat(43)).digest("base64url"),
    code_challenge_method: "S256",
  }).toString();
  return completeAuthorization(url, { redirectUri }).catch((error: Error) => error);
}

/** The error page oidc-provider shows the user when it cannot trust the client (no redirect). */
async function errorPage(clientId: string, redirectUri = REDIRECT_URI): Promise<{ status: number; text: string }> {
  const url = new URL(`${as.issuer}/auth`);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: clientId,
    redirect_uri: redirectUri,
    scope: "mcp:read",
    resource: RESOURCE,
    code_challenge: createHash("sha256").update("v".repeat(43)).digest("base64url"),
    code_challenge_method: "S256",
  }).toString();
  const response = await fetch(url, { redirect: "manual" });
  return { status: response.status, text: await response.text() };
}

beforeAll(async () => {
  site = await listen(
    createServer((req: IncomingMessage, res: ServerResponse) => {
      const path = (req.url ?? "/").split("?")[0]!;
      const answer = documents.get(path);
      fetches.set(path, (fetches.get(path) ?? 0) + 1);
      if (!answer) {
        res.writeHead(404).end();
        return;
      }
      const { status = 200, headers = { "content-type": "application/json" }, body } = answer(`${site.url}${path}`);
      res.writeHead(status, headers).end(body);
    }),
  );
  as = await startLocalAuthorizationServer({ resources: [RESOURCE] });
});

afterAll(async () => {
  await as?.close();
  await site?.close();
});

const fetchCount = (url: string): number => fetches.get(new URL(url).pathname) ?? 0;

describe("discovery", () => {
  it.each(["oauth-authorization-server", "openid-configuration"])(
    "advertises client_id_metadata_document_supported, PKCE S256 and the registration endpoint in %s",
    async (name) => {
      const metadata = (await (await fetch(`${as.issuer}/.well-known/${name}`)).json()) as Record<string, unknown>;
      expect(metadata["client_id_metadata_document_supported"]).toBe(true);
      expect(metadata["registration_endpoint"]).toBe(`${as.issuer}/reg`);
      // MCP 2025-11-25: MUST in OpenID Connect discovery too, which does not define it.
      expect(metadata["code_challenge_methods_supported"]).toEqual(["S256"]);
    },
  );

  it("advertises neither, and resolves no document, with clientIdMetadataDocuments: false", async () => {
    const closed = await startLocalAuthorizationServer({ resources: [RESOURCE], clientIdMetadataDocuments: false });
    try {
      const metadata = (await (
        await fetch(`${closed.issuer}/.well-known/oauth-authorization-server`)
      ).json()) as Record<string, unknown>;
      expect(metadata["client_id_metadata_document_supported"]).toBeUndefined();
      const url = serve((self) => ({ body: documentFor(self) }));
      await expect(
        obtainAccessToken(closed.issuer, { resource: RESOURCE, clientIdMetadataDocument: url }),
      ).rejects.toThrow(/authorization stopped .* HTTP 400/);
      expect(fetchCount(url)).toBe(0);
    } finally {
      await closed.close();
    }
  });
});

describe("a client identified by its metadata document", () => {
  it("completes the flow without registering: the token's client_id is the document URL", async () => {
    const url = serve((self) => ({ body: documentFor(self) }));
    const registrations = as.requestCounts.get("/reg") ?? 0;
    const tokens = await obtainAccessToken(as.issuer, {
      resource: RESOURCE,
      scope: "mcp:read",
      login: "carol",
      clientIdMetadataDocument: url,
    });
    expect(tokens.client_id).toBe(url);
    expect(payloadOf(tokens.access_token)).toMatchObject({ client_id: url, sub: "carol", aud: RESOURCE });
    expect(fetchCount(url)).toBeGreaterThan(0);
    expect(as.requestCounts.get("/reg") ?? 0).toBe(registrations);
  });

  it("may step up to any offered scope (the document names no scope limit)", async () => {
    const url = serve((self) => ({ body: documentFor(self) }));
    const tokens = await obtainAccessToken(as.issuer, {
      resource: RESOURCE,
      scope: "mcp:read mcp:write",
      clientIdMetadataDocument: url,
    });
    expect(String(payloadOf(tokens.access_token)["scope"]).split(" ").sort()).toEqual(["mcp:read", "mcp:write"]);
  });

  it("uses a cached document while its max-age lasts, and fetches one without max-age every time", async () => {
    const cached = serve((self) => ({
      headers: { "content-type": "application/json", "cache-control": "max-age=300" },
      body: documentFor(self),
    }));
    const uncached = serve((self) => ({
      headers: { "content-type": "application/json", "cache-control": "no-store" },
      body: documentFor(self),
    }));
    for (const url of [cached, uncached]) {
      await obtainAccessToken(as.issuer, { resource: RESOURCE, clientIdMetadataDocument: url });
      await obtainAccessToken(as.issuer, { resource: RESOURCE, clientIdMetadataDocument: url });
    }
    expect(fetchCount(cached)).toBe(1);
    // Looked up at the authorization request, after consent and at the token request: every time.
    expect(fetchCount(uncached)).toBeGreaterThan(2);
  });
});

describe("the sign-in and consent pages", () => {
  it("show the client id and the redirect URI's host, with a warning for a loopback one", async () => {
    const url = serve((self) => ({ body: documentFor(self) }));
    // The pages the scripted user agent is shown, read as it reads them.
    const pages: string[] = [];
    const realFetch = globalThis.fetch;
    globalThis.fetch = async (input, init) => {
      const response = await realFetch(input, init);
      if (new URL(new Request(input).url).pathname.startsWith("/interaction/") && response.status === 200)
        pages.push(await response.clone().text());
      return response;
    };
    try {
      expect(await authorize(url)).toBeInstanceOf(URL);
    } finally {
      globalThis.fetch = realFetch;
    }
    expect(pages).toHaveLength(2);
    for (const page of pages) {
      expect(page).toContain(
        `<p class="redirect-notice">The client <strong>${url}</strong> receives the answer at <strong>127.0.0.1:1</strong>. This address is on this machine`,
      );
    }
  });

  it("warn only for loopback hosts, and escape what the client chose", () => {
    const notice = redirectNoticeHtml("https://app.example.com:8443/callback", 'https://app.example.com/<b>"x"</b>');
    expect(notice).toBe(
      '<p class="redirect-notice">The client <strong>https://app.example.com/&#60;b&#62;&#34;x&#34;&#60;/b&#62;</strong> receives the answer at <strong>app.example.com:8443</strong>.</p>',
    );
    expect(redirectNoticeHtml("http://[::1]:9/cb", "c")).toContain("This address is on this machine");
  });
});

describe("documents that are refused", () => {
  it("a redirect_uri the document does not list: no redirect there, an error page", async () => {
    const url = serve((self) => ({ body: documentFor(self) }));
    const answer = await errorPage(url, "http://127.0.0.1:2/elsewhere");
    expect(answer.status).toBe(400);
    expect(answer.text).toContain("<strong>error</strong>: invalid_redirect_uri</pre>");
  });

  it.each<[string, (self: string) => Answer, RegExp]>([
    [
      "a client_id naming another URL",
      (self) => ({ body: documentFor(`${self}x`) }),
      /client_id does not match the expected value/,
    ],
    ["no client_name", (self) => ({ body: documentFor(self, { client_name: undefined }) }), /has no client_name/],
    ["no redirect_uris", (self) => ({ body: documentFor(self, { redirect_uris: [] }) }), /redirect_uris/],
    [
      "a client_secret",
      (self) => ({ body: documentFor(self, { client_secret: "s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t" }) }),
      /must not contain client_secret/,
    ],
    [
      "a shared-secret authentication method",
      (self) => ({ body: documentFor(self, { token_endpoint_auth_method: "client_secret_basic" }) }),
      /shared-secret/,
    ],
    ["a body that is not JSON", () => ({ body: "<html>client</html>" }), /is not JSON/],
    ["a JSON array", (self) => ({ body: `[${documentFor(self)}]` }), /is not a JSON object/],
    ["a 404", () => ({ status: 404, body: "" }), /fetch failed: HTTP 404/],
    [
      "a redirect to a copy elsewhere",
      (self) => ({ status: 302, headers: { location: `${self}.copy` }, body: "" }),
      /fetch failed: HTTP 302/,
    ],
    ["more than 5 KiB", (self) => ({ body: documentFor(self, { padding: "x".repeat(6000) }) }), /fetch failed/],
  ])("%s", async (_name, answer, message) => {
    const url = serve(answer);
    const page = await errorPage(url);
    expect(page.status).toBe(400);
    expect(page.text).toMatch(message);
    expect(await authorize(url)).toBeInstanceOf(Error);
  });
});

describe("which client ids are document URLs", () => {
  it.each([
    "http://127.0.0.1:8080/client.json",
    "http://localhost:8080/oauth/client-metadata.json",
    "http://[::1]:8080/client.json",
    "http://127.0.0.1:8080/client.json?v=2",
  ])("%s is resolved here", (id) => {
    expect(isLoopbackClientIdUrl(id)).toBe(true);
  });

  it.each([
    ["a public host over http", "http://client.example.com/client.json"],
    ["https (oidc-provider's own path)", "https://127.0.0.1:8080/client.json"],
    ["no path", "http://127.0.0.1:8080"],
    ["the root path", "http://127.0.0.1:8080/"],
    ["a dot segment", "http://127.0.0.1:8080/a/../client.json"],
    ["an uppercase host the parser lowers", "http://LOCALHOST:8080/client.json"],
    ["the default port spelled out", "http://127.0.0.1:80/client.json"],
    ["a fragment", "http://127.0.0.1:8080/client.json#x"],
    ["userinfo", "http://user@127.0.0.1:8080/client.json"],
    ["a host that only starts like loopback", "http://127.0.0.1.example.com/client.json"],
    ["not a URL", "mcp-client"],
  ])("%s is not (%s)", (_name, id) => {
    expect(isLoopbackClientIdUrl(id)).toBe(false);
  });
});

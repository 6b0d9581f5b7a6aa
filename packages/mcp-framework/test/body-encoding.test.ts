/**
 * Execute exactly what was authorized, on mcp-framework's real transports: the transport
 * runs the body the scope policy judged. The SSE transport (the MCP SDK's
 * `SSEServerTransport` behind it) decodes a POST body with its Content-Type charset, so the
 * bridge hands it the judged message re-serialized as UTF-8 JSON and refuses any other
 * charset, and any Content-Encoding, with 415 before deciding anything.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { gzipSync } from "node:zlib";
import { ERROR_RESPONSES } from "@mcp-oauth/core";
import {
  startTestAuthorizationServer,
  type TestAuthorizationServer,
} from "../../../test/helpers/authorization-server.js";
import { rawSocketRequest, type RawSocketResponse } from "../../../test/helpers/raw-socket.js";
import { INITIALIZE, startExample, type RunningExample } from "./support.js";

/**
 * `whoami+ACI-,...` (a tool nobody registered) to a reader that decodes UTF-8; `write_note`
 * to one that honours `charset=utf-7` (iconv-lite): `+ACI-` is `"` in UTF-7, and of the two
 * `name` keys the last wins.
 */
const UTF7_SMUGGLE =
  '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"arguments":{"text":"pwned"},' +
  '"name":"whoami+ACI-,+ACI-name+ACI-:+ACI-write_note"}}';
const WRITE_NOTE = {
  jsonrpc: "2.0",
  id: 8,
  method: "tools/call",
  params: { name: "write_note", arguments: { text: "x" } },
};
const WHOAMI = { jsonrpc: "2.0", id: 9, method: "tools/call", params: { name: "whoami", arguments: {} } };

const unsupported = (): Record<string, string> => {
  const row = ERROR_RESPONSES["unsupported_media_type" as keyof typeof ERROR_RESPONSES];
  return { error: row?.error ?? "(no row)", error_description: row?.description ?? "(no row)" };
};

/** An open SSE session: its message URL and every `data:` line the stream has sent. */
interface SseSession {
  messages: string;
  events: string[];
  close(): void;
  /** Resolves with the first event that contains `text`. */
  waitFor(text: string, ms?: number): Promise<string>;
}

async function openSse(url: string, token: string): Promise<SseSession> {
  const abort = new AbortController();
  const res = await fetch(url, {
    headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" },
    signal: abort.signal,
  });
  expect(res.status).toBe(200);
  const events: string[] = [];
  const waiters: { text: string; resolve: (event: string) => void }[] = [];
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  void (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf("\n\n")) !== -1) {
          const event = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          events.push(event);
          for (const waiter of waiters.splice(0)) {
            if (event.includes(waiter.text)) waiter.resolve(event);
            else waiters.push(waiter);
          }
        }
      }
    } catch {
      // aborted
    }
  })();
  const waitFor = (text: string, ms = 5000): Promise<string> => {
    const seen = events.find((event) => event.includes(text));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no event with ${text} within ${ms} ms`)), ms);
      waiters.push({
        text,
        resolve: (event) => {
          clearTimeout(timer);
          resolve(event);
        },
      });
    });
  };
  const endpoint = await waitFor("event: endpoint");
  const path = /^data: (.*)$/m.exec(endpoint)![1]!;
  return { messages: new URL(path, url).href, events, close: () => abort.abort(), waitFor };
}

let as: TestAuthorizationServer;
beforeAll(async () => {
  as = await startTestAuthorizationServer();
});
afterAll(() => as.close());

describe("the SSE transport", () => {
  let ex: RunningExample;
  let session: SseSession;
  let token: string;

  beforeAll(async () => {
    ex = await startExample({ MCP_TRANSPORT: "sse", OAUTH_AUTHORIZATION_SERVER: as.issuer, OAUTH_SCOPES: "mcp:read" });
    token = as.mint(ex.url, { scope: "mcp:read", sub: "mallory" });
    session = await openSse(ex.url, token);
    expect((await send(JSON.stringify(INITIALIZE))).status).toBe(202);
    await session.waitFor('"id":1');
    await send(JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }));
  });
  afterAll(async () => {
    session.close();
    await ex.stop();
  });

  const send = (body: string | Uint8Array, headers: Record<string, string> = {}): Promise<RawSocketResponse> => {
    const url = new URL(session.messages);
    return rawSocketRequest(ex.port, "POST", `${url.pathname}${url.search}`, {
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", ...headers },
      body,
    });
  };

  it("the plain write_note call with an mcp:read token: 403", async () => {
    expect((await send(JSON.stringify(WRITE_NOTE))).status).toBe(403);
  });

  it("write_note smuggled through charset=utf-7: 415, and the stream never reports a saved note", async () => {
    const res = await send(UTF7_SMUGGLE, { "Content-Type": "application/json; charset=utf-7" });
    // Whatever the answer, the tool must not have run: the next call's answer comes after it.
    expect((await send(JSON.stringify(WHOAMI))).status).toBe(202);
    await session.waitFor('"id":9');
    expect(session.events.filter((event) => event.includes("saved note"))).toEqual([]);
    expect([res.status, JSON.parse(res.body)]).toEqual([415, unsupported()]);
  });

  it.each(["utf-16le", "latin1", "UTF-7"])("charset=%s: 415 before anything is decided", async (charset) => {
    const res = await send(JSON.stringify(WHOAMI), { "Content-Type": `application/json; charset=${charset}` });
    expect([res.status, JSON.parse(res.body)]).toEqual([415, unsupported()]);
  });

  it('charset="utf-8" in any letter case, quoted or not, is UTF-8', async () => {
    for (const charset of ["utf-8", "UTF-8", '"utf-8"', "utf8"]) {
      const res = await send(JSON.stringify({ ...WHOAMI, id: 10 }), {
        "Content-Type": `application/json; charset=${charset}`,
      });
      expect([charset, res.status]).toEqual([charset, 202]);
    }
  });

  it("a gzip Content-Encoding: 415", async () => {
    const res = await send(gzipSync(JSON.stringify(WRITE_NOTE)), { "Content-Encoding": "gzip" });
    expect([res.status, JSON.parse(res.body)]).toEqual([415, unsupported()]);
  });

  it("a UTF-8 BOM is dropped, as the SDK's reader drops it: whoami runs", async () => {
    const res = await send(`\uFEFF${JSON.stringify({ ...WHOAMI, id: 11 })}`);
    expect(res.status).toBe(202);
    await session.waitFor('"id":11');
  });

  it("duplicate keys: judged and run as the last one (write_note, 403)", async () => {
    const res = await send(
      '{"jsonrpc":"2.0","id":12,"method":"tools/call","params":{"name":"whoami","arguments":{"text":"x"},"name":"write_note"}}',
    );
    expect(res.status).toBe(403);
  });
});

describe.each(["batch", "stream"] as const)("the HTTP Stream transport (%s)", (responseMode) => {
  let ex: RunningExample;
  let token: string;
  beforeAll(async () => {
    ex = await startExample({
      MCP_TRANSPORT: "http-stream",
      MCP_RESPONSE_MODE: responseMode,
      OAUTH_AUTHORIZATION_SERVER: as.issuer,
      OAUTH_SCOPES: "mcp:read",
    });
    token = as.mint(ex.url, { scope: "mcp:read" });
  });
  afterAll(() => ex.stop());

  const post = (body: string | Uint8Array, headers: Record<string, string>): Promise<RawSocketResponse> =>
    rawSocketRequest(ex.port, "POST", "/mcp", {
      headers: {
        Authorization: `Bearer ${token}`,
        "Content-Type": "application/json",
        Accept: "application/json, text/event-stream",
        ...headers,
      },
      body,
    });

  it("charset=utf-7: 415", async () => {
    const res = await post(UTF7_SMUGGLE, { "Content-Type": "application/json; charset=utf-7" });
    expect([res.status, JSON.parse(res.body)]).toEqual([415, unsupported()]);
  });

  it("a deflate Content-Encoding: 415", async () => {
    const res = await post(gzipSync(JSON.stringify(INITIALIZE)), { "Content-Encoding": "deflate" });
    expect([res.status, JSON.parse(res.body)]).toEqual([415, unsupported()]);
  });

  it("a UTF-8 BOM before initialize: the session opens", async () => {
    const res = await post(`\uFEFF${JSON.stringify(INITIALIZE)}`, {});
    expect(res.status).toBe(200);
    expect(typeof res.headers["mcp-session-id"]).toBe("string");
  });
});

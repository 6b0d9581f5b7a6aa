/**
 * Load through the Express example (`startExampleServer`, the one users start): 3000
 * requests, 100 at a time, each with a fresh token of one kind (valid, valid but lacking a
 * scope, expired, forged, missing). Every answer must be the right one for its kind, none a
 * 5xx, and the heap must come back near its baseline.
 */
import { afterAll, beforeAll, expect, it } from "@jest/globals";
import { Agent, request } from "node:http";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { ERROR_RESPONSES } from "@mcp-oauth/core";
import { generateSigningKey, type PrivateJwk } from "@mcp-oauth/local-authorization-server";
import { startExampleServer, type RunningExample } from "../../examples/express-server/src/server.js";
import { startTestAuthorizationServer, type TestAuthorizationServer } from "../helpers/authorization-server.js";
import { parseChallenge } from "../helpers/challenge-parser.js";
import { nowSeconds, signJwt } from "../helpers/jwt.js";
import { within } from "./support.js";

const TOTAL = 3000;
const CONCURRENCY = 100;

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

let as: TestAuthorizationServer;
let mcp: RunningExample;
let stranger: PrivateJwk;
let agent: Agent;

type Kind = "valid-get" | "valid-post" | "insufficient-scope" | "expired" | "forged" | "missing";
const KINDS: readonly Kind[] = ["valid-get", "valid-post", "insufficient-scope", "expired", "forged", "missing"];

interface Answer {
  status: number;
  challenge: string | undefined;
  body: string;
}

function send(kind: Kind, i: number): Promise<Answer> {
  const now = nowSeconds();
  const token =
    kind === "missing"
      ? undefined
      : kind === "expired"
        ? as.mint(mcp.url, { sub: `u${i}`, iat: now - 7200, exp: now - 3600 })
        : kind === "forged"
          ? signJwt(
              { alg: as.key.alg, typ: "at+jwt", kid: as.key.kid },
              { iss: as.issuer, aud: mcp.url, sub: `u${i}`, scope: "mcp:read mcp:write", exp: now + 600 },
              stranger,
            )
          : as.mint(mcp.url, { sub: `u${i}`, scope: "mcp:read" });
  const body =
    kind === "valid-get"
      ? undefined
      : kind === "insufficient-scope"
        ? JSON.stringify({
            jsonrpc: "2.0",
            id: i,
            method: "tools/call",
            params: { name: "write_note", arguments: { text: "x" } },
          })
        : JSON.stringify({ jsonrpc: "2.0", id: i, method: "tools/list" });
  return new Promise((resolve, reject) => {
    const req = request(
      mcp.url,
      {
        method: body === undefined ? "GET" : "POST",
        agent,
        headers: {
          accept: "application/json, text/event-stream",
          ...(body !== undefined ? { "content-type": "application/json" } : {}),
          ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            challenge: res.headers["www-authenticate"],
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** What each kind must get: the example's own JSON-RPC answer once authenticated, else the OAuth refusal. */
function check(kind: Kind, answer: Answer): string | undefined {
  const json = JSON.parse(answer.body) as Record<string, unknown>;
  const params = answer.challenge === undefined ? undefined : parseChallenge(answer.challenge).params;
  const refusal = (status: number, code: keyof typeof ERROR_RESPONSES): boolean =>
    answer.status === status &&
    json["error"] === ERROR_RESPONSES[code].error &&
    json["error_description"] === ERROR_RESPONSES[code].description &&
    params?.["error"] === ERROR_RESPONSES[code].challengeError;
  const ok = {
    // Authenticated: no session id, so the example answers "Session not found".
    "valid-get": answer.status === 404 && (json["error"] as { code?: number } | undefined)?.code === -32001,
    // Authenticated: not an initialize request and no session.
    "valid-post":
      answer.status === 400 &&
      json["jsonrpc"] === "2.0" &&
      (json["error"] as { code?: number } | undefined)?.code === -32000,
    "insufficient-scope":
      refusal(403, "insufficient_scope") && params?.["scope"]?.split(" ").sort().join(" ") === "mcp:read mcp:write",
    expired: refusal(401, "token_expired"),
    forged: refusal(401, "signature_invalid"),
    missing: refusal(401, "token_missing"),
  }[kind];
  return ok ? undefined : `${kind}: ${answer.status} ${answer.challenge ?? ""} ${answer.body}`;
}

/** Sends `total` requests, `concurrency` at a time, kinds in rotation; returns the problems and counts. */
async function load(
  total: number,
  concurrency: number,
): Promise<{ problems: string[]; counts: Record<string, number>; statuses: number[] }> {
  const problems: string[] = [];
  const counts: Record<string, number> = {};
  const statuses: number[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < total) {
      const i = next++;
      const kind = KINDS[i % KINDS.length]!;
      const answer = await send(kind, i);
      statuses.push(answer.status);
      counts[kind] = (counts[kind] ?? 0) + 1;
      const problem = check(kind, answer);
      if (problem !== undefined && problems.length < 10) problems.push(problem);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { problems, counts, statuses };
}

function heapAfterGc(): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

beforeAll(async () => {
  // ES256: signing thousands of tokens in the test costs little next to the server's work.
  as = await startTestAuthorizationServer({ keys: [generateSigningKey("ES256")] });
  stranger = generateSigningKey("ES256");
  mcp = await startExampleServer({ OAUTH_AUTHORIZATION_SERVER: as.issuer, OAUTH_SCOPES: "mcp:read", PORT: "0" });
  agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
});

afterAll(async () => {
  agent?.destroy();
  await mcp?.close();
  await as?.close();
});

it(`answers ${TOTAL} mixed requests (${CONCURRENCY} at a time) correctly, without a 5xx, and the heap returns near its baseline`, async () => {
  // Warm-up: JIT, lazily built parts, the key set, socket pools. Its garbage is collected below.
  const warm = await within(load(300, CONCURRENCY), 30_000, "warm-up");
  expect(warm.problems).toEqual([]);
  const statsBefore = mcp.example.oauth.resourceServer.stats();
  const baseline = heapAfterGc();

  const { problems, counts, statuses } = await within(load(TOTAL, CONCURRENCY), 60_000, "load");

  expect(problems).toEqual([]);
  expect(statuses).toHaveLength(TOTAL);
  expect(statuses.filter((s) => s >= 500)).toEqual([]);
  expect(counts).toEqual(Object.fromEntries(KINDS.map((kind) => [kind, TOTAL / KINDS.length])));
  // Every token reached the validator once and was counted under the right verdict.
  const stats = mcp.example.oauth.resourceServer.stats();
  const per = TOTAL / KINDS.length;
  expect(stats.accepted - statsBefore.accepted).toBe(3 * per);
  expect(stats.rejected - statsBefore.rejected).toBe(2 * per);
  expect(stats.upstreamErrors - statsBefore.upstreamErrors).toBe(0);
  expect(as.requestCounts.get("/jwks")).toBe(1);

  // What may legitimately stay: the validation cache (about 2500 entries of a few hundred
  // bytes, bounded at 10 000 entries) and allocator slack; about 2 MB on our machine. 20 MB
  // leaves room for other machines and Node versions, yet keeping each request object alive
  // (a listener pushing every request into an array) was measured at about 28 MB here and
  // fails this check.
  const growth = heapAfterGc() - baseline;
  expect(growth).toBeLessThan(20 * 1024 * 1024);
  // A guard against a hang, not a speed limit: the inner deadlines name what got stuck, and a
  // 2-core machine that is busy elsewhere needs more than jest's default to get there.
}, 120_000);

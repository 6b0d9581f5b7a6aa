/**
 * What a change did to the cost of a DPoP request: `npx tsx bench/src/dpop-ab.ts <checkout>`
 * runs the same MCP requests (`POST /mcp`, a cached bound token, a new ES256 proof each)
 * through `ResourceServer.check` of this tree and of another checkout of this repository (its
 * dependencies installed), in one process, and prints the difference per request.
 *
 * `bench/src/dpop.ts` puts one figure beside a baseline; comparing two of its runs compares two
 * moments of a shared machine as well as two trees. Here the two sides take turns in chunks of
 * 50 requests (the order alternating), and each chunk ends with a minor garbage collection
 * timed with it: each side pays for collecting its own garbage, where a collection would
 * otherwise fall on whichever chunk filled the young generation (on this VM one collection of
 * the benchmark's heap is 10 to 20 ms, about 10 µs per request of the chunk it lands on).
 * Rounds of 2000 requests a side; the median and quartiles of the rounds' differences, and
 * how many rounds went each way.
 */
import { spawnSync } from "node:child_process";
import { createPrivateKey, generateKeyPairSync, sign } from "node:crypto";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ResourceServer, type TokenRequest } from "@mcp-oauth/core";
import { accessTokenHash, thumbprintInput, thumbprintOf } from "@mcp-oauth/core/internal";
import { generateSigningKey, startLocalAuthorizationServer } from "@mcp-oauth/local-authorization-server";
import { median, onCpu, quartiles } from "./cpu-rounds.js";
import { es256Proof, mcpRequest } from "./dpop-requests.js";
import { claimsFor } from "./tokens.js";

const gc = (globalThis as { gc?: (options?: { type: "minor" | "major" }) => void }).gc;
if (gc === undefined) {
  const child = spawnSync(process.execPath, ["--expose-gc", ...process.execArgv, ...process.argv.slice(1)], {
    stdio: "inherit",
  });
  process.exit(child.status ?? 1);
}
/**
 * `--no-gc`: no collection after each chunk; each collection falls where the young generation
 * fills, as in a running server (its cost shared by both sides by chance, the rounds noisier).
 */
const collect = !process.argv.includes("--no-gc");
const other = process.argv.slice(2).find((arg) => !arg.startsWith("--"));
if (other === undefined) {
  process.stderr.write("usage: npx tsx bench/src/dpop-ab.ts [--no-gc] <another checkout of this repository>\n");
  process.exit(2);
}
const otherEntry = pathToFileURL(resolve(other, "packages/core/src/index.ts")).href;
const OtherResourceServer = ((await import(otherEntry)) as { ResourceServer: typeof ResourceServer }).ResourceServer;

const RESOURCE = new URL("https://mcp.example.com/mcp");
const ROUNDS = Number(process.env["ROUNDS"] ?? 21);
const PER_ROUND = 2000;
const WARM = 2000;
const CHUNK = 50;

const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
const jwk = publicKey.export({ format: "jwk" });
const thumbprint = thumbprintOf(thumbprintInput(jwk, "ES256"));
const headerSegment = Buffer.from(JSON.stringify({ typ: "dpop+jwt", alg: "ES256", jwk })).toString("base64url");
const now = Math.floor(Date.now() / 1000);
const authorizationServer = await startLocalAuthorizationServer({ keys: [generateSigningKey("RS256")] });
try {
  const signingJwk = authorizationServer.keys[0]!;
  const signingKey = createPrivateKey({ key: signingJwk as import("node:crypto").JsonWebKey, format: "jwk" });
  const input =
    `${Buffer.from(JSON.stringify({ alg: "RS256", typ: "at+jwt", kid: signingJwk.kid })).toString("base64url")}.` +
    Buffer.from(
      JSON.stringify({ ...claimsFor(authorizationServer.issuer, RESOURCE.href, 1), cnf: { jkt: thumbprint } }),
    ).toString("base64url");
  const boundToken = `${input}.${sign("sha256", Buffer.from(input), signingKey).toString("base64url")}`;
  const ath = accessTokenHash(boundToken);
  const proof = (): string => es256Proof(headerSegment, privateKey, RESOURCE.href, now, ath);
  const request = (dpopProof: string): TokenRequest => mcpRequest(RESOURCE.host, `DPoP ${boundToken}`, dpopProof);
  const options = {
    resource: RESOURCE.href,
    authorizationServers: [authorizationServer.issuer],
    dpop: { mode: "allowed" as const, replay: { maxEntries: 1_000_000 } },
  };
  const sides = { "this tree": new ResourceServer(options), [other]: new OtherResourceServer(options) };
  const names = Object.keys(sides);
  for (const server of Object.values(sides)) {
    await server.ready();
    await server.authenticate(request(proof())); // the token verified once, then cached
  }
  // The same proofs on both sides (each server has its own replay store), each side its own requests.
  const proofs = Array.from({ length: WARM + ROUNDS * PER_ROUND }, proof);
  const requests = Object.fromEntries(names.map((name) => [name, proofs.map(request)]));
  const timeChunk = (server: ResourceServer, chunk: readonly TokenRequest[]): number => {
    if (collect) gc!({ type: "minor" });
    const started = onCpu();
    for (const each of chunk) {
      const auth = server.check(each);
      if (auth instanceof Promise) throw new Error("ResourceServer.check went asynchronous on a cached token");
    }
    if (collect) gc!({ type: "minor" });
    return onCpu() - started;
  };
  for (const name of names) timeChunk(sides[name]!, requests[name]!.slice(0, WARM));

  const differences: number[] = [];
  const costs: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const spent: Record<string, number> = Object.fromEntries(names.map((name) => [name, 0]));
    for (let at = WARM + round * PER_ROUND; at < WARM + (round + 1) * PER_ROUND; at += CHUNK) {
      const order = (at / CHUNK) % 2 === 0 ? names : [...names].reverse();
      for (const name of order) spent[name]! += timeChunk(sides[name]!, requests[name]!.slice(at, at + CHUNK));
    }
    for (const name of names) costs[name]!.push(spent[name]! / PER_ROUND);
    differences.push((spent[names[0]!]! - spent[names[1]!]!) / PER_ROUND);
  }
  const [lower, upper] = quartiles(differences);
  const lines = [
    `ResourceServer.check, DPoP, cached token, new ES256 proof; µs of CPU per request (${collect ? `a minor GC after each chunk of ${CHUNK} included` : `chunks of ${CHUNK}, collections where they fall`}), medians of ${ROUNDS} rounds of ${PER_ROUND}:`,
    ...names.map((name) => `  ${name}: ${median(costs[name]!).toFixed(1)}`),
    `this tree − ${other}: ${median(differences).toFixed(2)} µs per request (quartiles ${lower.toFixed(2)} to ${upper.toFixed(2)}); ` +
      `this tree cheaper in ${differences.filter((d) => d < 0).length} of ${ROUNDS} rounds.`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
} finally {
  await authorizationServer.close();
}

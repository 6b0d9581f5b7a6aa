/**
 * WebCrypto against node:crypto for what the core does on a request, measured in the runtime
 * that runs this file (Node through tsx, Bun, Deno: each has both APIs). Prints one JSON line.
 * - cold path: import a JWK and verify one JWT signature with it (RS256, ES256), and verify
 *   alone with the key already held (what a new token costs once the key set is loaded);
 * - hot path: the SHA-256 of a token, base64url (the verdict cache's key).
 * Each variant runs OPS operations one after another per round, the variants taking turns
 * within a round; the figure is the median of the rounds, in µs per operation.
 * Never part of `pnpm test`: `pnpm bench:crypto` (crypto.ts) runs it.
 */
import {
  createHash,
  createPublicKey,
  generateKeyPairSync,
  hash,
  sign,
  verify,
  webcrypto,
  type JsonWebKey,
} from "node:crypto";

const ROUNDS = 7;
const OPS = { cold: 300, verify: 1_000, hash: 20_000 };

// The runtime's own WebCrypto (globalThis.crypto), typed as Node's.
const subtle = (globalThis.crypto as unknown as webcrypto.Crypto).subtle;
const encoder = new TextEncoder();

interface Algorithm {
  name: "RS256" | "ES256";
  jwk: JsonWebKey;
  data: Uint8Array;
  /** JOSE form: PKCS#1 v1.5 bytes for RS256, r || s (IEEE P1363) for ES256. */
  signature: Uint8Array;
  webImport: webcrypto.RsaHashedImportParams | webcrypto.EcKeyImportParams;
  webVerify: webcrypto.AlgorithmIdentifier | webcrypto.EcdsaParams;
}

function algorithm(name: "RS256" | "ES256"): Algorithm {
  const rsa = name === "RS256";
  const { publicKey, privateKey } = rsa
    ? generateKeyPairSync("rsa", { modulusLength: 2048 })
    : generateKeyPairSync("ec", { namedCurve: "P-256" });
  // A signing input of a realistic size: a JWT's header.payload.
  const data = encoder.encode(`eyJhbGciOiJ${"x".repeat(600)}`);
  const signature = sign("sha256", data, rsa ? privateKey : { key: privateKey, dsaEncoding: "ieee-p1363" });
  return {
    name,
    jwk: publicKey.export({ format: "jwk" }),
    data,
    signature: new Uint8Array(signature),
    webImport: rsa ? { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } : { name: "ECDSA", namedCurve: "P-256" },
    webVerify: rsa ? "RSASSA-PKCS1-v1_5" : { name: "ECDSA", hash: "SHA-256" },
  };
}

type Op = () => unknown;

/** µs per operation of `ops` runs of `op` in a row (awaited when it returns a promise). */
async function time(op: Op, ops: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < ops; i++) {
    const result = op();
    if (result instanceof Promise) await result;
  }
  return ((performance.now() - started) * 1000) / ops;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

function check(ok: unknown, what: string): void {
  if (ok !== true) throw new Error(`${what} did not verify: the measurement would be of a failure`);
}

async function main(): Promise<void> {
  const variants: { row: string; api: "node:crypto" | "WebCrypto"; ops: number; op: Op }[] = [];
  for (const alg of [algorithm("RS256"), algorithm("ES256")]) {
    const nodeInput = (key: ReturnType<typeof createPublicKey>) =>
      alg.name === "ES256" ? { key, dsaEncoding: "ieee-p1363" as const } : key;
    const nodeKey = createPublicKey({ key: alg.jwk, format: "jwk" });
    const webKey = await subtle.importKey("jwk", alg.jwk as webcrypto.JsonWebKey, alg.webImport, false, ["verify"]);
    check(verify("sha256", alg.data, nodeInput(nodeKey), alg.signature), `${alg.name} node:crypto`);
    check(await subtle.verify(alg.webVerify, webKey, alg.signature, alg.data), `${alg.name} WebCrypto`);
    variants.push(
      {
        row: `cold ${alg.name}: import the JWK + verify`,
        api: "node:crypto",
        ops: OPS.cold,
        op: () =>
          verify("sha256", alg.data, nodeInput(createPublicKey({ key: alg.jwk, format: "jwk" })), alg.signature),
      },
      {
        row: `cold ${alg.name}: import the JWK + verify`,
        api: "WebCrypto",
        ops: OPS.cold,
        op: async () => {
          const key = await subtle.importKey("jwk", alg.jwk as webcrypto.JsonWebKey, alg.webImport, false, ["verify"]);
          return subtle.verify(alg.webVerify, key, alg.signature, alg.data);
        },
      },
      {
        row: `cold ${alg.name}: verify, key held`,
        api: "node:crypto",
        ops: OPS.verify,
        op: () => verify("sha256", alg.data, nodeInput(nodeKey), alg.signature),
      },
      {
        row: `cold ${alg.name}: verify, key held`,
        api: "WebCrypto",
        ops: OPS.verify,
        op: () => subtle.verify(alg.webVerify, webKey, alg.signature, alg.data),
      },
    );
  }
  const token = `eyJhbGciOiJSUzI1NiJ9.${"a".repeat(700)}.${"b".repeat(342)}`;
  const base64url = (bytes: ArrayBuffer): string => {
    let binary = "";
    for (const byte of new Uint8Array(bytes)) binary += String.fromCharCode(byte);
    return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
  };
  const expected = createHash("sha256").update(token).digest("base64url");
  if (base64url(await subtle.digest("SHA-256", encoder.encode(token))) !== expected)
    throw new Error("WebCrypto's digest differs from node:crypto's");
  const oneShot = typeof hash === "function";
  variants.push(
    {
      row: "hot: sha-256 of a token, base64url",
      api: "node:crypto",
      ops: OPS.hash,
      // hash() (Node 21.7+, Bun, Deno) where it exists, else createHash: what the core would call.
      op: oneShot
        ? () => hash("sha256", token, "base64url")
        : () => createHash("sha256").update(token).digest("base64url"),
    },
    {
      row: "hot: sha-256 of a token, base64url",
      api: "WebCrypto",
      ops: OPS.hash,
      op: async () => base64url(await subtle.digest("SHA-256", encoder.encode(token))),
    },
  );

  const samples = variants.map(() => [] as number[]);
  for (const variant of variants) await time(variant.op, Math.ceil(variant.ops / 4)); // warm-up
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, variant] of variants.entries()) samples[i]!.push(await time(variant.op, variant.ops));
  }
  const rows = variants.map((variant, i) => ({ row: variant.row, api: variant.api, us: median(samples[i]!) }));
  console.log(JSON.stringify({ rows, rounds: ROUNDS, hashFunction: oneShot ? "hash()" : "createHash()" }));
}

await main();

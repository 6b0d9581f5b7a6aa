/**
 * The crypto seam on workerd (miniflare, `nodejs_compat`): RS256, PS256 and ES256 signatures
 * verify there through the core's own check, and a signature of other bytes does not. workerd's
 * node:crypto refuses a KeyObject inside verify options, which PS and ES need: without the
 * seam's other form those valid signatures came back invalid.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { constants, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { Miniflare } from "miniflare";
import { dpopKey, dpopProof, type DpopKey } from "../../../test/helpers/dpop.js";
import { bundleForWorkerd, WORKERD_COMPATIBILITY } from "../../../test/helpers/workerd.js";

let mf: Miniflare;
let dpopMf: Miniflare;

beforeAll(async () => {
  mf = new Miniflare({
    modules: true,
    script: await bundleForWorkerd("packages/core/test/workerd/verify-worker.ts"),
    ...WORKERD_COMPATIBILITY,
  });
  await mf.ready;
  dpopMf = new Miniflare({
    modules: true,
    script: await bundleForWorkerd("packages/core/test/workerd/dpop-worker.ts"),
    ...WORKERD_COMPATIBILITY,
  });
  await dpopMf.ready;
}, 60_000);

afterAll(async () => {
  await Promise.all([mf?.dispose(), dpopMf?.dispose()]);
});

const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
const signingInput = "eyJhbGciOiJ4In0.eyJzdWIiOiJhbGljZSJ9";

const CASES: { alg: string; publicKey: KeyObject; signature: (data: Buffer) => Buffer }[] = [
  { alg: "RS256", publicKey: rsa.publicKey, signature: (data) => sign("sha256", data, rsa.privateKey) },
  {
    alg: "PS256",
    publicKey: rsa.publicKey,
    signature: (data) =>
      sign("sha256", data, {
        key: rsa.privateKey,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
      }),
  },
  {
    alg: "ES256",
    publicKey: ec.publicKey,
    signature: (data) => sign("sha256", data, { key: ec.privateKey, dsaEncoding: "ieee-p1363" }),
  },
];

async function verifiedOnWorkerd(alg: string, publicKey: KeyObject, signature: Buffer): Promise<unknown> {
  const res = await mf.dispatchFetch("http://worker/", {
    method: "POST",
    body: JSON.stringify({
      alg,
      jwk: publicKey.export({ format: "jwk" }),
      signingInput,
      signature: signature.toString("base64url"),
    }),
  });
  return res.json();
}

describe.each(CASES)("$alg on workerd", ({ alg, publicKey, signature }) => {
  it("verifies a valid signature", async () => {
    expect(await verifiedOnWorkerd(alg, publicKey, signature(Buffer.from(signingInput, "latin1")))).toEqual({
      valid: true,
    });
  });

  it("refuses a signature of other bytes", async () => {
    expect(await verifiedOnWorkerd(alg, publicKey, signature(Buffer.from(`${signingInput}x`, "latin1")))).toEqual({
      valid: false,
    });
  });
});

describe("DPoP on workerd (proof, key import, nonce sealing, replay)", () => {
  const RESOURCE = "https://mcp.example.com/mcp";
  const TOKEN = "token-under-test";
  let key: DpopKey;
  beforeAll(async () => {
    key = await dpopKey("ES256");
  });
  const post = async (body: unknown): Promise<Record<string, unknown>> =>
    (await (
      await dpopMf.dispatchFetch("http://worker/", { method: "POST", body: JSON.stringify(body) })
    ).json()) as Record<string, unknown>;
  const input = (proof: string): Record<string, unknown> => ({
    op: "verify",
    method: "POST",
    proofs: [proof],
    requestTarget: "/mcp",
    accessToken: TOKEN,
    boundThumbprint: key.thumbprint,
  });
  const now = (): number => Math.floor(Date.now() / 1000);

  it("accepts a proof with the worker's nonce once, and refuses it replayed, without a nonce, or with a forged one", async () => {
    const { nonce } = (await post({ op: "nonce" })) as { nonce: string };
    expect(nonce).toMatch(/^[A-Za-z0-9_-]+$/);
    const proof = await dpopProof(key, { htu: RESOURCE, accessToken: TOKEN, nonce }, now());
    expect(await post(input(proof))).toEqual({ thumbprint: key.thumbprint });
    expect(await post(input(proof))).toEqual({ code: "dpop_proof_replayed" });
    expect(await post(input(await dpopProof(key, { htu: RESOURCE, accessToken: TOKEN }, now())))).toEqual({
      code: "dpop_nonce_required",
    });
    const forged = `${nonce.slice(0, -2)}${nonce.endsWith("AA") ? "BB" : "AA"}`;
    expect(
      await post(input(await dpopProof(key, { htu: RESOURCE, accessToken: TOKEN, nonce: forged }, now()))),
    ).toEqual({
      code: "dpop_nonce_invalid",
    });
  });
});

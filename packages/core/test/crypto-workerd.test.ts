/**
 * The crypto seam on workerd (miniflare, `nodejs_compat`): RS256, PS256 and ES256 signatures
 * verify there through the core's own check, and a signature of other bytes does not. workerd's
 * node:crypto refuses a KeyObject inside verify options, which PS and ES need: without the
 * seam's other form those valid signatures came back invalid.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { constants, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { Miniflare } from "miniflare";
import { bundleForWorkerd, WORKERD_COMPATIBILITY } from "../../../test/helpers/workerd.js";

let mf: Miniflare;

beforeAll(async () => {
  mf = new Miniflare({
    modules: true,
    script: await bundleForWorkerd("packages/core/test/workerd/verify-worker.ts"),
    ...WORKERD_COMPATIBILITY,
  });
  await mf.ready;
}, 60_000);

afterAll(async () => {
  await mf?.dispose();
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

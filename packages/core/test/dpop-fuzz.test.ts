/**
 * Property-based tests (fast-check) of proof parsing: random and garbled `DPoP` headers and
 * segments are refused with a `dpop_*` `McpOAuthError`, never another error, never accepted.
 */
import { beforeAll, describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { McpOAuthError } from "../src/errors.js";
import { DpopVerifier, resolveDpopOptions, type DpopProofInput } from "../src/internal.js";
import { dpopKey, dpopProof, type DpopKey } from "../../../test/helpers/dpop.js";

const RUNS = { numRuns: 300 };
const NOW_MS = 1_750_000_000_000;
const TOKEN = "access-token-under-test";

let key: DpopKey;
let verifier: DpopVerifier;
/** A valid proof, accepted once before the properties run: any variant of it must be refused. */
let spent: string;

beforeAll(async () => {
  key = await dpopKey();
  verifier = new DpopVerifier(resolveDpopOptions({ mode: "allowed" }), {
    resourceUrl: new URL("https://mcp.example.com/mcp"),
    now: () => NOW_MS,
  });
  spent = await dpopProof(key, { accessToken: TOKEN }, NOW_MS / 1000);
  await verifier.verify(input(spent));
});

function input(proofs: DpopProofInput["proofs"]): DpopProofInput {
  return { method: "POST", proofs, requestTarget: "/mcp", accessToken: TOKEN, boundThumbprint: key.thumbprint };
}

/** Resolves to the refusal's code; fails the property on acceptance or on any other error. */
async function refusedCode(proofs: DpopProofInput["proofs"]): Promise<string> {
  try {
    await verifier.verify(input(proofs));
  } catch (error) {
    if (!(error instanceof McpOAuthError)) throw error;
    expect(error.code).toMatch(/^dpop_/);
    expect(error.code).not.toBe("dpop_replay_unavailable");
    return error.code;
  }
  throw new Error(`accepted: ${JSON.stringify(proofs)}`);
}

const b64 = (value: string | Uint8Array): string => Buffer.from(value).toString("base64url");
const jsonSegment = fc.jsonValue().map((value) => b64(JSON.stringify(value)));
const base64urlText = fc.string({
  unit: fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
  maxLength: 200,
});
/** Headers that look like proof headers, with values of the wrong kinds mixed in. */
const headerish = fc
  .record(
    {
      typ: fc.oneof(fc.constantFrom("dpop+jwt", "jwt", "DPOP+JWT", ""), fc.jsonValue()),
      alg: fc.oneof(fc.constantFrom("ES256", "RS256", "EdDSA", "none", "HS256", "PS256"), fc.jsonValue()),
      jwk: fc.oneof(
        fc.constant(undefined),
        fc.jsonValue(),
        fc.record({
          kty: fc.constantFrom("EC", "RSA", "OKP", "oct"),
          crv: fc.constantFrom("P-256", "Ed25519", "P-384"),
          x: base64urlText,
          y: base64urlText,
          n: base64urlText,
          e: base64urlText,
          d: base64urlText,
        }),
      ),
      crit: fc.jsonValue(),
    },
    { requiredKeys: [] },
  )
  .map((header) => b64(JSON.stringify(header)));
const payloadish = fc
  .record(
    {
      jti: fc.jsonValue(),
      htm: fc.oneof(fc.constant("POST"), fc.jsonValue()),
      htu: fc.oneof(fc.constant("https://mcp.example.com/mcp"), fc.string()),
      iat: fc.oneof(fc.constant(NOW_MS / 1000), fc.double(), fc.jsonValue()),
      ath: fc.oneof(fc.string(), fc.jsonValue()),
      nonce: fc.jsonValue(),
    },
    { requiredKeys: [] },
  )
  .map((payload) => b64(JSON.stringify(payload)));
const segment = fc.oneof(jsonSegment, base64urlText, fc.string(), headerish, payloadish);

describe("proof parsing", () => {
  it("refuses any header list of random strings", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.constant(undefined), fc.string({ maxLength: 300 }), fc.array(fc.string({ maxLength: 300 }))),
        async (proofs) => {
          await refusedCode(proofs);
        },
      ),
      RUNS,
    );
  });

  it("refuses three random segments of every kind, signed or not", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(headerish, segment),
        fc.oneof(payloadish, segment),
        fc.oneof(base64urlText, fc.uint8Array({ maxLength: 200 }).map(b64), fc.string()),
        async (header, payload, signature) => {
          await refusedCode(`${header}.${payload}.${signature}`);
        },
      ),
      RUNS,
    );
  });

  it("refuses every edit of a proof already accepted: garbled, cut, lengthened or reshuffled", async () => {
    const edit = fc.oneof(
      fc.tuple(fc.nat(), fc.string({ minLength: 1, maxLength: 3 })).map(
        ([at, text]) =>
          (p: string) =>
            p.slice(0, at % p.length) + text + p.slice((at % p.length) + 1),
      ),
      fc.tuple(fc.nat(), fc.string({ maxLength: 5 })).map(
        ([at, text]) =>
          (p: string) =>
            p.slice(0, at % p.length) + text + p.slice(at % p.length),
      ),
      fc.nat().map((at) => (p: string) => p.slice(0, at % p.length)),
      fc.constantFrom(
        (p: string) => p.split(".").reverse().join("."),
        (p: string) => `${p}.${p}`,
        (p: string) => `${p},${p}`,
        (p: string) => ` ${p}`,
        (p: string) => p.toUpperCase(),
        (p: string) => p,
      ),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(edit, { minLength: 1, maxLength: 3 }), async (edits) => {
        await refusedCode(edits.reduce((proof, apply) => apply(proof), spent));
      }),
      RUNS,
    );
  });
});

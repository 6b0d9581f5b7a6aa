/**
 * Stateless DPoP nonces (RFC 9449 section 9): issued, accepted, stale, tampered, rotated, and
 * the nonce flow through the verifier.
 */
import { beforeAll, describe, expect, it } from "@jest/globals";
import { DpopNonces, DpopVerifier, resolveDpopOptions, type DpopProofInput } from "../src/internal.js";
import { codeOf } from "../../../test/helpers/error-code.js";
import { dpopKey, dpopProof, settle, type DpopKey } from "../../../test/helpers/dpop.js";

const OLD_SECRET = "old-secret-old-secret-old-secret-0123456789";
const NEW_SECRET = "new-secret-new-secret-new-secret-0123456789";
const AUDIENCE = "https://mcp.example.com/mcp";
const START = 1_750_000_000_000;

function nonces(secrets: string[], now: () => number, extra: { audience?: string; tolerance?: number } = {}) {
  return new DpopNonces({
    secrets,
    lifetimeSeconds: 300,
    audience: extra.audience ?? AUDIENCE,
    clockToleranceSeconds: extra.tolerance ?? 0,
    now,
  });
}

/** `nonce` with the byte at `index` changed. */
function flipByte(nonce: string, index: number): string {
  const bytes = Buffer.from(nonce, "base64url");
  bytes[index] = bytes[index]! ^ 0x01;
  return bytes.toString("base64url");
}

describe("DpopNonces", () => {
  it("accepts the nonce it issued, and does not ask for a new one yet", () => {
    const codec = nonces([NEW_SECRET], () => START);
    const nonce = codec.issue();
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{50}$/);
    expect(codec.check(nonce)).toEqual({ valid: true, renew: false });
  });

  it("reuses a nonce for a tenth of its lifetime, then issues another", () => {
    let now = START;
    const codec = nonces([NEW_SECRET], () => now);
    const first = codec.issue();
    now += 29_000;
    expect(codec.issue()).toBe(first);
    now += 2_000;
    expect(codec.issue()).not.toBe(first);
  });

  it("asks for renewal past half the lifetime and calls it stale past the lifetime", () => {
    let now = START;
    const codec = nonces([NEW_SECRET], () => now);
    const nonce = codec.issue();
    now = START + 150_001;
    expect(codec.check(nonce)).toEqual({ valid: true, renew: true });
    now = START + 300_000;
    expect(codec.check(nonce)).toEqual({ valid: true, renew: true });
    now = START + 300_001;
    expect(codec.check(nonce)).toEqual({ valid: false, reason: "stale" });
  });

  it("calls a nonce issued ahead of this clock stale, past the clock tolerance", () => {
    const ahead = nonces([NEW_SECRET], () => START + 10_000).issue();
    expect(nonces([NEW_SECRET], () => START).check(ahead)).toEqual({ valid: false, reason: "stale" });
    expect(nonces([NEW_SECRET], () => START, { tolerance: 10 }).check(ahead).valid).toBe(true);
  });

  it.each([
    ["the version", 0],
    ["the IV", 5],
    ["the sealed time", 15],
    ["the tag", 30],
    ["the tag's last byte", 36],
  ])("refuses a nonce with a changed byte in %s", (_, index) => {
    const codec = nonces([NEW_SECRET], () => START);
    expect(codec.check(flipByte(codec.issue(), index))).toEqual({ valid: false, reason: "invalid" });
  });

  it.each([
    ["empty", ""],
    ["short", "abc"],
    ["not base64url", "+".repeat(50)],
    ["too long", "A".repeat(51)],
    ["of the right length but random", "A".repeat(50)],
  ])("refuses a nonce that is %s", (_, nonce) => {
    expect(nonces([NEW_SECRET], () => START).check(nonce)).toEqual({ valid: false, reason: "invalid" });
  });

  it("refuses a nonce spelled with base64's + or / for base64url's - or _ (the same bytes to a lenient decoder)", () => {
    let now = START;
    const codec = nonces([NEW_SECRET], () => now);
    let nonce = codec.issue();
    // A nonce holding - or _ (each of its 50 characters is one with probability 1/32).
    while (!/[-_]/.test(nonce)) {
      now += 31_000;
      nonce = codec.issue();
    }
    const respelled = nonce.replaceAll("-", "+").replaceAll("_", "/");
    expect(Buffer.from(respelled, "base64url")).toEqual(Buffer.from(nonce, "base64url"));
    expect(codec.check(nonce).valid).toBe(true);
    expect(codec.check(respelled)).toEqual({ valid: false, reason: "invalid" });
  });

  it("issues a new nonce when the clock went back, the same one within the same millisecond", () => {
    let now = START;
    const codec = nonces([NEW_SECRET], () => now);
    const first = codec.issue();
    expect(codec.issue()).toBe(first);
    now = START - 1;
    const afterSetBack = codec.issue();
    expect(afterSetBack).not.toBe(first);
    expect(codec.check(afterSetBack).valid).toBe(true);
  });

  it("reuses a nonce up to just before a tenth of its lifetime, not at it", () => {
    let now = START;
    const codec = nonces([NEW_SECRET], () => now);
    const first = codec.issue();
    now = START + 29_999;
    expect(codec.issue()).toBe(first);
    now = START + 30_000;
    expect(codec.issue()).not.toBe(first);
  });

  it("asks for renewal only past half the lifetime, not at it", () => {
    let now = START;
    const codec = nonces([NEW_SECRET], () => now);
    const nonce = codec.issue();
    now = START + 150_000;
    expect(codec.check(nonce)).toEqual({ valid: true, renew: false });
    now = START + 150_001;
    expect(codec.check(nonce)).toEqual({ valid: true, renew: true });
  });

  it("needs a secret", () => {
    expect(() => nonces([], () => START)).toThrow("DpopNonces needs at least one secret");
  });

  it("accepts the previous secret's nonces during a rotation, and not after", () => {
    const before = nonces([OLD_SECRET], () => START).issue();
    const during = nonces([NEW_SECRET, OLD_SECRET], () => START);
    expect(during.check(before).valid).toBe(true);
    const after = nonces([NEW_SECRET], () => START);
    expect(after.check(before)).toEqual({ valid: false, reason: "invalid" });
    // The first secret issues: what the rotated replica hands out, the new-only one accepts.
    expect(after.check(during.issue()).valid).toBe(true);
  });

  it("refuses a nonce of another resource sharing the secret", () => {
    const other = nonces([NEW_SECRET], () => START, { audience: "https://other.example.com/mcp" }).issue();
    expect(nonces([NEW_SECRET], () => START).check(other)).toEqual({ valid: false, reason: "invalid" });
  });
});

describe("the nonce flow through DpopVerifier", () => {
  const TOKEN = "access-token";
  const NOW_S = START / 1000;
  let key: DpopKey;
  beforeAll(async () => {
    key = await dpopKey();
  });

  const input = (proof: string): DpopProofInput => ({
    method: "POST",
    proofs: [proof],
    requestTarget: "/mcp",
    accessToken: TOKEN,
    boundThumbprint: key.thumbprint,
  });
  const build = (secrets: string[], now: () => number): DpopVerifier =>
    new DpopVerifier(resolveDpopOptions({ mode: "required", nonce: { secrets } }), {
      resourceUrl: new URL(AUDIENCE),
      now,
    });

  it("asks for a nonce, accepts the proof that carries it, and refuses a wrong or stale one", async () => {
    let now = START;
    const verifier = build([NEW_SECRET], () => now);
    const withNonce = (nonce?: string): Promise<string> =>
      dpopProof(key, { accessToken: TOKEN, nonce, iat: Math.floor(now / 1000) }, NOW_S);

    expect(await codeOf(settle(async () => verifier.verify(input(await withNonce()))))).toBe("dpop_nonce_required");
    const nonce = verifier.nonce()!;
    expect(await codeOf(settle(async () => verifier.verify(input(await withNonce(nonce)))))).toBe("ok");
    expect(
      await codeOf(settle(async () => verifier.verify(input(await withNonce("definitely-not-the-server-nonce"))))),
    ).toBe("dpop_nonce_invalid");
    now = START + 301_000;
    expect(await codeOf(settle(async () => verifier.verify(input(await withNonce(nonce)))))).toBe("dpop_nonce_invalid");
  });

  it("hands out the next nonce once the one used is past half its lifetime", async () => {
    let now = START;
    const verifier = build([NEW_SECRET], () => now);
    const nonce = verifier.nonce()!;
    const first = await verifier.verify(input(await dpopProof(key, { accessToken: TOKEN, nonce }, NOW_S)));
    expect(first.nextNonce).toBeUndefined();
    now = START + 200_000;
    const proof = await dpopProof(key, { accessToken: TOKEN, nonce, iat: NOW_S + 200 }, NOW_S);
    const later = await verifier.verify(input(proof));
    expect(later.nextNonce).toBeDefined();
    expect(later.nextNonce).not.toBe(nonce);
    expect(verifier.nonces!.check(later.nextNonce!)).toEqual({ valid: true, renew: false });
  });

  it("accepts a nonce issued by another replica with the same secret", async () => {
    const replicaA = build([NEW_SECRET], () => START);
    const replicaB = build([NEW_SECRET], () => START);
    const proof = await dpopProof(key, { accessToken: TOKEN, nonce: replicaA.nonce() }, NOW_S);
    expect(await codeOf(settle(async () => replicaB.verify(input(proof))))).toBe("ok");
  });

  it("has no nonces when no secret is configured", () => {
    const verifier = new DpopVerifier(resolveDpopOptions({ mode: "allowed" }), { resourceUrl: new URL(AUDIENCE) });
    expect(verifier.nonce()).toBeUndefined();
  });
});

/**
 * The crypto seam on Node: which JWKs of a key set become verification keys (what jwks-rsa
 * decided before issue 27), and the cache's SHA-256.
 */
import { describe, expect, it } from "@jest/globals";
import { createHash, generateKeyPairSync } from "node:crypto";
import { importPublicJwk, sha256Base64url } from "../src/crypto/index.js";

const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
const ed = generateKeyPairSync("ed25519");
const publicJwk = (key: typeof rsa.publicKey): Record<string, unknown> => ({ ...key.export({ format: "jwk" }) });

describe("importPublicJwk", () => {
  it.each([
    ["RSA", rsa.publicKey, "rsa"],
    ["EC", ec.publicKey, "ec"],
    ["OKP", ed.publicKey, "ed25519"],
  ])("imports a public %s key, with use sig or no use", (_kty, key, type) => {
    for (const use of [undefined, "sig"]) {
      const imported = importPublicJwk({ ...publicJwk(key), ...(use === undefined ? {} : { use }) });
      expect(imported?.type).toBe("public");
      expect(imported?.asymmetricKeyType).toBe(type);
    }
  });

  it("refuses an encryption key (use enc), a secret (oct), a private key and an unusable one", () => {
    expect(importPublicJwk({ ...publicJwk(rsa.publicKey), use: "enc" })).toBeUndefined();
    expect(importPublicJwk({ kty: "oct", k: "c2VjcmV0" })).toBeUndefined();
    expect(importPublicJwk({ ...rsa.privateKey.export({ format: "jwk" }) })).toBeUndefined();
    expect(importPublicJwk({ ...ec.privateKey.export({ format: "jwk" }) })).toBeUndefined();
    expect(importPublicJwk({ kty: "RSA", n: "AQAB" })).toBeUndefined();
    expect(importPublicJwk({ kty: "EC", crv: "P-999", x: "AA", y: "AA" })).toBeUndefined();
    expect(importPublicJwk({})).toBeUndefined();
  });
});

describe("sha256Base64url", () => {
  it("is the SHA-256 of the UTF-8 text, base64url without padding", () => {
    for (const text of ["", "eyJhbGciOiJSUzI1NiJ9.e30.c2ln", "é€😀"]) {
      expect(sha256Base64url(text)).toBe(createHash("sha256").update(text, "utf8").digest("base64url"));
    }
  });
});

describe("the seam is the only door to node:crypto", () => {
  it("no other module of packages/core/src imports node:crypto (docs/architecture.md, crypto on each runtime)", async () => {
    const { readdir, readFile } = await import("node:fs/promises");
    const src = new URL("../src/", import.meta.url);
    const files = (await readdir(src, { recursive: true })).filter((file) => file.endsWith(".ts"));
    const importing: string[] = [];
    for (const file of files) {
      const text = await readFile(new URL(file, src), "utf8");
      if (/from\s+["'](?:node:)?crypto["']|import\(\s*["'](?:node:)?crypto["']\s*\)/.test(text)) importing.push(file);
    }
    expect(files.length).toBeGreaterThan(20);
    expect(importing).toEqual(["crypto/index.ts"]);
  });
});

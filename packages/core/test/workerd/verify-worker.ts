/**
 * A Worker that runs the core's signature check (jwt/signature.ts, through the crypto seam) on
 * what it is posted: `{ alg, jwk, signingInput, signature }` (signature base64url), answering
 * `{ valid }`. Bundled and run on workerd by crypto-workerd.test.ts.
 */
import { importPublicJwk } from "../../src/crypto/index.js";
import { verifySignature } from "../../src/jwt/signature.js";

export default {
  async fetch(request: Request): Promise<Response> {
    const { alg, jwk, signingInput, signature } = (await request.json()) as {
      alg: string;
      jwk: Record<string, unknown>;
      signingInput: string;
      signature: string;
    };
    const key = importPublicJwk(jwk);
    if (key === undefined) return Response.json({ error: "key not imported" });
    return Response.json({ valid: verifySignature(alg, key, signingInput, Buffer.from(signature, "base64url")) });
  },
};

/** Signing keys for the local authorization server, generated per start unless given. */
import { generateKeyPairSync, randomUUID, type JsonWebKey } from "node:crypto";

export type SigningAlgorithm = "RS256" | "PS256" | "ES256";

/** A private JWK with `kid`, `alg` and `use`, as oidc-provider's `jwks` option takes it. */
export interface PrivateJwk extends JsonWebKey {
  kid: string;
  alg: SigningAlgorithm;
  use: "sig";
}

export function generateSigningKey(alg: SigningAlgorithm = "RS256", kid: string = randomUUID()): PrivateJwk {
  const pair =
    alg === "ES256"
      ? generateKeyPairSync("ec", { namedCurve: "P-256" })
      : generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { ...pair.privateKey.export({ format: "jwk" }), kid, alg, use: "sig" };
}

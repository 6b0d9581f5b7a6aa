/**
 * The real authorization server every test uses: oidc-provider on a loopback port, with
 * a signing key the test knows, so tests can also sign tokens of any shape with the very
 * key the server publishes.
 */
import {
  generateSigningKey,
  startLocalAuthorizationServer,
  type LocalAuthorizationServer,
  type LocalAuthorizationServerOptions,
  type PrivateJwk,
} from "@mcp-oauth/local-authorization-server";
import { nowSeconds, signJwt } from "./jwt.js";

export interface TestAuthorizationServer extends LocalAuthorizationServer {
  key: PrivateJwk;
  /** A token signed with the server's key: valid for `resource` unless the overrides say otherwise. */
  mint(resource: string, claims?: Record<string, unknown>, header?: Record<string, unknown>): string;
}

export async function startTestAuthorizationServer(
  options: LocalAuthorizationServerOptions = {},
): Promise<TestAuthorizationServer> {
  const key = options.keys?.[0] ?? generateSigningKey("RS256");
  const as = await startLocalAuthorizationServer({ ...options, keys: options.keys ?? [key] });
  const mint = (
    resource: string,
    claims: Record<string, unknown> = {},
    header: Record<string, unknown> = {},
  ): string => {
    const now = nowSeconds();
    const payload = Object.fromEntries(
      Object.entries({
        iss: as.issuer,
        sub: "alice",
        aud: resource,
        client_id: "test-client",
        scope: "mcp:read",
        iat: now,
        exp: now + 600,
        jti: `jti-${Math.random()}`,
        ...claims,
      }).filter(([, v]) => v !== undefined),
    );
    const fullHeader = Object.fromEntries(
      Object.entries({ alg: key.alg, typ: "at+jwt", kid: key.kid, ...header }).filter(([, v]) => v !== undefined),
    );
    return signJwt(fullHeader, payload, key);
  };
  return Object.assign(as, { key, mint });
}

/**
 * Provider presets against tokens shaped like each provider's real access tokens (claims,
 * issuer form, audience form, header `typ`/`kid`), per ../shared/reference/providers.md.
 * The providers cannot be reached from tests, so the only deviation from the real setup is
 * an explicit `validation.jwksUri` pointing at a loopback stub serving the public keys.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createPublicKey, randomUUID } from "node:crypto";
import { generateSigningKey, type PrivateJwk } from "@mcp-oauth/local-authorization-server";
import {
  McpOAuthConfigError,
  presets,
  ResourceServer,
  type AuthInfo,
  type AuthInfoExtra,
  type CognitoPresetOptions,
  type McpOAuthOptions,
  type ProviderPreset,
} from "../src/index.js";
import { signJwt } from "../../../test/helpers/jwt.js";
import { json, startStubServer, type StubServer } from "../../../test/helpers/stub-server.js";
import { codeOf } from "../../../test/helpers/error-code.js";

const RESOURCE = "https://mcp.example.com/mcp";

// One signing key per provider, with a kid in that provider's style.
const KEYS = {
  auth0: generateSigningKey("RS256", "QzY0NEY2QkU0RjY5MDhGMkM5QjdEM0Y1ODZGQzYwNTk0RjY0ODc4Rg"),
  okta: generateSigningKey("RS256", "Hk3sFb2xVw1JtQ9mZr7YcLp0aNdE4uGi5oT6yRqW8eX"),
  cognito: generateSigningKey("RS256", "1a2B3c4D5e6F7g8H9i0JkLmNoPqRsTuVwXyZ+abcdE="),
  entra: generateSigningKey("RS256", "nOo3ZDrODXEK1jKWhXslHR_KXEg"),
  keycloak: generateSigningKey("RS256", "x7Fq2bVwN3kJ1LmR9sT0uYcZ4aPdE6gHiO8vW5eQrXs"),
} as const;

const publicJwk = (key: PrivateJwk): Record<string, unknown> => ({
  ...createPublicKey({ key, format: "jwk" }).export({ format: "jwk" }),
  kid: key.kid,
  alg: key.alg,
  use: "sig",
});

let stub: StubServer;
let jwksUri: string;

beforeAll(async () => {
  stub = await startStubServer();
  stub.handle("/keys", json({ keys: Object.values(KEYS).map(publicJwk) }));
  jwksUri = `${stub.url}/keys`;
});
afterAll(() => stub.close());

const now = (): number => Math.floor(Date.now() / 1000);

function serverFor(preset: ProviderPreset, extra: Partial<McpOAuthOptions> = {}): ResourceServer {
  const { validation, ...rest } = extra;
  return new ResourceServer({ resource: RESOURCE, preset, ...rest, validation: { jwksUri, ...validation } });
}

function configErrorOf(build: () => unknown): McpOAuthConfigError {
  try {
    build();
  } catch (error) {
    if (error instanceof McpOAuthConfigError) return error;
    throw error;
  }
  throw new Error("expected an McpOAuthConfigError, nothing was thrown");
}

const extraOf = (auth: AuthInfo): AuthInfoExtra => auth.extra as unknown as AuthInfoExtra;

describe("Auth0", () => {
  const ISSUER = "https://tenant.auth0.com/";
  const USERINFO = "https://tenant.auth0.com/userinfo";
  const CLIENT = "wX2kPq7RzT4uV9yB3nC6mD1fG8hJ5kL0";
  const header = (typ = "JWT") => ({ alg: "RS256", typ, kid: KEYS.auth0.kid });
  const sign = (claims: Record<string, unknown>, typ?: string): string =>
    signJwt(
      header(typ),
      {
        iss: ISSUER,
        sub: "auth0|64f1c2d3e4b5a6978800aabb",
        aud: RESOURCE,
        iat: now(),
        exp: now() + 86400,
        azp: CLIENT,
        scope: "mcp:read",
        ...claims,
      },
      KEYS.auth0,
    );

  it("generates the issuer with its trailing slash, the key-set URL and the metadata", () => {
    const preset = presets.auth0({ domain: "tenant.auth0.com" });
    expect(preset.name).toBe("auth0");
    expect(preset.authorizationServers).toEqual([ISSUER]);
    expect(preset.validation.issuer).toBe(ISSUER);
    expect(preset.validation.jwksUri).toBe("https://tenant.auth0.com/.well-known/jwks.json");
    expect(preset.validation.audience).toBeUndefined();
    expect(presets.auth0({ domain: "https://tenant.auth0.com/" }).validation.issuer).toBe(ISSUER);
    expect(presets.auth0({ domain: "tenant.auth0.com", audience: "https://api.example.com" }).validation.audience).toBe(
      "https://api.example.com",
    );
    const server = serverFor(preset);
    expect(server.metadata.authorization_servers).toEqual([ISSUER]);
    expect(server.options.tokenRules.issuers).toEqual([ISSUER]);
    expect(server.options.tokenRules.audiences).toEqual([RESOURCE]);
    expect(server.options.tokenRules.jwksUri).toBe(jwksUri);
  });

  it("accepts aud as a string; azp is the client id", async () => {
    const server = serverFor(presets.auth0({ domain: "tenant.auth0.com" }));
    const auth = await server.verifyToken(
      sign({ sub: `${CLIENT}@clients`, gty: "client-credentials", permissions: ["mcp:read"] }),
    );
    expect(auth.clientId).toBe(CLIENT);
    expect(auth.scopes).toEqual(["mcp:read"]);
    expect(extraOf(auth)).toMatchObject({ sub: `${CLIENT}@clients`, iss: ISSUER, aud: RESOURCE });
  });

  it("accepts aud as [api, userinfo] and counts `permissions` together with `scope`", async () => {
    const server = serverFor(presets.auth0({ domain: "tenant.auth0.com" }));
    const token = sign({
      aud: [RESOURCE, USERINFO],
      scope: "openid profile mcp:read",
      permissions: ["mcp:read", "mcp:write", "tools:admin"],
    });
    const auth = await server.verifyToken(token);
    expect(auth.scopes).toEqual(["openid", "profile", "mcp:read", "mcp:write", "tools:admin"]);
    expect(auth.clientId).toBe(CLIENT);
    expect(extraOf(auth).aud).toEqual([RESOURCE, USERINFO]);
  });

  it("accepts the RFC 9068 profile (typ at+jwt, client_id)", async () => {
    const server = serverFor(presets.auth0({ domain: "tenant.auth0.com" }));
    const token = sign({ azp: undefined, client_id: CLIENT, jti: randomUUID(), permissions: ["mcp:write"] }, "at+jwt");
    const auth = await server.verifyToken(token);
    expect(auth.clientId).toBe(CLIENT);
    expect(auth.scopes).toEqual(["mcp:read", "mcp:write"]);
  });

  it("accepts the API identifier given as the preset's audience", async () => {
    const server = serverFor(presets.auth0({ domain: "tenant.auth0.com", audience: "https://api.example.com" }));
    expect((await server.verifyToken(sign({ aud: ["https://api.example.com", USERINFO] }))).clientId).toBe(CLIENT);
    expect(await codeOf(server.verifyToken(sign({ aud: RESOURCE })))).toBe("audience_mismatch");
  });

  it("rejects a token whose iss lacks the trailing slash", async () => {
    const server = serverFor(presets.auth0({ domain: "tenant.auth0.com" }));
    expect(await codeOf(server.verifyToken(sign({ iss: "https://tenant.auth0.com" })))).toBe("issuer_not_allowed");
  });

  it("rejects a token issued only for userinfo or for another API", async () => {
    const server = serverFor(presets.auth0({ domain: "tenant.auth0.com" }));
    expect(await codeOf(server.verifyToken(sign({ aud: USERINFO })))).toBe("audience_mismatch");
    expect(await codeOf(server.verifyToken(sign({ aud: ["https://other-api.example.com", USERINFO] })))).toBe(
      "audience_mismatch",
    );
  });
});

describe("Okta", () => {
  const ISSUER = "https://dev-1.okta.com/oauth2/default";
  const CID = "0oa1b2c3d4e5f6g7h8i9";
  const header = { kid: KEYS.okta.kid, alg: "RS256" };
  const sign = (claims: Record<string, unknown>): string =>
    signJwt(
      header,
      {
        ver: 1,
        jti: `AT.${randomUUID()}`,
        iss: ISSUER,
        aud: "api://default",
        iat: now(),
        exp: now() + 3600,
        cid: CID,
        uid: "00u1a2b3c4d5e6f7g8h9",
        scp: ["mcp:read", "openid"],
        auth_time: now() - 10,
        sub: "alice@example.com",
        ...claims,
      },
      KEYS.okta,
    );

  it("generates the custom authorization server issuer, /v1/keys and api://default", () => {
    const preset = presets.okta({ domain: "dev-1.okta.com" });
    expect(preset.authorizationServers).toEqual([ISSUER]);
    expect(preset.validation.issuer).toBe(ISSUER);
    expect(preset.validation.jwksUri).toBe("https://dev-1.okta.com/oauth2/default/v1/keys");
    expect(preset.validation.audience).toBe("api://default");
    const custom = presets.okta({
      domain: "https://dev-1.okta.com",
      authorizationServerId: "aus9abcdEFGH",
      audience: "api://mcp",
    });
    expect(custom.validation.issuer).toBe("https://dev-1.okta.com/oauth2/aus9abcdEFGH");
    expect(custom.validation.jwksUri).toBe("https://dev-1.okta.com/oauth2/aus9abcdEFGH/v1/keys");
    expect(custom.validation.audience).toBe("api://mcp");
    const server = serverFor(preset);
    expect(server.metadata.authorization_servers).toEqual([ISSUER]);
    expect(server.options.tokenRules.audiences).toEqual(["api://default"]);
  });

  it("accepts aud api://default, reads the scp array as scopes and cid as the client id", async () => {
    const server = serverFor(presets.okta({ domain: "dev-1.okta.com" }));
    const auth = await server.verifyToken(sign({}));
    expect(auth.scopes).toEqual(["mcp:read", "openid"]);
    expect(auth.clientId).toBe(CID);
    expect(extraOf(auth)).toMatchObject({ sub: "alice@example.com", iss: ISSUER, aud: "api://default" });
  });

  it("rejects an org authorization server token (iss https://ORG)", async () => {
    const server = serverFor(presets.okta({ domain: "dev-1.okta.com" }));
    expect(
      await codeOf(server.verifyToken(sign({ iss: "https://dev-1.okta.com", aud: "https://dev-1.okta.com" }))),
    ).toBe("issuer_not_allowed");
  });

  it("rejects a token for another audience or from another custom authorization server", async () => {
    const server = serverFor(presets.okta({ domain: "dev-1.okta.com" }));
    expect(await codeOf(server.verifyToken(sign({ aud: "api://other" })))).toBe("audience_mismatch");
    expect(await codeOf(server.verifyToken(sign({ iss: "https://dev-1.okta.com/oauth2/aus9other" })))).toBe(
      "issuer_not_allowed",
    );
  });
});

describe("AWS Cognito", () => {
  const ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC";
  const CLIENT = "1example23456789abcdefghij";
  const header = { kid: KEYS.cognito.kid, alg: "RS256" };
  const preset = (): ProviderPreset =>
    presets.cognito({ region: "eu-west-1", userPoolId: "eu-west-1_AbC", clientIds: [CLIENT] });
  const accessToken = (claims: Record<string, unknown>): string =>
    signJwt(
      header,
      {
        sub: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
        "cognito:groups": ["admin"],
        iss: ISSUER,
        version: 2,
        client_id: CLIENT,
        origin_jti: randomUUID(),
        event_id: randomUUID(),
        token_use: "access",
        scope: "resource-server/read",
        auth_time: now() - 10,
        exp: now() + 3600,
        iat: now(),
        jti: randomUUID(),
        username: "alice",
        ...claims,
      },
      KEYS.cognito,
    );

  it("generates the user pool issuer, its jwks.json and the opt-in client id list", () => {
    const p = preset();
    expect(p.authorizationServers).toEqual([ISSUER]);
    expect(p.validation.issuer).toBe(ISSUER);
    expect(p.validation.jwksUri).toBe(`${ISSUER}/.well-known/jwks.json`);
    expect(p.validation.clientIdAsAudience).toEqual([CLIENT]);
    expect(p.validation.requiredClaims).toEqual({ token_use: "access" });
    const server = serverFor(p);
    expect(server.metadata.authorization_servers).toEqual([ISSUER]);
    expect(server.options.tokenRules.audiences).toEqual([RESOURCE]);
  });

  it("accepts an access token without aud whose client_id is listed", async () => {
    const server = serverFor(preset());
    const auth = await server.verifyToken(accessToken({}));
    expect(auth.scopes).toEqual(["resource-server/read"]);
    expect(auth.clientId).toBe(CLIENT);
    expect(extraOf(auth)).toMatchObject({ sub: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", iss: ISSUER, aud: undefined });
  });

  it("rejects an access token from an app client that is not listed", async () => {
    const server = serverFor(preset());
    expect(await codeOf(server.verifyToken(accessToken({ client_id: "9otherclient876543210zyxwv" })))).toBe(
      "audience_mismatch",
    );
  });

  it("rejects an ID token (token_use id, aud = client id) as audience_mismatch", async () => {
    // The aud check runs before requiredClaims: the ID token carries an aud (the app client
    // id), which is not this resource, and a present aud disables the client_id fallback.
    const server = serverFor(preset());
    const idToken = signJwt(
      header,
      {
        at_hash: "Xy9kQv3Lm2Np",
        sub: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
        "cognito:groups": ["admin"],
        email_verified: true,
        iss: ISSUER,
        "cognito:username": "alice",
        origin_jti: randomUUID(),
        aud: CLIENT,
        event_id: randomUUID(),
        token_use: "id",
        auth_time: now() - 10,
        exp: now() + 3600,
        iat: now(),
        jti: randomUUID(),
        email: "alice@example.com",
      },
      KEYS.cognito,
    );
    expect(await codeOf(server.verifyToken(idToken))).toBe("audience_mismatch");
  });

  it("enforces token_use: access when the client_id fallback applies", async () => {
    const server = serverFor(preset());
    expect(await codeOf(server.verifyToken(accessToken({ token_use: "id" })))).toBe("claim_invalid");
    expect(await codeOf(server.verifyToken(accessToken({ token_use: undefined })))).toBe("claim_missing");
  });

  it("refuses a preset without clientIds: accepting client_id is an explicit opt-in", () => {
    const missing = configErrorOf(() =>
      presets.cognito({ region: "eu-west-1", userPoolId: "eu-west-1_AbC" } as CognitoPresetOptions),
    );
    expect(missing.option).toBe("preset.cognito.clientIds");
    expect(
      configErrorOf(() => presets.cognito({ region: "eu-west-1", userPoolId: "eu-west-1_AbC", clientIds: [] })).option,
    ).toBe("preset.cognito.clientIds");
  });
});

describe("Microsoft Entra ID", () => {
  const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
  const APP = "6e74172b-be56-4843-9ff4-e66a39bb12e3";
  const CALLER = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
  const V2 = `https://login.microsoftonline.com/${TENANT}/v2.0`;
  const V1 = `https://sts.windows.net/${TENANT}/`;
  const OTHER_TENANT = "f8cdef31-a31e-4b4a-93e4-5f571e91255a";

  const v2Token = (claims: Record<string, unknown> = {}): string =>
    signJwt(
      { typ: "JWT", alg: "RS256", kid: KEYS.entra.kid },
      {
        aud: APP,
        iss: V2,
        iat: now(),
        nbf: now(),
        exp: now() + 3600,
        aio: "AWQAm/8TAAAA",
        azp: CALLER,
        azpacr: "0",
        name: "Alice Example",
        oid: "00000000-0000-0000-66f3-3332eca7ea81",
        preferred_username: "alice@contoso.com",
        rh: "0.AXEAv4j5cvGGr0GRqy180BHbR.",
        roles: ["Tasks.Write"],
        scp: "mcp.read mcp.write",
        sub: "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ",
        tid: TENANT,
        uti: "fqiBqXLPj0eQa82S-IYFAA",
        ver: "2.0",
        ...claims,
      },
      KEYS.entra,
    );

  const v1Token = (claims: Record<string, unknown> = {}): string =>
    signJwt(
      { typ: "JWT", alg: "RS256", x5t: KEYS.entra.kid, kid: KEYS.entra.kid },
      {
        aud: `api://${APP}`,
        iss: V1,
        iat: now(),
        nbf: now(),
        exp: now() + 3600,
        acr: "1",
        aio: "E2ZgYJi",
        amr: ["pwd"],
        appid: CALLER,
        appidacr: "0",
        family_name: "Example",
        given_name: "Alice",
        ipaddr: "203.0.113.7",
        name: "Alice Example",
        oid: "00000000-0000-0000-66f3-3332eca7ea81",
        rh: "0.AXEAv4j5cvGGr0GRqy180BHbR.",
        scp: "mcp.read",
        sub: "l3_roISQU222bULS9yi2k0XpqpOiMz5H3ZACo1GeXA",
        tid: TENANT,
        unique_name: "alice@contoso.com",
        upn: "alice@contoso.com",
        uti: "fqiBqXLPj0eQa82S-IYFAA",
        ver: "1.0",
        ...claims,
      },
      KEYS.entra,
    );

  it("generates both issuer forms for the tenant, the v2 key set and both audience forms", () => {
    const preset = presets.entra({ tenantId: TENANT, clientId: APP });
    expect(preset.authorizationServers).toEqual([V2]);
    expect(preset.validation.issuer).toEqual([V2, V1]);
    expect(preset.validation.jwksUri).toBe(`https://login.microsoftonline.com/${TENANT}/discovery/v2.0/keys`);
    expect(preset.validation.audience).toEqual([APP, `api://${APP}`]);
    expect(presets.entra({ tenantId: TENANT, clientId: APP, acceptV1: false }).validation.issuer).toEqual([V2]);
    expect(
      presets.entra({ tenantId: TENANT, clientId: APP, applicationIdUri: "https://contoso.com/mcp-api" }).validation
        .audience,
    ).toEqual([APP, "https://contoso.com/mcp-api"]);
    const server = serverFor(preset);
    expect(server.metadata.authorization_servers).toEqual([V2]);
    expect(server.options.tokenRules.issuers).toEqual([V2, V1]);
  });

  it("accepts a v2 token (aud = app GUID): space-separated scp and roles are all scopes", async () => {
    const server = serverFor(presets.entra({ tenantId: TENANT, clientId: APP }));
    const auth = await server.verifyToken(v2Token());
    expect(auth.scopes).toEqual(["mcp.read", "mcp.write", "Tasks.Write"]);
    expect(auth.clientId).toBe(CALLER);
    expect(extraOf(auth)).toMatchObject({ iss: V2, aud: APP });
  });

  it("accepts a v1 token (iss sts.windows.net, aud api://GUID)", async () => {
    const server = serverFor(presets.entra({ tenantId: TENANT, clientId: APP }));
    const auth = await server.verifyToken(v1Token());
    expect(auth.scopes).toEqual(["mcp.read"]);
    expect(auth.clientId).toBe(CALLER);
    expect(extraOf(auth)).toMatchObject({ iss: V1, aud: `api://${APP}` });
  });

  it("rejects v1 tokens when acceptV1 is false, still accepting v2", async () => {
    const server = serverFor(presets.entra({ tenantId: TENANT, clientId: APP, acceptV1: false }));
    expect(await codeOf(server.verifyToken(v1Token()))).toBe("issuer_not_allowed");
    expect(await codeOf(server.verifyToken(v2Token()))).toBe("ok");
  });

  it("rejects another tenant's issuer, in either form", async () => {
    const server = serverFor(presets.entra({ tenantId: TENANT, clientId: APP }));
    expect(
      await codeOf(
        server.verifyToken(
          v2Token({ iss: `https://login.microsoftonline.com/${OTHER_TENANT}/v2.0`, tid: OTHER_TENANT }),
        ),
      ),
    ).toBe("issuer_not_allowed");
    expect(
      await codeOf(server.verifyToken(v1Token({ iss: `https://sts.windows.net/${OTHER_TENANT}/`, tid: OTHER_TENANT }))),
    ).toBe("issuer_not_allowed");
  });

  it("rejects a token for another API (Microsoft Graph)", async () => {
    const server = serverFor(presets.entra({ tenantId: TENANT, clientId: APP }));
    expect(await codeOf(server.verifyToken(v2Token({ aud: "00000003-0000-0000-c000-000000000000" })))).toBe(
      "audience_mismatch",
    );
  });
});

describe("Keycloak", () => {
  const ISSUER = "https://sso.example.com/realms/mcp";
  const sign = (claims: Record<string, unknown>): string =>
    signJwt(
      { alg: "RS256", typ: "JWT", kid: KEYS.keycloak.kid },
      {
        exp: now() + 300,
        iat: now(),
        auth_time: now() - 10,
        jti: randomUUID(),
        iss: ISSUER,
        aud: "account",
        sub: "f1e2d3c4-b5a6-4978-8899-aabbccddeeff",
        typ: "Bearer",
        azp: "mcp-client",
        sid: randomUUID(),
        acr: "1",
        "allowed-origins": ["http://localhost:6274"],
        realm_access: { roles: ["default-roles-mcp", "offline_access", "uma_authorization"] },
        resource_access: { account: { roles: ["manage-account", "view-profile"] } },
        scope: "openid mcp:tools profile email",
        email_verified: true,
        preferred_username: "alice",
        ...claims,
      },
      KEYS.keycloak,
    );

  it("generates the realm issuer, its certs URL and the metadata", () => {
    const preset = presets.keycloak({ baseUrl: "https://sso.example.com/", realm: "mcp" });
    expect(preset.authorizationServers).toEqual([ISSUER]);
    expect(preset.validation.issuer).toBe(ISSUER);
    expect(preset.validation.jwksUri).toBe(`${ISSUER}/protocol/openid-connect/certs`);
    expect(preset.validation.audience).toBeUndefined();
    const server = serverFor(preset);
    expect(server.metadata.authorization_servers).toEqual([ISSUER]);
  });

  it("rejects aud account (no audience mapper) and a token without aud", async () => {
    const server = serverFor(presets.keycloak({ baseUrl: "https://sso.example.com", realm: "mcp" }));
    expect(await codeOf(server.verifyToken(sign({})))).toBe("audience_mismatch");
    expect(await codeOf(server.verifyToken(sign({ aud: undefined })))).toBe("audience_mismatch");
  });

  it("accepts aud [mcp-server, account] with the audience option; azp is the client id", async () => {
    const server = serverFor(
      presets.keycloak({ baseUrl: "https://sso.example.com", realm: "mcp", audience: "mcp-server" }),
    );
    const auth = await server.verifyToken(sign({ aud: ["mcp-server", "account"] }));
    expect(auth.clientId).toBe("mcp-client");
    expect(auth.scopes).toEqual(["openid", "mcp:tools", "profile", "email"]);
    expect(extraOf(auth)).toMatchObject({
      iss: ISSUER,
      aud: ["mcp-server", "account"],
      sub: "f1e2d3c4-b5a6-4978-8899-aabbccddeeff",
    });
    expect(await codeOf(server.verifyToken(sign({})))).toBe("audience_mismatch");
  });

  it("accepts a mapper that puts the resource itself in aud, with the default audience", async () => {
    const server = serverFor(presets.keycloak({ baseUrl: "https://sso.example.com", realm: "mcp" }));
    expect((await server.verifyToken(sign({ aud: [RESOURCE, "account"] }))).clientId).toBe("mcp-client");
  });

  it("rejects a token from another realm", async () => {
    const server = serverFor(presets.keycloak({ baseUrl: "https://sso.example.com", realm: "mcp" }));
    expect(
      await codeOf(server.verifyToken(sign({ iss: "https://sso.example.com/realms/master", aud: RESOURCE }))),
    ).toBe("issuer_not_allowed");
  });
});

describe("explicit options next to a preset", () => {
  const oktaToken = (claims: Record<string, unknown>): string =>
    signJwt(
      { kid: KEYS.okta.kid, alg: "RS256" },
      {
        ver: 1,
        jti: `AT.${randomUUID()}`,
        iss: "https://dev-1.okta.com/oauth2/default",
        aud: "api://default",
        iat: now(),
        exp: now() + 3600,
        cid: "0oa1",
        uid: "00u1",
        scp: ["mcp:read"],
        sub: "alice@example.com",
        ...claims,
      },
      KEYS.okta,
    );

  it("an explicit validation.audience wins over the preset's", async () => {
    const server = serverFor(presets.okta({ domain: "dev-1.okta.com" }), { validation: { audience: "api://mcp" } });
    expect(server.options.tokenRules.audiences).toEqual(["api://mcp"]);
    expect(await codeOf(server.verifyToken(oktaToken({ aud: "api://mcp" })))).toBe("ok");
    expect(await codeOf(server.verifyToken(oktaToken({ aud: "api://default" })))).toBe("audience_mismatch");
  });

  it("an explicit validation.issuer and scopeClaims win; the preset's other fields stay", async () => {
    const CUSTOM = "https://login.example.com/";
    const server = serverFor(presets.auth0({ domain: "tenant.auth0.com" }), {
      validation: { issuer: CUSTOM, scopeClaims: ["scope"] },
    });
    expect(server.options.tokenRules.issuers).toEqual([CUSTOM]);
    expect(server.options.tokenRules.scopeClaims).toEqual(["scope"]);
    expect(server.metadata.authorization_servers).toEqual(["https://tenant.auth0.com/"]);
    const sign = (iss: string): string =>
      signJwt(
        { alg: "RS256", typ: "JWT", kid: KEYS.auth0.kid },
        {
          iss,
          sub: "auth0|1",
          aud: RESOURCE,
          iat: now(),
          exp: now() + 600,
          azp: "c1",
          scope: "mcp:read",
          permissions: ["mcp:write"],
        },
        KEYS.auth0,
      );
    expect((await server.verifyToken(sign(CUSTOM))).scopes).toEqual(["mcp:read"]);
    expect(await codeOf(server.verifyToken(sign("https://tenant.auth0.com/")))).toBe("issuer_not_allowed");
  });

  it("explicit authorizationServers win over the preset's in the metadata", () => {
    const server = serverFor(presets.keycloak({ baseUrl: "https://sso.example.com", realm: "mcp" }), {
      authorizationServers: ["https://proxy.example.com"],
    });
    expect(server.metadata.authorization_servers).toEqual(["https://proxy.example.com"]);
    // The preset's issuer stays the token allow-list: tokens are still Keycloak's.
    expect(server.options.tokenRules.issuers).toEqual(["https://sso.example.com/realms/mcp"]);
  });

  it("the explicit jwksUri replaces the preset's key-set URL", () => {
    expect(serverFor(presets.entra({ tenantId: "t1", clientId: "c1" })).options.tokenRules.jwksUri).toBe(jwksUri);
    expect(
      new ResourceServer({ resource: RESOURCE, preset: presets.entra({ tenantId: "t1", clientId: "c1" }) }).options
        .tokenRules.jwksUri,
    ).toBe("https://login.microsoftonline.com/t1/discovery/v2.0/keys");
  });
});

describe("missing required preset fields", () => {
  it.each([
    ["preset.auth0.domain", () => presets.auth0({ domain: "" })],
    ["preset.okta.domain", () => presets.okta({ domain: "  " })],
    ["preset.cognito.region", () => presets.cognito({ region: "", userPoolId: "eu-west-1_AbC", clientIds: ["c"] })],
    ["preset.cognito.userPoolId", () => presets.cognito({ region: "eu-west-1", userPoolId: "", clientIds: ["c"] })],
    ["preset.entra.tenantId", () => presets.entra({ tenantId: "", clientId: "c1" })],
    ["preset.entra.clientId", () => presets.entra({ tenantId: "t1", clientId: "" })],
    ["preset.keycloak.baseUrl", () => presets.keycloak({ baseUrl: "", realm: "mcp" })],
    ["preset.keycloak.realm", () => presets.keycloak({ baseUrl: "https://sso.example.com", realm: "" })],
  ])("throws McpOAuthConfigError naming %s", (option, build) => {
    const error = configErrorOf(build);
    expect(error.option).toBe(option);
    expect(error.message).toContain(`\`${option}\``);
  });
});

describe("preset merging", () => {
  it("does not let an explicit undefined erase a preset value", () => {
    const server = new ResourceServer({
      resource: "https://mcp.example.com/mcp",
      preset: presets.okta({ domain: "dev-1.okta.com" }),
      validation: { audience: undefined, jwksUri: undefined },
    });
    expect(server.options.tokenRules.audiences).toEqual(["api://default"]);
    expect(server.options.tokenRules.jwksUri).toBe("https://dev-1.okta.com/oauth2/default/v1/keys");
  });
});

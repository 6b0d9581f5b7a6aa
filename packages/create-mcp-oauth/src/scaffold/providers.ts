/**
 * What the generated project needs to know about each authorization server: the issuer
 * form, key set URL and audience form for `.env.example`, how MCP clients get a client id
 * there, and the claim quirks the server code handles (see docs/providers and the presets
 * in @mcp-oauth/core).
 */

export const PROVIDERS = ["auth0", "okta", "cognito", "entra", "keycloak", "local"] as const;
export type ProviderId = (typeof PROVIDERS)[number];

export interface EnvValue {
  value: string;
  comment: string[];
}

export interface ProviderInfo {
  id: ProviderId;
  title: string;
  /** OAUTH_AUTHORIZATION_SERVER. */
  issuer: EnvValue;
  /** OAUTH_ISSUER when the provider has several issuer forms. */
  issuers?: EnvValue;
  /** OAUTH_AUDIENCE; absent: the default (the resource) is right, or there is no aud. */
  audience?: EnvValue;
  /** Why OAUTH_AUDIENCE stays unset. */
  audienceNote: string[];
  /** OAUTH_JWKS_URI; `commented` when discovery finds it anyway and the value is only a hint. */
  jwksUri: EnvValue & { commented?: boolean };
  /** OAUTH_SCOPES; an empty value is written commented out. */
  scopes: EnvValue;
  /** The introspection endpoint, or why the provider has none. */
  introspection:
    { endpoint: string; comment: string[]; clientId: string; clientSecret: string } | { unsupported: string };
  /** How MCP clients obtain a client id at this provider. */
  clientIds: string[];
  /** Set-up steps for the README (markdown list items). */
  setup: string[];
  /** Extra variables only this provider's code reads. */
  extraEnv: { name: string; value: string; comment: string[] }[];
  /** Lines added inside `validation: { ... }` of the generated options. */
  validationCode: string[];
}

export const CLIENT_ID_METADATA_NOTE = [
  "Client ID Metadata Documents: where the authorization server advertises",
  "client_id_metadata_document_supported, MCP clients use an https URL as their client id and",
  "need no registration. `mcp-oauth doctor` reports which of these your server offers.",
];

const PROVIDER_INFO: Record<ProviderId, ProviderInfo> = {
  auth0: {
    id: "auth0",
    title: "Auth0",
    issuer: {
      value: "https://TENANT.auth0.com/",
      comment: [
        "Issuer: https://TENANT.auth0.com/ (or your custom domain) WITH the trailing slash: it is",
        "part of Auth0's issuer, and authorization_servers must match it byte for byte.",
      ],
    },
    audience: {
      value: "https://mcp.example.com/mcp",
      comment: [
        "The API identifier (Applications > APIs > your API). Make it the MCP endpoint URL, and set the",
        "API as the tenant's default audience or enable the resource-parameter compatibility profile:",
        "MCP clients send resource=, not Auth0's audience=, and otherwise get an opaque /userinfo token.",
      ],
    },
    audienceNote: [],
    jwksUri: {
      value: "https://TENANT.auth0.com/.well-known/jwks.json",
      comment: ["Auth0 key set: https://TENANT.auth0.com/.well-known/jwks.json"],
    },
    scopes: {
      value: "mcp:read",
      comment: [
        'Permissions of the API every MCP request needs (for RBAC enable "Add Permissions in the Access Token").',
      ],
    },
    introspection: {
      unsupported:
        "Auth0 has no token introspection endpoint (RFC 7662); its API access tokens are JWTs: use --validation jwt",
    },
    clientIds: [
      "Dynamic Client Registration: enable it (Settings > Advanced) so MCP clients register themselves,",
      "and promote the connections users log in with to domain level (registered clients see no login",
      "method otherwise). Without it, create an application per MCP client and give users its client id.",
    ],
    setup: [
      "**Applications > APIs > Create API**: identifier = your MCP endpoint URL, signing algorithm RS256; add the permissions (`mcp:read`).",
      "Make that API the tenant's **default audience** (Settings > General), or enable the resource-parameter compatibility profile.",
      "**Settings > Advanced > Dynamic Client Registration**: enable it, and promote your connections to domain level.",
    ],
    extraEnv: [],
    validationCode: [
      "// Auth0 RBAC puts permissions in `permissions`: they count as scopes.",
      'scopeClaims: ["scope", "permissions"],',
    ],
  },
  okta: {
    id: "okta",
    title: "Okta",
    issuer: {
      value: "https://ORG.okta.com/oauth2/default",
      comment: [
        "Issuer of a CUSTOM authorization server: https://ORG.okta.com/oauth2/default (or /oauth2/AS_ID).",
        "Tokens of the org authorization server (iss https://ORG.okta.com) cannot be validated locally.",
      ],
    },
    audience: {
      value: "api://default",
      comment: [
        "The audience set on that authorization server (default api://default; it may be your MCP URL).",
        "Okta ignores the resource parameter: every token it issues for you carries this aud.",
      ],
    },
    audienceNote: [],
    jwksUri: {
      value: "https://ORG.okta.com/oauth2/default/v1/keys",
      comment: ["Okta key set: https://ORG.okta.com/oauth2/default/v1/keys"],
    },
    scopes: {
      value: "mcp:read",
      comment: ["Scopes added to the authorization server and granted by one of its access policies."],
    },
    introspection: {
      endpoint: "https://ORG.okta.com/oauth2/default/v1/introspect",
      comment: [
        "Okta: https://ORG.okta.com/oauth2/default/v1/introspect, called with the client id and secret of",
        "a confidential (web or API service) application that stands for this server.",
      ],
      clientId: "YOUR_CLIENT_ID",
      clientSecret: "YOUR_CLIENT_SECRET",
    },
    clientIds: [
      "Okta's Dynamic Client Registration needs an admin API token, so MCP clients cannot register",
      "themselves: create an OIDC native application per MCP client (PKCE, that client's redirect URIs)",
      "and give users its client id, or put a proxy authorization server with registration in front.",
    ],
    setup: [
      "**Security > API > Authorization Servers**: use a *custom* authorization server (`default` or your own), not the org server.",
      "Set its **audience** (default `api://default`) and add the scopes (`mcp:read`) with an access policy that grants them.",
      "Create an OIDC **native application** per MCP client (PKCE, the client's redirect URIs) and give users its client id.",
    ],
    extraEnv: [],
    validationCode: ["// Okta puts scopes in `scp`, as an array.", 'scopeClaims: ["scp", "scope"],'],
  },
  cognito: {
    id: "cognito",
    title: "AWS Cognito",
    issuer: {
      value: "https://cognito-idp.REGION.amazonaws.com/POOL_ID",
      comment: [
        "Issuer: https://cognito-idp.REGION.amazonaws.com/POOL_ID (the user pool). The authorize and token",
        "endpoints live on your *.amazoncognito.com domain; clients find them through this issuer's",
        "OpenID configuration.",
      ],
    },
    audienceNote: ["Cognito access tokens carry no aud: OAUTH_COGNITO_CLIENT_IDS below stands in for it."],
    jwksUri: {
      value: "https://cognito-idp.REGION.amazonaws.com/POOL_ID/.well-known/jwks.json",
      comment: ["Cognito key set: https://cognito-idp.REGION.amazonaws.com/POOL_ID/.well-known/jwks.json"],
    },
    scopes: {
      value: "mcp/read",
      comment: ["Custom scopes of the pool's resource server, prefixed with its identifier (mcp/read)."],
    },
    introspection: { unsupported: "AWS Cognito has no token introspection endpoint (RFC 7662): use --validation jwt" },
    clientIds: [
      "Cognito has no dynamic registration: create an app client per MCP client (public, PKCE,",
      "authorization code grant, the custom scopes), give users its id, and list the id in",
      "OAUTH_COGNITO_CLIENT_IDS.",
    ],
    setup: [
      "A user pool with a **resource server** (identifier e.g. `mcp`) and custom scopes (`mcp/read`).",
      "An **app client** per MCP client: public, PKCE, authorization code grant, the custom scopes. List their ids in `OAUTH_COGNITO_CLIENT_IDS`.",
      "A pool **domain**, so the authorize and token endpoints exist.",
    ],
    extraEnv: [
      {
        name: "OAUTH_COGNITO_CLIENT_IDS",
        value: "APP_CLIENT_ID",
        comment: [
          "App client ids whose access tokens this server accepts, comma-separated. Cognito access tokens",
          "have no aud; accepting client_id in its place is this explicit list, never a default.",
        ],
      },
    ],
    validationCode: [
      "// Cognito access tokens carry no aud: client_id stands in for it, for the listed app clients only,",
      "// and ID tokens are refused (token_use must be access).",
      "clientIdAsAudience: cognitoClientIds(env),",
      'requiredClaims: { token_use: "access" },',
      'scopeClaims: ["scope"],',
    ],
  },
  entra: {
    id: "entra",
    title: "Microsoft Entra ID",
    issuer: {
      value: "https://login.microsoftonline.com/TENANT_ID/v2.0",
      comment: [
        "v2 issuer of your tenant: https://login.microsoftonline.com/TENANT_ID/v2.0. Entra publishes no",
        "RFC 8414 document; clients use its OpenID configuration.",
      ],
    },
    issuers: {
      value: "https://login.microsoftonline.com/TENANT_ID/v2.0,https://sts.windows.net/TENANT_ID/",
      comment: ["Accepted iss values: the v2 and v1 forms (the API manifest's accessTokenAcceptedVersion picks one)."],
    },
    audience: {
      value: "CLIENT_ID,api://CLIENT_ID",
      comment: [
        "The API app registration's application (client) id, the v2 aud, and its Application ID URI, the v1 aud.",
      ],
    },
    audienceNote: [],
    jwksUri: {
      value: "https://login.microsoftonline.com/TENANT_ID/discovery/v2.0/keys",
      comment: ["Entra key set: https://login.microsoftonline.com/TENANT_ID/discovery/v2.0/keys"],
    },
    scopes: {
      value: "",
      comment: [
        "Entra puts scopes in scp without the api://CLIENT_ID/ prefix clients request them with, so a",
        "scope here would not match what clients ask for; leave it empty unless you know both forms agree.",
      ],
    },
    introspection: {
      unsupported: "Microsoft Entra ID has no token introspection endpoint (RFC 7662): use --validation jwt",
    },
    clientIds: [
      "Entra has no dynamic registration: register an app per MCP client (public client, its redirect",
      "URIs, granted the API's scopes) and give users its client id. Entra ignores RFC 8707 resource:",
      "clients must ask for api://CLIENT_ID/.default or the named scopes (else AADSTS9010010).",
    ],
    setup: [
      "**App registrations > New registration** for the MCP server; under **Expose an API** set the Application ID URI (`api://CLIENT_ID`) and add scopes (`mcp.read`).",
      'For v2 tokens set `"accessTokenAcceptedVersion": 2` in the manifest.',
      "One app registration per MCP client (public client, its redirect URIs, granted the API's scopes); give users its client id.",
    ],
    extraEnv: [],
    validationCode: [
      "// Delegated scopes arrive in `scp`, application permissions in `roles`.",
      'scopeClaims: ["scp", "roles"],',
    ],
  },
  keycloak: {
    id: "keycloak",
    title: "Keycloak",
    issuer: {
      value: "https://sso.example.com/realms/REALM",
      comment: ["Issuer: https://HOST/realms/REALM (Keycloak before 17: https://HOST/auth/realms/REALM)."],
    },
    audience: {
      value: "https://mcp.example.com/mcp",
      comment: [
        'What an audience mapper on a default client scope puts in aud. Without a mapper aud is "account"',
        "or missing, and every token is (rightly) refused: it was not issued for this server.",
      ],
    },
    audienceNote: [],
    jwksUri: {
      value: "https://sso.example.com/realms/REALM/protocol/openid-connect/certs",
      comment: ["Keycloak key set: https://HOST/realms/REALM/protocol/openid-connect/certs"],
    },
    scopes: { value: "mcp:read", comment: ["Client scopes of the realm every MCP request needs."] },
    introspection: {
      endpoint: "https://sso.example.com/realms/REALM/protocol/openid-connect/token/introspect",
      comment: [
        "Keycloak: https://HOST/realms/REALM/protocol/openid-connect/token/introspect, called with a",
        "confidential client's id and secret.",
      ],
      clientId: "YOUR_CLIENT_ID",
      clientSecret: "YOUR_CLIENT_SECRET",
    },
    clientIds: [
      "Keycloak allows dynamic registration subject to its client registration policies (Realm settings >",
      "Client policies): allow anonymous registration from your users' hosts, or pre-register a client per",
      "MCP client and give users its id.",
    ],
    setup: [
      "A realm with client scopes `mcp:read` (and more as you need).",
      "An **audience mapper** on a default client scope adding your MCP endpoint URL to `aud`.",
      "**Client registration policies**: allow anonymous registration for your users' MCP clients, or pre-register clients.",
    ],
    extraEnv: [],
    validationCode: [],
  },
  local: {
    id: "local",
    title: "the local development authorization server",
    issuer: {
      value: "http://127.0.0.1:9000",
      comment: [
        "The local development authorization server (npm run auth-server): a real OAuth 2.1 server on",
        "loopback where any login name signs in. Replace it with your provider's issuer for production.",
      ],
    },
    audienceNote: ["It issues tokens whose aud is the resource clients ask for: the default is right."],
    jwksUri: {
      value: "http://127.0.0.1:9000/jwks",
      comment: ["Found through the issuer's metadata; set it only to override."],
      commented: true,
    },
    scopes: { value: "mcp:read", comment: ["The local server offers mcp:read and mcp:write."] },
    introspection: {
      endpoint: "http://127.0.0.1:9000/token/introspection",
      comment: [
        "The local server's introspection endpoint; npm run auth-server lets OAUTH_CLIENT_ID /",
        "OAUTH_CLIENT_SECRET below call it.",
      ],
      clientId: "mcp-resource-server",
      clientSecret: "local-dev-secret-change-me",
    },
    clientIds: ["Open dynamic client registration: MCP clients register themselves."],
    setup: ["`npm run auth-server` starts it on http://127.0.0.1:9000 (in memory; restart = new keys and clients)."],
    extraEnv: [],
    validationCode: [],
  },
};

export function providerInfo(id: ProviderId): ProviderInfo {
  return PROVIDER_INFO[id];
}

/**
 * Presets for the authorization servers MCP servers meet most: each fills the issuer
 * form, the key-set URL, the audience form and the claim quirks of its provider
 * (see docs/providers). Explicit options given next to a preset win.
 */
import { McpOAuthConfigError } from "./errors.js";
import type { ProviderPreset, ValidationOptions } from "./options.js";

const https = (host: string): string => (host.startsWith("https://") ? host : `https://${host}`).replace(/\/+$/, "");

function required(option: string, value: unknown, hint: string): string {
  if (typeof value !== "string" || value.trim() === "") throw new McpOAuthConfigError(option, hint);
  return value.trim();
}

export interface Auth0PresetOptions {
  /** Tenant domain, e.g. `tenant.auth0.com` or a custom domain. */
  domain: string;
  /** The API identifier (the `audience` clients request). Default: the resource. */
  audience?: string;
}

/**
 * Auth0: the issuer keeps its trailing slash (`https://TENANT/`), keys at
 * `/.well-known/jwks.json`, RBAC permissions in `permissions` count as scopes.
 */
export function auth0(options: Auth0PresetOptions): ProviderPreset {
  const base = https(required("preset.auth0.domain", options.domain, "set the tenant domain, e.g. tenant.auth0.com"));
  const issuer = `${base}/`;
  return {
    name: "auth0",
    authorizationServers: [issuer],
    validation: {
      issuer,
      jwksUri: `${base}/.well-known/jwks.json`,
      ...(options.audience ? { audience: options.audience } : {}),
      scopeClaims: ["scope", "permissions"],
    },
  };
}

export interface OktaPresetOptions {
  /** Org domain, e.g. `dev-123.okta.com`. */
  domain: string;
  /** Custom authorization server id. Default `default`. Org authorization server tokens cannot be validated locally. */
  authorizationServerId?: string;
  /** Audience configured on that authorization server. Default `api://default`. */
  audience?: string;
}

/** Okta custom authorization servers: `https://ORG/oauth2/ID`, keys at `/v1/keys`, `scp` arrays, `cid`. */
export function okta(options: OktaPresetOptions): ProviderPreset {
  const base = https(required("preset.okta.domain", options.domain, "set the Okta org domain, e.g. dev-123.okta.com"));
  const id = options.authorizationServerId ?? "default";
  const issuer = `${base}/oauth2/${id}`;
  return {
    name: "okta",
    authorizationServers: [issuer],
    validation: {
      issuer,
      jwksUri: `${issuer}/v1/keys`,
      audience: options.audience ?? `api://${id}`,
      scopeClaims: ["scp", "scope"],
    },
  };
}

export interface CognitoPresetOptions {
  /** AWS region, e.g. `eu-west-1`. */
  region: string;
  /** User pool id, e.g. `eu-west-1_AbCdEf`. */
  userPoolId: string;
  /**
   * App client ids whose access tokens this server accepts. Cognito access tokens carry no
   * `aud`; accepting `client_id` in its place is this explicit list, never a default.
   */
  clientIds: readonly string[];
}

/** AWS Cognito: no `aud` in access tokens (`client_id` instead, opt-in), `token_use: access`. */
export function cognito(options: CognitoPresetOptions): ProviderPreset {
  const region = required("preset.cognito.region", options.region, "set the AWS region, e.g. eu-west-1");
  const pool = required("preset.cognito.userPoolId", options.userPoolId, "set the user pool id, e.g. eu-west-1_AbCdEf");
  if (!Array.isArray(options.clientIds) || options.clientIds.length === 0) {
    throw new McpOAuthConfigError(
      "preset.cognito.clientIds",
      "Cognito access tokens carry no aud: list the app client ids whose tokens this server accepts",
    );
  }
  const issuer = `https://cognito-idp.${region}.amazonaws.com/${pool}`;
  return {
    name: "cognito",
    authorizationServers: [issuer],
    validation: {
      issuer,
      jwksUri: `${issuer}/.well-known/jwks.json`,
      clientIdAsAudience: [...options.clientIds],
      requiredClaims: { token_use: "access" },
      scopeClaims: ["scope"],
    },
  };
}

export interface EntraPresetOptions {
  /** Directory (tenant) id. */
  tenantId: string;
  /** The API's application (client) id: the v2 `aud`. */
  clientId: string;
  /** Application ID URI, the v1 `aud`. Default `api://CLIENT_ID`. */
  applicationIdUri?: string;
  /** Accept v1 tokens (`https://sts.windows.net/TENANT/`) as well as v2. Default true. */
  acceptV1?: boolean;
}

/** Microsoft Entra ID: v2 and v1 issuers for one tenant, app GUID or `api://` audience, `scp` and `roles`. */
export function entra(options: EntraPresetOptions): ProviderPreset {
  const tenant = required("preset.entra.tenantId", options.tenantId, "set the directory (tenant) id");
  const clientId = required("preset.entra.clientId", options.clientId, "set the API's application (client) id");
  const v2 = `https://login.microsoftonline.com/${tenant}/v2.0`;
  const v1 = `https://sts.windows.net/${tenant}/`;
  const validation: ValidationOptions = {
    issuer: options.acceptV1 === false ? [v2] : [v2, v1],
    jwksUri: `https://login.microsoftonline.com/${tenant}/discovery/v2.0/keys`,
    audience: [clientId, options.applicationIdUri ?? `api://${clientId}`],
    scopeClaims: ["scp", "roles"],
  };
  return { name: "entra", authorizationServers: [v2], validation };
}

export interface KeycloakPresetOptions {
  /** Server URL, e.g. `https://sso.example.com` (add `/auth` for Keycloak before 17). */
  baseUrl: string;
  realm: string;
  /** The audience an audience mapper puts in tokens. Default: the resource. */
  audience?: string;
}

/** Keycloak: `https://HOST/realms/REALM`, keys at `/protocol/openid-connect/certs`. */
export function keycloak(options: KeycloakPresetOptions): ProviderPreset {
  const base = https(required("preset.keycloak.baseUrl", options.baseUrl, "set the Keycloak server URL"));
  const realm = required("preset.keycloak.realm", options.realm, "set the realm name");
  const issuer = `${base}/realms/${encodeURIComponent(realm)}`;
  return {
    name: "keycloak",
    authorizationServers: [issuer],
    validation: {
      issuer,
      jwksUri: `${issuer}/protocol/openid-connect/certs`,
      ...(options.audience ? { audience: options.audience } : {}),
      scopeClaims: ["scope"],
    },
  };
}

export const presets = { auth0, okta, cognito, entra, keycloak } as const;

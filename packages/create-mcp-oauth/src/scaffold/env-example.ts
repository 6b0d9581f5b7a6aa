/** The generated `.env.example`: every variable the generated server reads, with the provider's forms. */
import { CLIENT_ID_METADATA_NOTE, providerInfo, type ProviderId } from "./providers.js";

export type Validation = "jwt" | "introspection";

const comment = (lines: readonly string[]): string[] => lines.map((l) => `# ${l}`);

function entry(name: string, value: string, lines: readonly string[], commented = false): string[] {
  return [...comment(lines), `${commented || value === "" ? "# " : ""}${name}=${value}`, ""];
}

export function envExample(providerId: ProviderId, validation: Validation): string {
  const p = providerInfo(providerId);
  const introspection = "endpoint" in p.introspection ? p.introspection : undefined;
  const jwt = validation === "jwt";
  const out: string[] = [
    "# Configuration of this MCP server: every variable it reads. Copy to .env (read at start-up)",
    `# or set them in the environment, which wins over .env. Authorization server: ${p.title}.`,
    "",
    "# --- Where the server listens ----------------------------------------------------------",
    ...entry("PORT", "3000", ["Port (default 3000)."]),
    ...entry("HOST", "127.0.0.1", ["Interface (default 127.0.0.1; 0.0.0.0 behind a proxy or in a container)."]),
    "# --- The resource (this server) -------------------------------------------------------",
    ...entry(
      "OAUTH_RESOURCE",
      "https://mcp.example.com/mcp",
      [
        "Public URL of the MCP endpoint, exactly as clients are given it (https in production, no trailing",
        "slash). Published verbatim as `resource` and the audience tokens must carry.",
        "Default: http://HOST:PORT/mcp.",
      ],
      true,
    ),
    ...entry("OAUTH_SCOPES", p.scopes.value, [
      "Scopes every MCP request needs, comma- or space-separated; sent in the 401 challenge and",
      "published as scopes_supported (never offline_access).",
      ...p.scopes.comment,
    ]),
    ...entry(
      "OAUTH_ALLOWED_ORIGINS",
      "https://app.example.com",
      ["Browser origins allowed to call /mcp, comma-separated (* for any). Default: the resource's own origin."],
      true,
    ),
    "# --- The authorization server -----------------------------------------------------------",
    ...entry("OAUTH_AUTHORIZATION_SERVER", p.issuer.value, [...p.issuer.comment, "Several: comma-separated."]),
    ...entry(
      "OAUTH_ISSUER",
      p.issuers?.value ?? p.issuer.value,
      ["Accepted iss values, compared exactly. Default: OAUTH_AUTHORIZATION_SERVER.", ...(p.issuers?.comment ?? [])],
      p.issuers === undefined,
    ),
    ...entry(
      "OAUTH_AUDIENCE",
      p.audience?.value ?? "https://mcp.example.com/mcp",
      ["Accepted aud values, comma-separated. Default: OAUTH_RESOURCE.", ...(p.audience?.comment ?? p.audienceNote)],
      p.audience === undefined,
    ),
    ...p.extraEnv.flatMap((e) => entry(e.name, e.value, e.comment)),
    "# --- How tokens are validated ------------------------------------------------------------",
    ...entry("OAUTH_VALIDATION", validation, [
      "jwt: signature and claims checked locally with the key set. introspection: the authorization",
      "server is asked about every token (RFC 7662; opaque tokens). auto: JWTs locally, others by introspection.",
    ]),
    ...entry(
      "OAUTH_JWKS_URI",
      p.jwksUri.value,
      [
        "Key set URL (JWT validation). Default: jwks_uri from the authorization server's metadata.",
        ...p.jwksUri.comment,
      ],
      !jwt || p.jwksUri.commented === true,
    ),
    ...entry("OAUTH_CLOCK_TOLERANCE", "60", ["Seconds of clock skew allowed for exp, nbf and iat (default 60)."], true),
    ...entry(
      "OAUTH_TIMEOUT_MS",
      "5000",
      ["Deadline of every call to the authorization server (metadata, key set, introspection), in ms (default 5000)."],
      true,
    ),
    ...entry(
      "OAUTH_INTROSPECTION_ENDPOINT",
      introspection?.endpoint ?? "https://auth.example.com/oauth/introspect",
      [
        "Introspection endpoint. Default: introspection_endpoint from the authorization server's metadata.",
        ...(introspection?.comment ?? ["This provider has no introspection endpoint; keep OAUTH_VALIDATION=jwt."]),
      ],
      jwt,
    ),
    ...entry(
      "OAUTH_CLIENT_ID",
      introspection?.clientId ?? "YOUR_CLIENT_ID",
      ["This server's client id at the authorization server, for introspection only."],
      jwt,
    ),
    ...entry(
      "OAUTH_CLIENT_SECRET",
      introspection?.clientSecret ?? "YOUR_CLIENT_SECRET",
      ["Its secret. Never commit .env."],
      jwt,
    ),
    "# --- Caching of verified tokens ---------------------------------------------------------",
    ...entry("OAUTH_CACHE_TTL", "300", ["Seconds a verified JWT is reused (default 300; never past its exp)."], true),
    ...entry(
      "OAUTH_CACHE_INTROSPECTION_TTL",
      "60",
      ["Seconds an introspection answer is reused (default 60): how long a revoked token can still pass."],
      true,
    ),
    ...entry(
      "OAUTH_CACHE_REDIS_URL",
      "rediss://user:password@cache.internal:6380/0",
      [
        "A token cache shared by several replicas of this server. Needs @mcp-oauth/redis: pass",
        "{ redisCache: redisCacheFromEnv } as optionsFromEnv's third argument (see mcp-oauth's docs/deployment.md).",
      ],
      true,
    ),
    "# --- How MCP clients get a client id at this authorization server ---------------------",
    ...comment(p.clientIds),
    ...comment(CLIENT_ID_METADATA_NOTE),
    "",
  ];
  return out.join("\n");
}

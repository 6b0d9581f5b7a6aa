/**
 * Scopes: reading them from claims, expanding hierarchies, and deciding what an MCP
 * request needs (RFC 6749 section 3.3, RFC 6750 section 3.1 `insufficient_scope`).
 */
import { McpOAuthConfigError } from "./errors.js";

/** RFC 6749 section 3.3 scope-token: printable ASCII except space, `"` and `\`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

export function isValidScopeToken(scope: string): boolean {
  return SCOPE_TOKEN.test(scope);
}

/** Splits a space-delimited `scope` string; tolerates repeated whitespace. */
export function splitScopes(value: string): string[] {
  return value.split(/\s/).filter((s) => s.length > 0);
}

/**
 * Scopes granted by a token's claims: by default `scope` (RFC 9068 / RFC 7662, a string)
 * and `scp` (Okta: an array; Entra ID: a space-separated string), merged. Presets add
 * more (Auth0's `permissions`, Entra's `roles`).
 */
export function scopesFromClaims(
  claims: Record<string, unknown>,
  names: readonly string[] = ["scope", "scp"],
): string[] {
  const out = new Set<string>();
  for (const name of names) {
    const value = claims[name];
    if (typeof value === "string") for (const s of splitScopes(value)) out.add(s);
    else if (Array.isArray(value)) for (const s of value) if (typeof s === "string" && s.length > 0) out.add(s);
  }
  return [...out];
}

/**
 * A scope hierarchy: each key implies the scopes listed for it, transitively
 * (`{ "mcp:admin": ["mcp:write"], "mcp:write": ["mcp:read"] }`).
 */
export type ScopeHierarchy = Readonly<Record<string, readonly string[]>>;

/** Precomputes, for every scope in the hierarchy, the full set it implies. */
export function compileScopeHierarchy(
  hierarchy: ScopeHierarchy | undefined,
): (granted: readonly string[]) => ReadonlySet<string> {
  if (!hierarchy) return (granted) => new Set(granted);
  // A Map of the own entries: a scope named `constructor` or `__proto__` is just a scope.
  const implies = new Map(Object.entries(hierarchy));
  const closure = new Map<string, ReadonlySet<string>>();
  const expand = (scope: string, seen: Set<string>): void => {
    if (seen.has(scope)) return;
    seen.add(scope);
    for (const implied of implies.get(scope) ?? []) expand(implied, seen);
  };
  for (const scope of implies.keys()) {
    const seen = new Set<string>();
    expand(scope, seen);
    closure.set(scope, seen);
  }
  return (granted) => {
    const out = new Set<string>();
    for (const scope of granted) {
      const implied = closure.get(scope);
      if (implied) for (const s of implied) out.add(s);
      else out.add(scope);
    }
    return out;
  };
}

/** A JSON-RPC message as far as the scope policy cares. */
export interface JsonRpcMessageLike {
  method?: unknown;
  params?: unknown;
}

/**
 * Which scopes an MCP request needs, by JSON-RPC method and by the name of the tool,
 * prompt or resource it addresses. Scopes listed in several matching entries are all
 * required.
 */
export interface McpScopePolicy {
  /** By JSON-RPC method, e.g. `{ "tools/call": ["mcp:tools"] }`. */
  methods?: Readonly<Record<string, readonly string[]>>;
  /** By tool name for `tools/call`, e.g. `{ delete_file: ["files:write"] }`. */
  tools?: Readonly<Record<string, readonly string[]>>;
  /** By prompt name for `prompts/get`, and for `completion/complete` of its arguments (`ref/prompt`). */
  prompts?: Readonly<Record<string, readonly string[]>>;
  /**
   * By resource URI for `resources/read`, `resources/subscribe` and `resources/unsubscribe`
   * (and `completion/complete` with a `ref/resource` of that URI, and every URI of a
   * `subscriptions/listen`'s `resourceSubscriptions`), compared as the MCP SDK finds resources: by the WHATWG URL form (`new URL(uri).href`),
   * so `CONFIG://secret` is `config://secret`. A URI the URL parser refuses needs every
   * scope of this table. Read once, when the server is built.
   */
  resources?: Readonly<Record<string, readonly string[]>>;
  /** Anything else: return the extra scopes one message needs. */
  custom?: (message: JsonRpcMessageLike) => readonly string[] | undefined;
}

function paramString(params: unknown, key: string): string | undefined {
  if (params === null || typeof params !== "object") return undefined;
  const value = (params as Record<string, unknown>)[key];
  return typeof value === "string" ? value : undefined;
}

function lookup(
  table: Readonly<Record<string, readonly string[]>> | undefined,
  key: string | undefined,
): readonly string[] {
  // Own keys only: a tool named `constructor` or `__proto__` is just a name.
  const scopes = table !== undefined && key !== undefined && Object.hasOwn(table, key) ? table[key] : undefined;
  return scopes ?? [];
}

/**
 * The form under which the MCP SDK looks a resource up: both generations' `McpServer`
 * answer `resources/read` with `_registeredResources[new URL(uri).toString()]` (and match
 * templates against that string), so case, surrounding spaces, tabs and newlines, dot
 * segments and `file://localhost` are spellings of one resource. `undefined` when the
 * parser refuses the string (the SDK then finds nothing, but a host that looks resources
 * up by the exact string, as mcp-framework does, might).
 */
function resourceRouteKey(uri: string): string | undefined {
  return URL.canParse(uri) ? new URL(uri).href : undefined;
}

/** A policy's resource table as it is compared. */
interface ResourceRules {
  /** Scopes by the route key of each URI of the table. */
  readonly byRouteKey: ReadonlyMap<string, readonly string[]>;
  /** Every scope of the table: what a URI the parser refuses (or none at all) needs. */
  readonly all: readonly string[];
}

const sameScopes = (a: readonly string[], b: readonly string[]): boolean =>
  new Set(a).size === new Set(b).size && a.every((scope) => b.includes(scope));

function compileResourceRules(resources: Readonly<Record<string, readonly string[]>>): ResourceRules {
  const byRouteKey = new Map<string, readonly string[]>();
  const writtenAs = new Map<string, string>();
  const all = new Set<string>();
  for (const [uri, scopes] of Object.entries(resources)) {
    for (const scope of scopes) all.add(scope);
    const routeKey = resourceRouteKey(uri);
    if (routeKey === undefined) continue;
    const earlier = writtenAs.get(routeKey);
    if (earlier !== undefined && !sameScopes(byRouteKey.get(routeKey)!, scopes)) {
      throw new McpOAuthConfigError(
        `scopePolicy.resources.${uri}`,
        `names the same resource as "${earlier}" (the MCP SDK reads both as "${routeKey}") with other scopes; keep one entry`,
      );
    }
    writtenAs.set(routeKey, uri);
    byRouteKey.set(routeKey, scopes);
  }
  return { byRouteKey, all: [...all] };
}

// Keyed by the table itself: compiled when the server is built (resolveOptions), or on
// first use for a policy handed straight to a middleware.
const compiledResources = new WeakMap<object, ResourceRules>();

function resourceRules(resources: Readonly<Record<string, readonly string[]>>): ResourceRules {
  let rules = compiledResources.get(resources);
  if (rules === undefined) {
    rules = compileResourceRules(resources);
    compiledResources.set(resources, rules);
  }
  return rules;
}

/**
 * Checks and compiles what of a policy is compared by something other than the exact string
 * (its resource URIs); throws `McpOAuthConfigError` for keys that name one resource with
 * different scopes. Call when the server or middleware is built.
 */
export function compileScopePolicy(policy: McpScopePolicy): void {
  if (policy.resources !== undefined) resourceRules(policy.resources);
}

/** What one resource URI needs: its resource's scopes, or all of them when it is no string or does not parse. */
function uriScopes(
  resources: Readonly<Record<string, readonly string[]>> | undefined,
  uri: unknown,
): readonly string[] {
  if (resources === undefined) return [];
  const rules = resourceRules(resources);
  const routeKey = typeof uri === "string" ? resourceRouteKey(uri) : undefined;
  if (routeKey === undefined) return rules.all;
  return rules.byRouteKey.get(routeKey) ?? [];
}

/** What a `resources/*` message needs: the scopes of its `uri`. */
function resourceScopes(
  resources: Readonly<Record<string, readonly string[]>> | undefined,
  params: unknown,
): readonly string[] {
  return uriScopes(resources, paramString(params, "uri"));
}

/**
 * What a `subscriptions/listen` (MCP 2026-07-28) needs: the scopes of every URI in its
 * `notifications.resourceSubscriptions`, the updates of which it streams as
 * `resources/subscribe` does (the MCP SDK v2 compares them with the published URI exactly).
 */
function listenScopes(
  resources: Readonly<Record<string, readonly string[]>> | undefined,
  params: unknown,
): readonly string[] {
  const filter =
    params !== null && typeof params === "object" ? (params as { notifications?: unknown }).notifications : undefined;
  const uris =
    filter !== null && typeof filter === "object"
      ? (filter as { resourceSubscriptions?: unknown }).resourceSubscriptions
      : undefined;
  if (!Array.isArray(uris)) return [];
  return uris.flatMap((uri: unknown) => uriScopes(resources, uri));
}

/**
 * What a `completion/complete` needs: the scopes of the prompt or resource its `ref` names.
 * The completer of an argument is that prompt's (or resource's) own code, and may suggest
 * what only its scope should see: the MCP SDK (v1, v2) runs a prompt's completer by
 * `ref.name`, and mcp-framework a resource's by `ref.uri` equal to the resource's URI.
 */
function completionScopes(policy: McpScopePolicy, params: unknown): readonly string[] {
  const ref = params !== null && typeof params === "object" ? (params as { ref?: unknown }).ref : undefined;
  const type = paramString(ref, "type");
  if (type === "ref/prompt") return lookup(policy.prompts, paramString(ref, "name"));
  if (type === "ref/resource") return resourceScopes(policy.resources, ref);
  return [];
}

/**
 * Every scope the JSON-RPC body needs under the policy. A batch (an array) needs the
 * union of what its messages need. Anything that is not a JSON-RPC request needs nothing
 * extra: the transport rejects it on its own terms.
 */
export function scopesForJsonRpc(policy: McpScopePolicy, body: unknown): string[] {
  const out = new Set<string>();
  const messages = Array.isArray(body) ? body : [body];
  for (const message of messages) {
    if (message === null || typeof message !== "object") continue;
    const { method, params } = message as JsonRpcMessageLike;
    if (typeof method !== "string") continue;
    for (const s of lookup(policy.methods, method)) out.add(s);
    if (method === "tools/call") for (const s of lookup(policy.tools, paramString(params, "name"))) out.add(s);
    if (method === "prompts/get") for (const s of lookup(policy.prompts, paramString(params, "name"))) out.add(s);
    if (method === "resources/read" || method === "resources/subscribe" || method === "resources/unsubscribe") {
      for (const s of resourceScopes(policy.resources, params)) out.add(s);
    }
    if (method === "subscriptions/listen") for (const s of listenScopes(policy.resources, params)) out.add(s);
    if (method === "completion/complete") for (const s of completionScopes(policy, params)) out.add(s);
    for (const s of policy.custom?.({ method, params }) ?? []) out.add(s);
  }
  return [...out];
}

/** Whether a policy can need anything at all, so callers skip reading bodies when not. */
export function policyIsEmpty(policy: McpScopePolicy | undefined): boolean {
  if (!policy) return true;
  return (
    !policy.custom &&
    [policy.methods, policy.tools, policy.prompts, policy.resources].every(
      (table) => !table || Object.keys(table).length === 0,
    )
  );
}

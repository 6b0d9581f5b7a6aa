/**
 * `mcp-oauth doctor`: checks a live MCP OAuth setup from the outside, the way an MCP
 * client meets it (MCP authorization spec 2025-06-18 to 2026-07-28): the 401 challenge
 * (RFC 6750 section 3, RFC 9728 section 5.1), the protected resource metadata (RFC 9728),
 * each authorization server's metadata (RFC 8414, OpenID Connect Discovery) and keys, and
 * optionally a real token. It never prints the token.
 */
import { httpRequest } from "./http.js";
import { summarize, type Check, type DoctorReport } from "./report.js";
import { type Context, type DoctorOptions, DoctorUsageError, isHttpUrl, quote } from "./context.js";
import { checkEndpoint } from "./endpoint.js";
import { checkResourceMetadata } from "./resource-metadata.js";
import { checkAuthorizationServer } from "./authorization-server.js";
import { checkToken } from "./token.js";
import { checkDpop } from "./dpop.js";

export { DoctorUsageError, type DoctorOptions } from "./context.js";

export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const url = isHttpUrl(options.resource);
  if (url === undefined)
    throw new DoctorUsageError(
      `--resource must be the http(s) URL of the MCP endpoint, not ${quote(options.resource)}`,
    );
  const expected = options.authorizationServers?.length ? [...new Set(options.authorizationServers)] : undefined;
  const checks: Check[] = [];
  const timeout = options.timeout ?? 10_000;
  const doFetch = options.fetch ?? fetch;
  const ctx: Context = {
    resource: options.resource,
    url,
    projectScripts: options.projectScripts ?? {},
    checks,
    http: (target, init = {}, readBody = false) => httpRequest(target, init, { timeout, fetch: doFetch, readBody }),
    section: (section, subject) => {
      const add = (status: Check["status"], id: string, message: string, fix?: string): void => {
        checks.push({
          id,
          section,
          ...(subject !== undefined ? { subject } : {}),
          status,
          message,
          ...(fix !== undefined ? { fix } : {}),
        });
      };
      return {
        pass: (id, message) => add("pass", id, message),
        warn: (id, message, fix) => add("warn", id, message, fix),
        fail: (id, message, fix) => add("fail", id, message, fix),
        add: (status, id, message, fix) => add(status, id, message, fix),
      };
    },
  };

  const endpoint = await checkEndpoint(ctx);
  const metadata = endpoint.reachable
    ? await checkResourceMetadata(ctx, endpoint, expected)
    : { authorizationServers: [] };
  const issuers = expected ?? metadata.authorizationServers;
  const servers = await Promise.all(
    issuers.map((issuer) => checkAuthorizationServer(ctx, issuer, expected === undefined)),
  );
  if (options.token !== undefined && options.token !== "") {
    await checkToken(ctx, options.token, endpoint, servers, [
      ...new Set([...issuers, ...metadata.authorizationServers]),
    ]);
  }

  await checkDpop(ctx, endpoint, metadata, options.token);

  // Nothing above writes the token, but a server may echo it back in an error_description.
  const token = options.token;
  if (token !== undefined && token.length >= 8) {
    for (const check of checks) {
      check.message = check.message.split(token).join("[token]");
      if (check.fix !== undefined) check.fix = check.fix.split(token).join("[token]");
    }
  }
  // Authorization servers were checked in parallel: group each one's lines together.
  const order = (c: Check): number => {
    const section = ["endpoint", "resource_metadata", "authorization_server", "token", "dpop"].indexOf(c.section);
    return section * 1000 + (c.subject !== undefined ? issuers.indexOf(c.subject) + 1 : 0);
  };
  const sorted = checks
    .map((check, index) => ({ check, index }))
    .sort((a, b) => order(a.check) - order(b.check) || a.index - b.index)
    .map((e) => e.check);
  return summarize(options.resource, issuers, sorted);
}

/**
 * Small helpers for the Express package's tests: a raw `node:http` client (for what
 * supertest cannot send, such as a repeated `Authorization` header), a listening helper
 * that always closes its connections, and challenge/list parsing.
 */
import { expect } from "@jest/globals";
import { ResourceServer, type McpOAuthOptions } from "@mcp-oauth/core";
import { parseChallenge } from "../../../test/helpers/challenge-parser.js";

import { rawRequest, type RawResponse } from "../../../test/helpers/raw-request.js";
export { rawRequest, type RawResponse };

import { listen, type Listening } from "../../../test/helpers/listen.js";
export { listen, type Listening };

/** The `WWW-Authenticate` header, parsed strictly; fails the test when absent or not a Bearer challenge. */
export function bearerChallenge(header: string | string[] | undefined): Record<string, string> {
  expect(typeof header).toBe("string");
  const { scheme, params } = parseChallenge(header as string);
  expect(scheme).toBe("Bearer");
  return params;
}

/** A comma-separated header value as a lowercase list. */
export function headerList(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value.join(",") : value)
    .split(",")
    .map((v) => v.trim().toLowerCase())
    .filter((v) => v !== "");
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

const servers = new WeakMap<McpOAuthOptions, ResourceServer>();

/** One resource server per options object, so the middlewares of one test app share it as an application's would. */
export function serverFor(options: McpOAuthOptions): ResourceServer {
  let server = servers.get(options);
  if (!server) {
    server = new ResourceServer(options);
    servers.set(options, server);
  }
  return server;
}

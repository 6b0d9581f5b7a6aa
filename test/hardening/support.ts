/**
 * Shared by the hardening tests: a protected Express app on a loopback port, a deadline
 * for "never stuck", a watch on unhandled rejections, and the checks every refusal owes.
 */
import { expect } from "@jest/globals";
import express from "express";
import { createServer } from "node:http";
import { runInThisContext } from "node:vm";
import { ERROR_RESPONSES, type McpOAuthErrorCode } from "@mcp-oauth/core";
import { mcpOAuth, type McpOAuthMiddleware, type McpOAuthMiddlewareOptions } from "@mcp-oauth/express";
import { parseChallenge } from "../helpers/challenge-parser.js";
import type { RawResponse } from "../helpers/raw-request.js";

import { listen, type Listening } from "../helpers/listen.js";
export { listen, type Listening };

export interface ProtectedApp extends Listening {
  oauth: McpOAuthMiddleware;
}

/** Express with `mcpOAuth` in front of a route that says it was reached (with the subject). */
export async function protectedApp(options: McpOAuthMiddlewareOptions): Promise<ProtectedApp> {
  const app = express();
  app.disable("x-powered-by");
  const oauth = mcpOAuth(options);
  app.use(oauth);
  app.all("/mcp", (req, res) => {
    res.json({ reached: true, sub: (req.auth?.extra as { sub?: string } | undefined)?.sub });
  });
  return Object.assign(await listen(createServer(app)), { oauth });
}

/** Rejects when `promise` has not settled within `ms`: a request that never gets an answer fails the test. */
export function within<T>(promise: Promise<T>, ms: number, what = "request"): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms (stuck)`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface RejectionWatch {
  readonly reasons: unknown[];
  stop(): void;
}

/**
 * Records unhandled rejections on the real process. Jest gives each test file its own
 * `process` object, whose listeners never hear of them; the test file's vm context is not
 * the main one, so `runInThisContext` reaches the real process.
 */
export function watchUnhandledRejections(): RejectionWatch {
  const realProcess = runInThisContext("process") as NodeJS.Process;
  const reasons: unknown[] = [];
  const listener = (reason: unknown): void => {
    reasons.push(reason);
  };
  realProcess.on("unhandledRejection", listener);
  return {
    reasons,
    stop: () => {
      realProcess.off("unhandledRejection", listener);
    },
  };
}

/** A 503 for an upstream that could not be reached: never a challenge, never invalid_token. */
export function expectUnavailable(res: RawResponse, retryAfter: string): void {
  expect({
    status: res.status,
    retryAfter: res.headers["retry-after"],
    challenge: res.headers["www-authenticate"],
  }).toEqual({ status: 503, retryAfter, challenge: undefined });
  expect(res.headers["content-type"]).toMatch(/^application\/json(;|$)/);
  expect(res.headers["cache-control"]).toBe("no-store");
  expect(JSON.parse(res.body)).toEqual({
    error: "temporarily_unavailable",
    error_description: ERROR_RESPONSES.upstream_unavailable.description,
  });
}

/** A 401 with the challenge and body of `code` (invalid_token, or no error without credentials). */
export function expectUnauthorized(res: RawResponse, code: McpOAuthErrorCode): void {
  const spec = ERROR_RESPONSES[code];
  expect({ status: res.status, body: JSON.parse(res.body) }).toEqual({
    status: 401,
    body: { error: spec.error, error_description: spec.description },
  });
  const { params } = parseChallenge(res.headers["www-authenticate"] as string);
  expect(params["error"]).toBe(spec.challengeError);
}

/** The route was reached, as the subject `sub` when given. */
export function expectReached(res: RawResponse, sub?: string): void {
  expect({ status: res.status, body: JSON.parse(res.body) }).toEqual({
    status: 200,
    body: { reached: true, ...(sub !== undefined ? { sub } : { sub: expect.anything() }) },
  });
}

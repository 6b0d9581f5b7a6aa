/**
 * Optional rate limiting of the public endpoints, built on express-rate-limit, adapted to
 * the plain `node:http` API: the client key is the socket address (no `req.ip` outside
 * Express) and the 429 answer is written here, in the library's JSON shape.
 */
import { rateLimit, type Options } from "express-rate-limit";
import type { IncomingMessage, ServerResponse } from "node:http";
import { checkRateLimitOptions } from "./check-options.js";
import { sendJson } from "./http.js";
import type { Middleware } from "./types.js";

/**
 * The part of express-rate-limit's `Store` this adapter relies on, declared here so the public
 * types do not pull in express-rate-limit's, which need `@types/express` (any store written for
 * express-rate-limit, such as rate-limit-redis, fits).
 */
export interface RateLimitStore {
  increment(key: string): Promise<RateLimitHits> | RateLimitHits;
  decrement(key: string): Promise<void> | void;
  resetKey(key: string): Promise<void> | void;
  /** Called once with express-rate-limit's resolved options. */
  init?(options: unknown): void;
  localKeys?: boolean;
  prefix?: string;
}

export interface RateLimitHits {
  totalHits: number;
  resetTime: Date | undefined;
}

export interface RateLimitOptions {
  /** Requests allowed per window and client address. Default 60. */
  limit?: number;
  /** Window length in ms. Default 60000. */
  windowMs?: number;
  /** Another express-rate-limit store (Redis, memcached) for several instances. */
  store?: RateLimitStore;
  /** The client key; default the socket's remote address. Behind a proxy, derive it from your trusted proxy header. */
  keyGenerator?: (req: IncomingMessage) => string;
}

export function publicEndpointRateLimit(options: RateLimitOptions): Middleware {
  checkRateLimitOptions(options);
  const limiter = rateLimit({
    limit: options.limit ?? 60,
    windowMs: options.windowMs ?? 60_000,
    standardHeaders: "draft-8",
    legacyHeaders: false,
    ...(options.store ? { store: options.store as Options["store"] } : {}),
    keyGenerator: (req) =>
      options.keyGenerator?.(req as unknown as IncomingMessage) ??
      (req as unknown as IncomingMessage).socket.remoteAddress ??
      "unknown",
    handler: (req, res) => {
      sendJson(req as unknown as IncomingMessage, res as unknown as ServerResponse, 429, {
        error: "too_many_requests",
        error_description: "Too many requests; retry later",
      });
    },
    // A shared store (Redis) that fails lets requests through: the limit protects a public,
    // cheap document, and an outage of the counter must not turn into refused requests.
    passOnStoreError: true,
    // Its checks assume Express (req.ip, app.set("trust proxy")); this adapter supplies the key itself.
    validate: false,
  });
  return (req, res, next) => {
    // express-rate-limit writes its draft-8 headers with Express's `res.append`; a plain
    // node:http response has `appendHeader` (Node 18.3+) under another name.
    const response = res as ServerResponse & { append?: (name: string, value: string) => unknown };
    if (typeof response.append !== "function") response.append = (name, value) => response.appendHeader(name, value);
    // Any other failure of its own (a header it cannot set, a bug) comes through
    // `next(error)`: answered here, never taken for "go on unlimited" and never a 500.
    const after = (error?: unknown): void => {
      if (error === undefined || error === null) {
        next();
        return;
      }
      if (!res.headersSent)
        sendJson(req, res, 503, {
          error: "temporarily_unavailable",
          error_description: "Rate limiting is unavailable; retry later",
        });
    };
    void limiter(req as never, res as never, after as never);
  };
}

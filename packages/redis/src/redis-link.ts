/**
 * The outage policy every store of this package shares (the token cache, the DPoP replay
 * store): one connection, every call under a deadline, a failure or a late answer turned
 * into `FAILED` (never a rejection), Redis left alone for `retryAfterMs` after a failure, and
 * one event when it stops answering and one when it answers again.
 */
import { Redis, type RedisOptions } from "ioredis";
import { McpOAuthConfigError, type McpOAuthEvent, type McpOAuthEventListener } from "@mcp-oauth/core";

/** A call that did not answer in time or failed: each store decides what that means. */
export const FAILED = Symbol("failed");
export type Outcome<T> = T | typeof FAILED;

export function positive(option: string, value: number | undefined, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new McpOAuthConfigError(
      option,
      `must be a ${allowZero ? "non-negative" : "positive"} number, not ${String(value)}`,
    );
  }
  return value;
}

/** An error in words for an event, without credentials a URL might carry. */
export function reasonOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\/\/[^/@\s]*@/g, "//***@").slice(0, 200);
}

export interface RedisLinkOptions {
  /** What the store is called in the error messages (`RedisTokenCache`). */
  owner: string;
  /** `redis://…` or `rediss://…` (TLS). Either this or `client`. */
  url?: string | undefined;
  redisOptions?: RedisOptions | undefined;
  client?: Redis | undefined;
  /** Deadline of every call, in ms. Default 500. */
  timeoutMs?: number | undefined;
  /** After a failed call, how long Redis is left alone, in ms. Default 1000. */
  retryAfterMs?: number | undefined;
  /** The connection's name in Redis (`CLIENT LIST`). */
  connectionName: string;
  /** `store` of the outage events. */
  storeName: string;
  onEvent?: McpOAuthEventListener | undefined;
}

export class RedisLink {
  readonly client: Redis;
  readonly timeoutMs: number;
  readonly retryAfterMs: number;
  readonly #ownsClient: boolean;
  readonly #storeName: string;
  readonly #listeners = new Set<McpOAuthEventListener>();
  #available = true;
  /** Until when (ms since epoch) Redis is left alone after a failure. */
  #quietUntil = 0;
  #closed = false;

  constructor(options: RedisLinkOptions) {
    if ((options.url === undefined) === (options.client === undefined)) {
      throw new McpOAuthConfigError(
        "url",
        `give ${options.owner} either a redis:// or rediss:// \`url\` or a \`client\`, not both or neither`,
      );
    }
    if (options.url !== undefined && !/^rediss?:\/\//i.test(options.url)) {
      throw new McpOAuthConfigError(
        "url",
        "must be a redis:// or rediss:// (TLS) URL, e.g. rediss://:password@cache.internal:6380/0",
      );
    }
    this.timeoutMs = positive("timeoutMs", options.timeoutMs, 500);
    this.retryAfterMs = positive("retryAfterMs", options.retryAfterMs, 1000, true);
    this.#storeName = options.storeName;
    if (options.onEvent !== undefined) this.#listeners.add(options.onEvent);
    this.#ownsClient = options.client === undefined;
    this.client =
      options.client ??
      new Redis(options.url!, {
        // While disconnected a command fails at once instead of waiting in a queue.
        enableOfflineQueue: false,
        // A command in flight when the connection drops fails instead of being sent again later.
        maxRetriesPerRequest: 0,
        autoResendUnfulfilledCommands: false,
        commandTimeout: this.timeoutMs,
        // Reconnect for ever, backing off to one attempt every 2 s.
        retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
        connectionName: options.connectionName,
        ...options.redisOptions,
      });
    // ioredis reports connection failures as 'error' events; unheard, they would be printed.
    this.client.on("error", (error: unknown) => this.#failed(error));
    this.client.on("close", () => {
      if (!this.#closed) this.#failed(new Error("connection closed"));
    });
    this.client.on("ready", () => {
      this.#quietUntil = 0;
    });
  }

  listen(listener: McpOAuthEventListener): void {
    this.#listeners.add(listener);
  }

  /** Connected and not resting after a failure. */
  usable(): boolean {
    return !this.#closed && this.client.status === "ready" && Date.now() >= this.#quietUntil;
  }

  /** Runs one Redis call under the deadline; a failure or a late answer is `FAILED`, never a rejection. */
  call<T>(run: () => Promise<T>): Promise<Outcome<T>> {
    return new Promise<Outcome<T>>((resolve) => {
      const timer = setTimeout(() => {
        this.#failed(new Error(`no answer within ${this.timeoutMs} ms`));
        resolve(FAILED);
      }, this.timeoutMs);
      timer.unref();
      let pending: Promise<T>;
      try {
        pending = run();
      } catch (error) {
        pending = Promise.reject(error);
      }
      pending.then(
        (result) => {
          clearTimeout(timer);
          this.#answered();
          resolve(result);
        },
        (error: unknown) => {
          clearTimeout(timer);
          this.#failed(error);
          resolve(FAILED);
        },
      );
    });
  }

  /** Ends the connection this link opened (a client given to it stays open). */
  async close(): Promise<void> {
    this.#closed = true;
    if (!this.#ownsClient) return;
    const quit = await this.call(() => this.client.quit());
    if (quit === FAILED) this.client.disconnect();
  }

  #answered(): void {
    if (this.#available) return;
    this.#available = true;
    this.#emit({ type: "cache_store_recovered", store: this.#storeName });
  }

  #failed(error: unknown): void {
    if (this.#closed) return;
    this.#quietUntil = Date.now() + this.retryAfterMs;
    if (!this.#available) return;
    this.#available = false;
    this.#emit({ type: "cache_store_unavailable", store: this.#storeName, reason: reasonOf(error) });
  }

  #emit(event: McpOAuthEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // A logging bug must not break a request.
      }
    }
  }
}

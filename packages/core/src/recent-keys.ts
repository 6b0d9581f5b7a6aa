/**
 * How many recently accepted tokens keep their cache key (SHA-256) at hand. Hashing was the
 * largest part of a cached request's cost inside a loaded server (docs/architecture.md,
 * "Performance history"); a `Map` lookup by the token string stays on V8's side. The memo
 * holds raw tokens, so it is small and holds only accepted ones; the cache itself (and any
 * shared store) still sees only SHA-256 keys.
 */
export const RECENT_KEYS = 256;

/** Token → its cache key, for the most recently accepted tokens; starts over when full. */
export class RecentKeys {
  readonly #keys = new Map<string, string>();
  readonly #limit: number;

  constructor(limit: number = RECENT_KEYS) {
    this.#limit = limit;
  }

  get(token: string): string | undefined {
    return this.#keys.get(token);
  }

  remember(token: string, key: string): void {
    if (this.#limit === 0 || this.#keys.has(token)) return;
    if (this.#keys.size >= this.#limit) this.#keys.clear();
    this.#keys.set(token, key);
  }
}

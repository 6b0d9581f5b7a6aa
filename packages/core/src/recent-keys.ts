/**
 * How many recently accepted tokens keep their cache key (SHA-256) at hand. Hashing was the
 * largest part of a cached request's cost inside a loaded server (docs/architecture.md,
 * "Performance history"). The memo holds raw tokens, so it is small and holds only accepted
 * ones; the cache itself (and any shared store) still sees only SHA-256 keys.
 */
export const RECENT_KEYS = 256;

/**
 * Characters of the token's end that index the memo. A `Map` keyed by the whole token made
 * V8 hash every character of each request's new token string (about 1 KiB for a JWT) before
 * the lookup, and a key sliced from its end still cost a string per request; the end of a
 * token is its signature (random, and what differs between tokens with one header), so a
 * number computed from a short tail picks the entry and one comparison of the whole token
 * confirms it. Tokens with the same index only take each other's place (a miss, then SHA-256).
 */
const TAIL_LENGTH = 16;

/** The memo's index of a token: its length and its last TAIL_LENGTH characters, as one 32-bit number. */
function indexOf(token: string): number {
  let index = token.length;
  for (let i = Math.max(0, token.length - TAIL_LENGTH); i < token.length; i++) {
    // Stryker disable next-line ArithmeticOperator: any mixing of the characters makes an index; the full comparison decides
    index = (Math.imul(index, 31) + token.charCodeAt(i)) | 0;
  }
  return index;
}

interface Entry {
  token: string;
  key: string;
}

/** Token → its cache key, for the most recently accepted tokens; starts over when full. */
export class RecentKeys {
  readonly #entries = new Map<number, Entry>();
  readonly #limit: number;

  constructor(limit: number = RECENT_KEYS) {
    this.#limit = limit;
  }

  get(token: string): string | undefined {
    const entry = this.#entries.get(indexOf(token));
    return entry !== undefined && entry.token === token ? entry.key : undefined;
  }

  /** For a token `get` did not find (the caller has just asked). */
  remember(token: string, key: string): void {
    if (this.#limit === 0) return;
    if (this.#entries.size >= this.#limit) this.#entries.clear();
    this.#entries.set(indexOf(token), { token, key });
  }
}

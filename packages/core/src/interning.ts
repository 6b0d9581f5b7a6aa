/**
 * One shared string per repeated claim value across the cached tokens of a deployment
 * (same issuer, audience, client, scopes) instead of one per token: about a third of a
 * cached token's memory before (docs/architecture.md, "Performance history").
 */
const SHARED_CLAIMS = [
  "iss",
  "aud",
  "client_id",
  "azp",
  "cid",
  "appid",
  "scope",
  "scp",
  "tid",
  "token_use",
  "token_type",
] as const;
const MAX_INTERNED = 10_000;

/** Returns one shared instance per distinct value, up to a bound (then values as they are). */
class Interner<T> {
  readonly #values = new Map<string, T>();
  get(key: string, value: T): T {
    const known = this.#values.get(key);
    if (known !== undefined) return known;
    if (this.#values.size < MAX_INTERNED) this.#values.set(key, value);
    return value;
  }
}

export class ClaimInterner {
  readonly #strings = new Interner<string>();
  readonly #scopeLists = new Interner<readonly string[]>();

  /**
   * Replaces the repeated claims' values in place with shared instances. Each value is
   * replaced by an equal one, and whether a string is the shared instance is not observable
   * from JavaScript (only in memory: bench/): the mutants that skip interning are equivalent
   * and marked; the tests pin that values stay equal and that no claim is added.
   */
  // Stryker disable next-line BlockStatement: equivalent (see above)
  claims(claims: Record<string, unknown>): void {
    // Stryker disable next-line BlockStatement: equivalent (see above)
    for (const name of SHARED_CLAIMS) {
      const value = claims[name];
      // Stryker disable next-line ConditionalExpression: equivalent (see above)
      if (typeof value === "string") claims[name] = this.#strings.get(value, value);
      // Stryker disable next-line ConditionalExpression: equivalent (see above)
      if (Array.isArray(value))
        // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent (see above)
        claims[name] = value.map((v: unknown) => (typeof v === "string" ? this.#strings.get(v, v) : v));
    }
  }

  string(value: string): string {
    return this.#strings.get(value, value);
  }

  scopes(scopes: string[]): string[] {
    // JSON, not a join: ["a b"] and ["a", "b"] are two lists and must never share an entry.
    return this.#scopeLists.get(JSON.stringify(scopes), scopes) as string[];
  }
}

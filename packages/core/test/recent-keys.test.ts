/** The memo of recently accepted tokens' cache keys (recent-keys.ts): a key only ever for its own token. */
import { describe, expect, it } from "@jest/globals";
import { RecentKeys } from "../src/recent-keys.js";

const TAIL = "S".repeat(16);
/** A token built at run time, as each request's header is: equal content, another string. */
const copyOf = (token: string): string => [...token].join("");

describe("RecentKeys", () => {
  it("answers a remembered token's key, for any string with the same content", () => {
    const memo = new RecentKeys();
    const token = `header.payload-a.${TAIL}`;
    expect(memo.get(token)).toBeUndefined();
    memo.remember(token, "key-a");
    expect(memo.get(token)).toBe("key-a");
    expect(memo.get(copyOf(token))).toBe("key-a");
  });

  it("never answers one token's key for another token with the same end", () => {
    const memo = new RecentKeys();
    const a = `header.payload-a.${TAIL}`;
    const b = `header.payload-b.${TAIL}`;
    memo.remember(a, "key-a");
    expect(memo.get(b)).toBeUndefined();
    // The later one takes the place; the earlier one is then a miss, never the other's key.
    memo.remember(b, "key-b");
    expect(memo.get(b)).toBe("key-b");
    expect(memo.get(a)).toBeUndefined();
    expect(memo.get(`${TAIL}`)).toBeUndefined();
  });

  it("keeps short tokens apart too", () => {
    const memo = new RecentKeys();
    memo.remember("abc", "key-abc");
    memo.remember("xabc", "key-xabc");
    expect(memo.get("abc")).toBe("key-abc");
    expect(memo.get("xabc")).toBe("key-xabc");
    expect(memo.get("bc")).toBeUndefined();
  });

  it("starts over when full, and remembers nothing with a limit of 0", () => {
    const memo = new RecentKeys(2);
    memo.remember("token-1", "k1");
    memo.remember("token-2", "k2");
    expect(memo.get("token-1")).toBe("k1");
    expect(memo.get("token-2")).toBe("k2");
    memo.remember("token-3", "k3");
    expect(memo.get("token-1")).toBeUndefined();
    expect(memo.get("token-2")).toBeUndefined();
    expect(memo.get("token-3")).toBe("k3");
    const none = new RecentKeys(0);
    none.remember("token-1", "k1");
    expect(none.get("token-1")).toBeUndefined();
  });
});

/**
 * The in-memory replay store: once per key while remembered, forgotten on time, and at its
 * bound it drops only expired keys and otherwise refuses (fails closed).
 */
import { describe, expect, it } from "@jest/globals";
import { McpOAuthError } from "../src/errors.js";
import { MemoryReplayStore, replayKey } from "../src/internal.js";

const START = 1_750_000_000_000;

describe("replayKey", () => {
  it("is a SHA-256 in base64url, per key and jti", () => {
    const key = replayKey("t".repeat(43), "jti-1");
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(replayKey("t".repeat(43), "jti-1")).toBe(key);
    expect(replayKey("u".repeat(43), "jti-1")).not.toBe(key);
    expect(replayKey("t".repeat(43), "jti-2")).not.toBe(key);
    expect(key).not.toContain("jti");
  });
});

describe("MemoryReplayStore", () => {
  it("remembers a proof once per key thumbprint and jti, a long jti as its hash", () => {
    const store = new MemoryReplayStore({ now: () => START });
    const [t, u] = ["t".repeat(43), "u".repeat(43)];
    expect(store.rememberProofOnce(t, "jti-1", 10)).toBe(true);
    expect(store.rememberProofOnce(t, "jti-1", 10)).toBe(false);
    // Another key's proof with the same jti, and the same key's next jti, are new.
    expect(store.rememberProofOnce(u, "jti-1", 10)).toBe(true);
    expect(store.rememberProofOnce(t, "jti-2", 10)).toBe(true);
    const long = "x".repeat(200);
    expect(store.rememberProofOnce(t, long, 10)).toBe(true);
    expect(store.rememberProofOnce(t, long, 10)).toBe(false);
    expect(store.rememberProofOnce(t, `${long}y`, 10)).toBe(true);
    expect(store.rememberProofOnce(t, "y".repeat(44), 10)).toBe(true);
    expect(store.rememberProofOnce(t, "y".repeat(43), 10)).toBe(true);
    expect(store.size).toBe(7);
  });

  it("keys a proof by thumbprint and jti as sent, a jti longer than 43 characters by its hash (86 characters at most)", () => {
    const keys: string[] = [];
    const store = new MemoryReplayStore({ now: () => START });
    const remember = store.rememberOnce.bind(store);
    store.rememberOnce = (key, ttl) => (keys.push(key), remember(key, ttl));
    store.rememberProofOnce("t".repeat(43), "j".repeat(256), 10);
    store.rememberProofOnce("t".repeat(43), "j".repeat(43), 10);
    store.rememberProofOnce("t".repeat(43), "j".repeat(22), 10);
    expect(keys.map((key) => key.length)).toEqual([86, 86, 65]);
    // Up to 43 characters, the jti as sent (no hash per proof); longer, its SHA-256.
    expect(keys[1]).toBe("t".repeat(43) + "j".repeat(43));
    expect(keys[2]).toBe("t".repeat(43) + "j".repeat(22));
    expect(keys[0]).toMatch(/^t{43}[A-Za-z0-9_-]{43}$/);
    expect(keys[0]).not.toContain("j".repeat(43));
  });

  it("answers true once, then false while the key is remembered", () => {
    const store = new MemoryReplayStore({ now: () => START });
    expect(store.rememberOnce("a", 10)).toBe(true);
    expect(store.rememberOnce("a", 10)).toBe(false);
    expect(store.rememberOnce("b", 10)).toBe(true);
    expect(store.size).toBe(2);
  });

  it("forgets a key when its lifetime is over, not before", () => {
    let now = START;
    const store = new MemoryReplayStore({ now: () => now });
    store.rememberOnce("a", 10);
    now = START + 9_999;
    expect(store.rememberOnce("a", 10)).toBe(false);
    now = START + 10_000;
    expect(store.rememberOnce("a", 10)).toBe(true);
  });

  it("rounds a fractional lifetime up and never remembers for less than a second", () => {
    let now = START;
    const store = new MemoryReplayStore({ now: () => now });
    store.rememberOnce("a", 0.2);
    store.rememberOnce("b", 1.5);
    now = START + 999;
    expect(store.rememberOnce("a", 1)).toBe(false);
    now = START + 1_000;
    expect(store.rememberOnce("a", 1)).toBe(true);
    expect(store.rememberOnce("b", 1)).toBe(false);
  });

  it("at its bound, refuses a new key with dpop_replay_unavailable and a Retry-After until the first expiry", () => {
    let now = START;
    const store = new MemoryReplayStore({ maxEntries: 2, now: () => now });
    store.rememberOnce("a", 30);
    store.rememberOnce("b", 60);
    now = START + 5_000;
    let thrown: unknown;
    try {
      store.rememberOnce("c", 30);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(McpOAuthError);
    expect((thrown as McpOAuthError).code).toBe("dpop_replay_unavailable");
    expect((thrown as McpOAuthError).retryAfter).toBe(25);
    // A replay is still recognised as such when full: it needs no new room.
    expect(store.rememberOnce("a", 30)).toBe(false);
  });

  it("at its bound, makes room by dropping expired keys only", () => {
    let now = START;
    const store = new MemoryReplayStore({ maxEntries: 2, now: () => now });
    store.rememberOnce("a", 1);
    store.rememberOnce("b", 60);
    now = START + 1_000;
    expect(store.rememberOnce("c", 60)).toBe(true);
    expect(store.rememberOnce("b", 60)).toBe(false);
    expect(store.size).toBe(2);
  });

  it("drops expired keys as time passes, so its size follows the rate times the lifetime", () => {
    let now = START;
    const store = new MemoryReplayStore({ now: () => now });
    for (let second = 0; second < 100; second++) {
      now = START + second * 1000;
      for (let i = 0; i < 10; i++) store.rememberOnce(`${second}-${i}`, 20);
    }
    // 10 keys a second, each kept 20 s: the last 20 seconds' keys.
    expect(store.size).toBe(200);
  });

  it("copes with a clock that goes back", () => {
    let now = START + 10_000;
    const store = new MemoryReplayStore({ now: () => now });
    store.rememberOnce("a", 5);
    now = START;
    expect(store.rememberOnce("a", 5)).toBe(false);
    expect(store.rememberOnce("b", 5)).toBe(true);
    now = START + 16_000;
    expect(store.rememberOnce("a", 5)).toBe(true);
    expect(store.rememberOnce("b", 5)).toBe(true);
  });
});

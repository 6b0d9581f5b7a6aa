/**
 * The in-memory replay store: once per key while remembered, forgotten on time, and at its
 * bound it drops only expired keys and otherwise refuses (fails closed).
 */
import { describe, expect, it } from "@jest/globals";
import { sha256Base64url } from "../src/crypto/index.js";
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

  it("keeps a jti of up to 43 characters as sent and a longer one as its SHA-256, per key", () => {
    const store = new MemoryReplayStore({ now: () => START });
    const t = "t".repeat(43);
    const long = "j".repeat(256);
    expect(store.rememberProofOnce(t, long, 10)).toBe(true);
    // Kept as its hash: the hash sent as a jti of the same key is taken for it (the documented cost).
    expect(store.rememberProofOnce(t, sha256Base64url(long), 10)).toBe(false);
    // Of another key, it is another proof.
    expect(store.rememberProofOnce("u".repeat(43), sha256Base64url(long), 10)).toBe(true);
    // Up to 43 characters, as sent: its hash is another jti.
    const plain = "j".repeat(43);
    expect(store.rememberProofOnce(t, plain, 10)).toBe(true);
    expect(store.rememberProofOnce(t, sha256Base64url(plain), 10)).toBe(true);
    expect(store.rememberProofOnce(t, plain, 10)).toBe(false);
    // Keys given whole (`rememberOnce`) are apart from every key's proofs.
    expect(store.rememberOnce(plain, 10)).toBe(true);
    expect(store.size).toBe(5);
  });

  it("forgets a key's proofs when they expire, its group with them, and takes the key's new proofs", () => {
    let now = START;
    const store = new MemoryReplayStore({ now: () => now });
    const t = "t".repeat(43);
    store.rememberProofOnce(t, "a", 1);
    store.rememberProofOnce(t, "b", 3);
    store.rememberOnce("whole", 1);
    expect(store.groups).toBe(2);
    now += 1000;
    expect(store.size).toBe(3);
    // "a" and "whole" were forgotten when their second came; "b", in a group that is not empty, was not.
    expect(store.rememberProofOnce(t, "a", 1)).toBe(true);
    expect(store.rememberProofOnce(t, "b", 1)).toBe(false);
    expect(store.size).toBe(2);
    now += 5000;
    expect(store.rememberProofOnce(t, "b", 1)).toBe(true);
    expect(store.groups).toBe(1);
    expect(store.rememberOnce("whole", 1)).toBe(true);
    expect(store.size).toBe(2);
    expect(store.groups).toBe(2);
    now += 2000;
    store.rememberProofOnce("u".repeat(43), "c", 1);
    expect(store.size).toBe(1);
    expect(store.groups).toBe(1);
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

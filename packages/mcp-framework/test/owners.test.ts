/**
 * owners.ts alone: who owns a session or a task. A token's caller is its issuer and subject
 * (or issuer and client without a subject); an `alsoAccept` caller is its provider, the
 * identity it returned and the credential it carried, hashed. The end-to-end cases (sessions
 * taken over, API keys sharing sessions) are in session-owners.test.ts; these pin each rule.
 */
import { afterEach, describe, expect, it, jest } from "@jest/globals";
import type { IncomingMessage } from "node:http";
import type { AuthInfo } from "@mcp-oauth/core";
import { alsoAcceptedOwner, callerScope, ownerOfCall, tokenOwner } from "../src/owners.js";
import { requestScope } from "../src/verdicts.js";

const auth = (extra: Record<string, unknown>, clientId = "client-1"): AuthInfo =>
  ({ token: "t", clientId, scopes: [], extra }) as AuthInfo;

const request = (headers: Record<string, string | string[]> = {}, url = "/mcp"): IncomingMessage =>
  ({ headers, url }) as unknown as IncomingMessage;

const provider = { authenticate: async () => true };
const namedProvider = (name: unknown) => ({ authenticate: async () => true, getHeaderName: () => name });

describe("tokenOwner", () => {
  it("is issuer and subject, or issuer and client without a subject, never one read as the other", () => {
    expect(JSON.parse(tokenOwner(auth({ iss: "https://a", sub: "alice" })))).toEqual(["sub", "https://a", "alice"]);
    expect(JSON.parse(tokenOwner(auth({ iss: "https://a" }, "svc")))).toEqual(["client", "https://a", "svc"]);
    // A subject equal to a client id names someone else.
    expect(tokenOwner(auth({ iss: "https://a", sub: "svc" }))).not.toBe(tokenOwner(auth({ iss: "https://a" }, "svc")));
    // The same subject at another authorization server is another user.
    expect(tokenOwner(auth({ iss: "https://a", sub: "alice" }))).not.toBe(
      tokenOwner(auth({ iss: "https://b", sub: "alice" })),
    );
    // Two clients without subjects are two owners.
    expect(tokenOwner(auth({ iss: "https://a" }, "one"))).not.toBe(tokenOwner(auth({ iss: "https://a" }, "two")));
  });
});

describe("alsoAcceptedOwner", () => {
  afterEach(() => {
    jest.restoreAllMocks();
  });

  it("tells credentials apart in every header that can carry one, and keeps no credential in the key", () => {
    for (const name of ["authorization", "proxy-authorization", "cookie", "x-api-key"]) {
      const a = alsoAcceptedOwner(0, provider, undefined, request({ [name]: "key-a" }));
      expect(alsoAcceptedOwner(0, provider, undefined, request({ [name]: "key-a" }))).toBe(a);
      expect(alsoAcceptedOwner(0, provider, undefined, request({ [name]: "key-b" }))).not.toBe(a);
      expect(a).not.toContain("key-a");
    }
  });

  it("reads the provider's own header name (getHeaderName(), any case), and only a string one", () => {
    const named = namedProvider("X-Custom-Key");
    const a = alsoAcceptedOwner(0, named, undefined, request({ "x-custom-key": "one" }));
    expect(alsoAcceptedOwner(0, named, undefined, request({ "x-custom-key": "one" }))).toBe(a);
    expect(alsoAcceptedOwner(0, named, undefined, request({ "x-custom-key": "two" }))).not.toBe(a);
    // Not a string: no header is read for it (the same identity whatever that header holds).
    const odd = namedProvider(42);
    expect(alsoAcceptedOwner(0, odd, { who: "x" }, request({ "42": "one" }))).toBe(
      alsoAcceptedOwner(0, odd, { who: "x" }, request({ "42": "two" })),
    );
  });

  it("tells API keys in the query apart (api_key, apiKey), and reads no other parameter", () => {
    for (const name of ["api_key", "apiKey"]) {
      const a = alsoAcceptedOwner(0, provider, { who: "x" }, request({}, `/sse?${name}=one`));
      expect(alsoAcceptedOwner(0, provider, { who: "x" }, request({}, `/sse?${name}=one`))).toBe(a);
      expect(alsoAcceptedOwner(0, provider, { who: "x" }, request({}, `/sse?${name}=two`))).not.toBe(a);
    }
    const plain = alsoAcceptedOwner(0, provider, { who: "x" }, request({}, "/sse"));
    expect(alsoAcceptedOwner(0, provider, { who: "x" }, request({}, "/sse?page=2"))).toBe(plain);
  });

  it("reads data with its keys in any order as one identity, nested too, and tells other data apart", () => {
    const a = alsoAcceptedOwner(1, provider, { b: 1, a: { d: 2, c: [3, 4] } }, request());
    expect(alsoAcceptedOwner(1, provider, { a: { c: [3, 4], d: 2 }, b: 1 }, request())).toBe(a);
    expect(alsoAcceptedOwner(1, provider, { a: { c: [4, 3], d: 2 }, b: 1 }, request())).not.toBe(a);
    // An array is not an object with index keys.
    expect(alsoAcceptedOwner(1, provider, { list: [1, 2] }, request())).not.toBe(
      alsoAcceptedOwner(1, provider, { list: { "0": 1, "1": 2 } }, request()),
    );
    // null is a value like any other: an identity, the same each time.
    const withNull = alsoAcceptedOwner(1, provider, { user: null, id: "u" }, request());
    expect(alsoAcceptedOwner(1, provider, { id: "u", user: null }, request())).toBe(withNull);
    // The provider's index is part of it.
    expect(alsoAcceptedOwner(2, provider, { b: 1, a: { d: 2, c: [3, 4] } }, request())).not.toBe(a);
  });

  it("reads every order of the same keys as one identity", () => {
    const orders = [
      { a: 1, b: 2, c: 3 },
      { a: 1, c: 3, b: 2 },
      { b: 2, a: 1, c: 3 },
      { b: 2, c: 3, a: 1 },
      { c: 3, a: 1, b: 2 },
      { c: 3, b: 2, a: 1 },
    ];
    const owners = new Set(orders.map((data) => alsoAcceptedOwner(3, provider, { nested: data }, request())));
    expect(owners.size).toBe(1);
  });

  it("gives a caller with neither credential nor identity an owner of its own, and warns once", () => {
    const warn = jest.spyOn(process, "emitWarning").mockImplementation(() => {});
    const first = alsoAcceptedOwner(0, provider, {}, request());
    const second = alsoAcceptedOwner(0, provider, undefined, request({}, "/mcp?x=1"));
    // Data that is no JSON (a BigInt) identifies nobody either.
    const third = alsoAcceptedOwner(0, provider, { n: 1n }, request());
    expect(new Set([first, second, third]).size).toBe(3);
    expect(JSON.parse(first).slice(0, 3)).toEqual(["also-accept", 0, "unidentified"]);
    // Once per process: the first of these three warned (no earlier test here reaches this path).
    expect(warn).toHaveBeenCalledTimes(1);
    alsoAcceptedOwner(0, provider, undefined, request());
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it("identifies by data alone when no credential travels, and by credential alone without data", () => {
    expect(alsoAcceptedOwner(0, provider, { id: "u" }, request())).toBe(
      alsoAcceptedOwner(0, provider, { id: "u" }, request()),
    );
    const byKey = JSON.parse(alsoAcceptedOwner(0, provider, undefined, request({ "x-api-key": "k" }))) as string[];
    expect(byKey[2]).toBe("");
    expect(byKey[3]).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

describe("ownerOfCall", () => {
  it("is the bridge's caller, else the request scope's owner, else none", () => {
    expect(ownerOfCall()).toBeUndefined();
    expect(requestScope.run({ owner: "from-request" }, () => ownerOfCall())).toBe("from-request");
    expect(requestScope.run({ owner: "from-request" }, () => callerScope.run({ owner: "caller" }, ownerOfCall))).toBe(
      "caller",
    );
    expect(requestScope.run({ owner: "from-request" }, () => callerScope.run({ owner: undefined }, ownerOfCall))).toBe(
      "from-request",
    );
  });
});

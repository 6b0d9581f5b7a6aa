/**
 * Splitting and decoding a compact JWS before any signature work (RFC 7515 section 7.1).
 */
import { beforeAll, describe, expect, it, jest } from "@jest/globals";
import { McpOAuthError, type McpOAuthErrorCode } from "../src/errors.js";
import { decodeJwt, looksLikeJwt, rememberHeader } from "../src/jwt/decode.js";

const b64 = (value: unknown): string =>
  Buffer.from(typeof value === "string" ? value : JSON.stringify(value), "utf8").toString("base64url");
const HEADER = b64({ alg: "RS256", typ: "at+jwt", kid: "k1" });
const PAYLOAD = b64({ iss: "https://auth.example.com", sub: "alice", exp: 1_700_000_000 });
const SIG = "c2lnbmF0dXJl";

function codeOf(token: string): McpOAuthErrorCode | "ok" {
  try {
    decodeJwt(token);
    return "ok";
  } catch (error) {
    if (error instanceof McpOAuthError) return error.code;
    throw error;
  }
}

describe("decodeJwt", () => {
  // A fresh copy of the module for the test of the kept headers' limit: the other tests
  // here keep headers of their own. Loaded before the tests, not in one: Stryker counts
  // module-level code run inside a test as that test's and then cannot mutate it.
  let fresh: typeof import("../src/jwt/decode.js") | undefined;
  beforeAll(async () => {
    await jest.isolateModulesAsync(async () => {
      fresh = await import("../src/jwt/decode.js");
    });
  });

  it("decodes the header and payload of a three-part JWS", () => {
    expect(decodeJwt(`${HEADER}.${PAYLOAD}.${SIG}`)).toEqual({
      header: { alg: "RS256", typ: "at+jwt", kid: "k1" },
      headerSegment: HEADER,
      payload: { iss: "https://auth.example.com", sub: "alice", exp: 1_700_000_000 },
      signingInput: `${HEADER}.${PAYLOAD}`,
      signature: Buffer.from(SIG, "base64url"),
    });
  });

  it("reuses a header once a signature under it has verified, and only then", () => {
    const header = b64({ alg: "ES256", typ: "at+jwt", kid: "memo" });
    const first = decodeJwt(`${header}.${PAYLOAD}.${SIG}`);
    expect(decodeJwt(`${header}.${PAYLOAD}.${SIG}`).header).not.toBe(first.header);
    rememberHeader(first);
    const again = decodeJwt(`${header}.${b64({ sub: "bob" })}.${SIG}`);
    expect(again.header).toBe(first.header);
    expect(Object.isFrozen(again.header)).toBe(true);
    expect(again.payload).toEqual({ sub: "bob" });
  });

  it("keeps at most 32 headers: one more verified header is decoded afresh every time", () => {
    const { decodeJwt: decode, rememberHeader: remember } = fresh!;
    const tokens = Array.from({ length: 33 }, (_, i) => `${b64({ alg: "RS256", kid: `k${i}` })}.${PAYLOAD}.${SIG}`);
    const firsts = tokens.map((token) => decode(token));
    for (const decoded of firsts) remember(decoded);
    const kept = tokens.map((token, i) => decode(token).header === firsts[i]!.header);
    expect(kept).toEqual([...Array.from({ length: 32 }, () => true), false]);
  });

  it("decodes UTF-8 claim values", () => {
    expect(decodeJwt(`${HEADER}.${b64({ name: "Zoë ✓" })}.${SIG}`).payload).toEqual({ name: "Zoë ✓" });
  });

  it.each([
    ["a five-part JWE", `${b64({ alg: "RSA-OAEP", enc: "A256GCM" })}.ZW5j.aXY.Y2lwaGVy.dGFn`],
    ["a five-part JWE with an empty encrypted key", `${b64({ alg: "dir", enc: "A256GCM" })}..aXY.Y2lwaGVy.dGFn`],
    ["four parts", `${HEADER}.${PAYLOAD}.${SIG}.${SIG}`],
    ["two parts", `${HEADER}.${PAYLOAD}`],
    ["two parts with a trailing dot missing the signature", `${HEADER}.${PAYLOAD}.`],
    ["one part", HEADER],
    // Without a dot the "parts" would all be cut from the same string: this one would decode.
    ["one part that is a JSON object even without its last character", b64('{"alg":"RS256"}  ')],
    // ...and whose shortened form is canonical base64url too: only the missing dot refuses it.
    ["one part whose canonical prefix is a JSON object", b64('{"a":"xxxxxxxx"}\u0000')],
    ["an empty string", ""],
    ["only dots", ".."],
    ["an empty header", `.${PAYLOAD}.${SIG}`],
    ["an empty payload", `${HEADER}..${SIG}`],
  ])("refuses %s as token_malformed", (_label, token) => {
    expect(codeOf(token)).toBe("token_malformed");
  });

  it.each([
    [
      "standard base64 characters in the header",
      `${Buffer.from('{"alg":"RS256","x":"??>"}').toString("base64")}.${PAYLOAD}.${SIG}`,
    ],
    ["padding in the header", `${HEADER}==.${PAYLOAD}.${SIG}`],
    ["padding in the payload", `${HEADER}.${PAYLOAD}=.${SIG}`],
    ["a + in the payload", `${HEADER}.${PAYLOAD}+.${SIG}`],
    ["a / in the signature", `${HEADER}.${PAYLOAD}.ab/c`],
    ["padding in the signature", `${HEADER}.${PAYLOAD}.${SIG}=`],
    ["whitespace in the header", `${HEADER.slice(0, 4)} ${HEADER.slice(4)}.${PAYLOAD}.${SIG}`],
    ["non-ASCII in the payload", `${HEADER}.${PAYLOAD}é.${SIG}`],
    ["a header that is not JSON", `${b64("not json")}.${PAYLOAD}.${SIG}`],
    ["a payload that is not JSON", `${HEADER}.${b64('{"iss":')}.${SIG}`],
    ["a one-character header", `a.${PAYLOAD}.${SIG}`],
  ])("refuses %s as token_malformed", (_label, token) => {
    expect(codeOf(token)).toBe("token_malformed");
  });

  describe("non-canonical base64url (RFC 4648 section 3.5: unused bits are zero)", () => {
    const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    /** The JSON with trailing spaces until its base64url has `rest` characters past a multiple of 4. */
    const segment = (json: string, rest: 2 | 3): string => {
      let text = json;
      while (b64(text).length % 4 !== rest) text += " ";
      return b64(text);
    };
    /** The same bytes spelled another way: the last character with one of its unused bits set. */
    const respelled = (part: string): string => {
      const last = ALPHABET.indexOf(part.at(-1)!);
      const other = `${part.slice(0, -1)}${ALPHABET[last | 1]}`;
      expect(Buffer.from(other, "base64url")).toEqual(Buffer.from(part, "base64url"));
      return other;
    };
    const header = (rest: 2 | 3) => segment('{"alg":"RS256","kid":"k1"}', rest);
    const payload = (rest: 2 | 3) => segment('{"iss":"https://auth.example.com"}', rest);
    const signature = (rest: 2 | 3) => Buffer.alloc(rest === 2 ? 4 : 5, 0xa0).toString("base64url");

    it.each([2, 3] as const)("accepts canonical parts %i characters past a multiple of 4", (rest) => {
      expect(codeOf(`${header(rest)}.${payload(rest)}.${signature(rest)}`)).toBe("ok");
    });

    it.each([2, 3] as const)(
      "refuses another spelling of the same bytes, %i characters past a multiple of 4, in each part",
      (rest) => {
        const [h, p, sig] = [header(rest), payload(rest), signature(rest)];
        expect(codeOf(`${respelled(h)}.${p}.${sig}`)).toBe("token_malformed");
        expect(codeOf(`${h}.${respelled(p)}.${sig}`)).toBe("token_malformed");
        expect(codeOf(`${h}.${p}.${respelled(sig)}`)).toBe("token_malformed");
      },
    );

    it.each(["A", "Q", "_"])("refuses a part one character past a multiple of 4 (%j appended)", (extra) => {
      expect(codeOf(`${HEADER}.${PAYLOAD}.${SIG}${extra}`)).toBe("token_malformed");
      expect(codeOf(`${HEADER}.${b64('{"iss":"x"}')}${extra}.${SIG}`)).toBe("token_malformed");
    });

    it("refuses each unused bit, not only the lowest", () => {
      const sig = signature(2);
      const last = ALPHABET.indexOf(sig.at(-1)!);
      for (const bit of [1, 2, 4, 8]) {
        expect(codeOf(`${HEADER}.${PAYLOAD}.${sig.slice(0, -1)}${ALPHABET[last | bit]}`)).toBe("token_malformed");
      }
      const three = signature(3);
      const lastOfThree = ALPHABET.indexOf(three.at(-1)!);
      for (const bit of [1, 2]) {
        expect(codeOf(`${HEADER}.${PAYLOAD}.${three.slice(0, -1)}${ALPHABET[lastOfThree | bit]}`)).toBe(
          "token_malformed",
        );
      }
      expect(codeOf(`${HEADER}.${PAYLOAD}.${three.slice(0, -1)}${ALPHABET[lastOfThree | 4]}`)).toBe("ok");
    });
  });

  it.each<[string, unknown]>([
    ["an array", [{ alg: "RS256" }]],
    ["a number", 42],
    ["a string", "RS256"],
    ["null", null],
    ["true", true],
  ])("refuses a header that is %s as token_malformed", (_label, value) => {
    expect(codeOf(`${b64(value)}.${PAYLOAD}.${SIG}`)).toBe("token_malformed");
  });

  it.each<[string, unknown]>([
    ["an array", [{ iss: "x" }]],
    ["a number", 1_700_000_000],
    ["a string", "alice"],
    ["null", null],
    ["false", false],
  ])("refuses a payload that is %s as token_malformed", (_label, value) => {
    expect(codeOf(`${HEADER}.${b64(value)}.${SIG}`)).toBe("token_malformed");
  });

  it("never puts the token in the error message", () => {
    const token = `${b64("garbage-header-value")}.${PAYLOAD}.${SIG}`;
    try {
      decodeJwt(token);
      throw new Error("expected a refusal");
    } catch (error) {
      expect(error).toBeInstanceOf(McpOAuthError);
      expect((error as Error).message).not.toContain(PAYLOAD);
      expect((error as Error).message).not.toContain("garbage");
    }
  });
});

describe("looksLikeJwt", () => {
  it("is true for three parts only", () => {
    expect(looksLikeJwt(`${HEADER}.${PAYLOAD}.${SIG}`)).toBe(true);
    expect(looksLikeJwt("2YotnFZFEjr1zCsicMWpAA")).toBe(false);
    expect(looksLikeJwt(`${HEADER}.${PAYLOAD}`)).toBe(false);
    expect(looksLikeJwt("a.b.c.d.e")).toBe(false);
  });
});

/**
 * The compact claims reader (dpop/payload.ts): wherever it answers, JSON.parse gives the same
 * claims; it answers for the JSON that DPoP clients send; anything else is left to JSON.parse.
 */
import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { readCompactClaims } from "../src/dpop/payload.js";

const CLAIMS = ["jti", "htm", "htu", "ath", "nonce", "iat"] as const;
// No shrinking: a counterexample is printed as found (mutation runs kill many mutants through
// these properties, and shrinking each one's counterexample took minutes).
const RUNS = { numRuns: 1000, endOnFailure: true };

const read = (text: string | Uint8Array): ReturnType<typeof readCompactClaims> => {
  const bytes = Buffer.from(text);
  // Decoded, as in the checker, into a larger buffer holding a previous payload's bytes after it.
  const into = Buffer.alloc(bytes.length + 16, "x");
  bytes.copy(into);
  return readCompactClaims(into, bytes.length);
};

/** The six claims as JSON.parse reads them, or undefined when it throws or gives no object. */
function parsed(text: string | Uint8Array): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text).toString("utf8"));
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
  const record = value as Record<string, unknown>;
  return Object.fromEntries(CLAIMS.map((name) => [name, Object.hasOwn(record, name) ? record[name] : undefined]));
}

/** The property: an answer from the reader is JSON.parse's. */
function agreesWithJsonParse(text: string | Uint8Array): void {
  const claims = read(text);
  if (claims === undefined) return;
  expect(parsed(text)).toEqual({ ...claims });
}

const TYPICAL = {
  jti: "Vb4b4oWmTiJ2e0Xz9p1ykQ",
  htm: "POST",
  htu: "https://mcp.example.com/mcp",
  iat: 1765000000,
  ath: "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo",
};

describe("readCompactClaims", () => {
  it("reads the payload a client sends, in any member order, with members it does not read", () => {
    expect(read(JSON.stringify(TYPICAL))).toEqual({ ...TYPICAL, nonce: undefined });
    const reordered = { iat: 7, nonce: "n-1", ath: "a", htu: "u", extra: "ignored", htm: "GET", count: 12, jti: "j" };
    expect(read(JSON.stringify(reordered))).toEqual({ jti: "j", htm: "GET", htu: "u", ath: "a", nonce: "n-1", iat: 7 });
    expect(read("{}")).toEqual({
      jti: undefined,
      htm: undefined,
      htu: undefined,
      ath: undefined,
      nonce: undefined,
      iat: undefined,
    });
  });

  it("keeps the last value of a claim named twice, as JSON.parse does", () => {
    expect(read('{"jti":"a","htm":"GET","jti":"b","htm":"POST","iat":1,"iat":2}')).toEqual({
      ...read("{}"),
      jti: "b",
      htm: "POST",
      iat: 2,
    });
    expect(read('{"htu":"a","ath":"b","nonce":"c","htu":"d","ath":"e","nonce":"f"}')).toEqual({
      ...read("{}"),
      htu: "d",
      ath: "e",
      nonce: "f",
    });
  });

  it("reads no claim from a member whose name only resembles one", () => {
    const near = ["nonc", "nonces", "xonce", "nxnce", "noxce", "nonxe", "noncx", "Nonce", "once", "jt", "jtii"];
    for (const name of [...near, "xti", "jxi", "jtx", "htx", "hxm", "xtu", "xth", "axh", "atx", "xat", "ixt", "iax"]) {
      expect([name, read(JSON.stringify({ [name]: "value" }))]).toEqual([name, read("{}")]);
      expect([name, read(JSON.stringify({ [name]: 17 }))]).toEqual([name, read("{}")]);
    }
  });

  it("makes each string a string of its own", () => {
    const claims = read(JSON.stringify(TYPICAL))!;
    expect(claims.jti).toBe(TYPICAL.jti);
    expect(claims.htu).toBe(TYPICAL.htu);
  });

  it.each([
    ["whitespace", '{ "jti":"a"}'],
    ["whitespace after a colon", '{"jti": "a"}'],
    ["a trailing newline", '{"jti":"a"}\n'],
    ["an escape in a value", '{"jti":"a\\u0062"}'],
    ["an escape in a name", '{"j\\u0074i":"a"}'],
    ["a byte past ASCII", '{"htu":"https://exämple.com/mcp"}'],
    ["a control character", '{"jti":"a\tb"}'],
    ["a fraction", '{"iat":1765000000.5}'],
    ["an exponent", '{"iat":1e9}'],
    ["a sign", '{"iat":-1}'],
    ["a leading zero", '{"iat":0}'],
    ["sixteen digits", '{"iat":1234567890123456}'],
    ["a string iat", '{"iat":"1765000000"}'],
    ["a numeric jti", '{"jti":12}'],
    ["a claim named twice, as a string then a number", '{"htm":"GET","htm":5}'],
    ["iat named twice, as a number then a string", '{"iat":1,"iat":"2"}'],
    ["a name not quoted at its start", '{ab":"c"}'],
    ["a colon missing before a string", '{"jti"x"a"}'],
    ["a colon missing before a number", '{"iat"x1}'],
    ["a comma missing after a number", '{"iat":1"jti":"a"}'],
    ["a value missing at the end", '{"a":}'],
    ["an iat missing", '{"iat":}'],
    ["a value missing before a comma", '{"a":,"jti":"x"}'],
    ["a byte between a value and the brace", '{"jti":"a"x}'],
    ["a byte between a number and the brace", '{"iat":1x}'],
    ["a brace alone", "}"],
    ["one byte", "{"],
    ["true", '{"other":true}'],
    ["null", '{"jti":null}'],
    ["an object", '{"cnf":{"jkt":"x"}}'],
    ["an array", '{"jti":["a"]}'],
    ["a trailing comma", '{"jti":"a",}'],
    ["two commas", '{"jti":"a",,"htm":"b"}'],
    ["a missing colon", '{"jti""a"}'],
    ["a missing comma", '{"jti":"a""htm":"b"}'],
    ["an unquoted name", "{jti:1}"],
    ["an unterminated string", '{"jti":"a}'],
    ["bytes after the object", '{"jti":"a"}{}'],
    ["no object", '"jti"'],
    ["an array payload", '["jti"]'],
    ["nothing", ""],
  ])("leaves %s to JSON.parse", (_what, text) => {
    expect(read(text)).toBeUndefined();
  });

  it("never answers other than JSON.parse, for JSON of any shape", () => {
    const name = fc.oneof(fc.constantFrom(...CLAIMS, "__proto__", "cnf", "jt", "jtii", "nonc"), fc.string());
    const value = fc.oneof(
      fc.string(),
      fc.string({ unit: "grapheme" }),
      fc.integer(),
      fc.maxSafeNat(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.jsonValue(),
    );
    fc.assert(
      fc.property(fc.dictionary(name, value), (object) => agreesWithJsonParse(JSON.stringify(object))),
      RUNS,
    );
  });

  it("never answers other than JSON.parse, for text near JSON's grammar", () => {
    const unit = fc.constantFrom(...'{}[]":,.-+eE0129 \\\tjtihmuaoncx'.split(""), "jti", "iat", "htm", "nonce");
    fc.assert(
      fc.property(fc.array(unit, { maxLength: 40 }), (units) => agreesWithJsonParse(units.join(""))),
      RUNS,
    );
    fc.assert(
      fc.property(fc.array(unit, { maxLength: 12 }), (units) => agreesWithJsonParse(`{"jti":"a",${units.join("")}}`)),
      RUNS,
    );
  });

  it("never answers other than JSON.parse, for any bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => agreesWithJsonParse(bytes)),
      RUNS,
    );
  });

  it("reads every payload of plain strings and integers, as clients write it", () => {
    const plain = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7f }).map((code) => String.fromCharCode(code)) });
    const member = fc.oneof(
      plain.filter((text) => !text.includes('"') && !text.includes("\\")),
      fc.integer({ min: 1, max: 999_999_999_999_999 }),
    );
    const claims = fc.record(
      {
        jti: plain.filter((text) => !text.includes('"') && !text.includes("\\")),
        htm: fc.constantFrom("GET", "POST", "DELETE"),
        htu: fc.webUrl(),
        iat: fc.integer({ min: 1, max: 2 ** 40 }),
        ath: fc.base64String(),
        nonce: fc.string({ unit: fc.constantFrom(..."abcXYZ019-_.~") }),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(
        claims,
        fc.dictionary(fc.string({ unit: fc.constantFrom(..."abcxyz_") }), member),
        (known, others) => {
          for (const name of CLAIMS) delete others[name];
          const text = JSON.stringify({ ...others, ...known });
          expect(read(text)).toEqual({
            jti: known.jti,
            htm: known.htm,
            htu: known.htu,
            ath: known.ath,
            nonce: known.nonce,
            iat: known.iat,
          });
        },
      ),
      RUNS,
    );
  });
});

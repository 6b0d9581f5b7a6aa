/**
 * Interning of repeated claim values: one shared instance per distinct value, never one
 * value for another.
 */
import { describe, expect, it } from "@jest/globals";
import { ClaimInterner } from "../src/interning.js";

describe("ClaimInterner.scopes", () => {
  it("shares one list per distinct scope list", () => {
    const interner = new ClaimInterner();
    const first = interner.scopes(["mcp:read", "mcp:write"]);
    expect(interner.scopes(["mcp:read", "mcp:write"])).toBe(first);
  });

  it.each<[string[], string[]]>([
    [["mcp:read mcp:write"], ["mcp:read", "mcp:write"]],
    [
      ["a", "b c"],
      ["a b", "c"],
    ],
    [["a,b"], ["a", "b"]],
    [[""], []],
  ])("never answers %j with the list of %j (or the other way round)", (one, other) => {
    const interner = new ClaimInterner();
    expect(interner.scopes([...one])).toEqual(one);
    expect(interner.scopes([...other])).toEqual(other);
    const reversed = new ClaimInterner();
    expect(reversed.scopes([...other])).toEqual(other);
    expect(reversed.scopes([...one])).toEqual(one);
  });
});

describe("ClaimInterner bounds and values", () => {
  it("keeps at most 10000 lists: past that, each list is its own", () => {
    const interner = new ClaimInterner();
    for (let i = 0; i < 10_000; i++) interner.scopes([`s${i}`]);
    const kept = interner.scopes(["s0"]);
    expect(interner.scopes(["s0"])).toBe(kept);
    const late = ["late"];
    expect(interner.scopes(late)).toBe(late);
    const again = ["late"];
    expect(interner.scopes(again)).toBe(again);
  });

  it("returns the string it is given", () => {
    expect(new ClaimInterner().string("client-1")).toBe("client-1");
  });

  it("leaves every claim's value equal, arrays element by element, and adds no claim", () => {
    const interner = new ClaimInterner();
    const claims: Record<string, unknown> = {
      iss: "https://auth.example.com",
      aud: ["https://mcp.example.com/mcp", 7, null, { nested: "x" }],
      scp: ["mcp:read"],
      client_id: "client-1",
      sub: "alice",
      roles: ["admin"],
    };
    const copy = structuredClone(claims);
    interner.claims(claims);
    expect(claims).toStrictEqual(copy);
    expect(Object.keys(claims)).toEqual(Object.keys(copy));
    // A second token's equal values come out equal too.
    const other = structuredClone(copy);
    interner.claims(other);
    expect(other).toStrictEqual(copy);
  });
});

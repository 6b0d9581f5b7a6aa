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

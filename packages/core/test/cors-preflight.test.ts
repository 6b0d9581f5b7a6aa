/** isCorsPreflight: the Fetch standard's definition, and nothing that merely looks like it. */
import { describe, expect, it } from "@jest/globals";
import { isCorsPreflight } from "@mcp-oauth/core/internal";

describe("isCorsPreflight", () => {
  it("is an OPTIONS request with a non-empty Origin and Access-Control-Request-Method", () => {
    expect(isCorsPreflight("OPTIONS", "https://app.example.com", "POST")).toBe(true);
    expect(isCorsPreflight("OPTIONS", "null", "DELETE")).toBe(true);
  });

  it.each([
    ["no Origin", "OPTIONS", undefined, "POST"],
    ["an empty Origin", "OPTIONS", "", "POST"],
    ["no Access-Control-Request-Method", "OPTIONS", "https://app.example.com", undefined],
    ["an empty Access-Control-Request-Method", "OPTIONS", "https://app.example.com", ""],
    ["another method", "POST", "https://app.example.com", "POST"],
    ["a lower-case method (no HTTP parser sends one)", "options", "https://app.example.com", "POST"],
    ["no method", undefined, "https://app.example.com", "POST"],
    ["a header that is not a string", "OPTIONS", ["https://a.example", "https://b.example"], "POST"],
  ])("is not one with %s", (_name, method, origin, requestMethod) => {
    expect(isCorsPreflight(method, origin, requestMethod)).toBe(false);
  });
});

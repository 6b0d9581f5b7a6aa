/**
 * Claims of the docs that a number or a name in the code decides: each is read from the code
 * (or the test that measures it) and looked for in the sentence that states it, so changing
 * one without the other fails here.
 */
import { readFileSync } from "node:fs";
import { expect, it } from "@jest/globals";
import { SUPPORTED_FRAMEWORK_RANGE } from "@mcp-oauth/mcp-framework";

const read = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");

it("packages/mcp-framework/README.md states the supported mcp-framework range the code checks", () => {
  const readme = read("packages/mcp-framework/README.md");
  expect(readme).toContain(`mcp-framework \`${SUPPORTED_FRAMEWORK_RANGE}\``);
  // No other mcp-framework version is named as a bound.
  const lowest = /^>=(\S+)/.exec(SUPPORTED_FRAMEWORK_RANGE)![1]!;
  const named = [...readme.matchAll(/mcp-framework (\d+\.\d+\.\d+)/g)].map((m) => m[1]);
  expect(named.filter((version) => version !== lowest)).toEqual([]);
});

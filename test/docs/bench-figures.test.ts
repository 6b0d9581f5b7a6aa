/**
 * Benchmark figures are generated, not copied: every number in the README's "Latest
 * figures" (from there to the end of the Benchmarks section) must be one that
 * bench/results.md, which `pnpm bench` writes, holds now. History (figures behind past
 * decisions) lives in docs/architecture.md's "Performance history", labelled as such.
 */
import { readFileSync } from "node:fs";
import { expect, it } from "@jest/globals";

const read = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");

/** Numbers standing alone (not part of a name such as V8 or a commit hash). */
const numbers = (text: string): string[] =>
  [...text.matchAll(/(?<![\w.-])\d+(?:\.\d+)?(?![\w.]*[a-z]\d)/gi)].map((m) => m[0]);

it("the README quotes only figures bench/results.md holds", () => {
  const readme = read("README.md");
  const start = readme.indexOf("Latest figures");
  expect(start).toBeGreaterThan(0);
  const next = readme.indexOf("\n## ", start);
  const section = readme.slice(start, next < 0 ? undefined : next);
  const results = new Set(numbers(read("bench/results.md")));
  const stale = [...new Set(numbers(section))].filter((n) => !results.has(n));
  if (stale.length > 0) {
    throw new Error(
      `README.md's benchmark section quotes ${stale.join(", ")}, which bench/results.md does not hold: copy the figures again from bench/results.md (or drop them)`,
    );
  }
});

/**
 * docs/spec-compliance.md stays true of the tests: every row of its tables names a test that
 * exists (the file, and the test's name as a string literal in it) or says whose rule it
 * is ("not ours"), and every path it names exists. A test renamed, moved or deleted fails
 * here until the page follows.
 */
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "@jest/globals";

const root = new URL("../../", import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, root), "utf8");

interface Row {
  id: string;
  where: string;
  shownBy: string;
}

interface TestReference {
  file: string;
  name: string;
}

/** The rows of every table whose first column is a rule id (`A1`, `P13`, ...). */
function rowsOf(markdown: string): Row[] {
  return markdown
    .split("\n")
    .filter((line) => /^\| [A-Z]\d+ \|/.test(line))
    .map((line) => {
      const cells = line
        .split(/(?<!\\)\|/)
        .slice(1, -1)
        .map((cell) => cell.trim());
      return { id: cells[0]!, where: cells.at(-2)!, shownBy: cells.at(-1)! };
    });
}

/** `` `path/to/file.test.ts` › `test name` `` entries of a cell. */
function testsIn(cell: string): TestReference[] {
  return [...cell.matchAll(/`([^`\s]+\.test\.ts)` › `([^`]+)`/g)].map(([, file, name]) => ({
    file: file!,
    name: name!,
  }));
}

/** Repository paths (backticked, starting at a top-level directory) named in a cell. */
function pathsIn(cell: string): string[] {
  return [...cell.matchAll(/`((?:packages|examples|test|docs|bench|scripts)\/[^`\s]+)`/g)].map(([, path]) => path!);
}

/** What is wrong with a row: nothing, or one message per problem. */
function problemsOf(row: Row, exists: (path: string) => boolean, text: (path: string) => string): string[] {
  const problems: string[] = [];
  const tests = testsIn(row.shownBy);
  if (tests.length === 0 && !/not ours/i.test(row.shownBy))
    problems.push(`${row.id}: names no test and does not say whose rule it is ("not ours")`);
  for (const { file, name } of tests) {
    if (!exists(file)) {
      problems.push(`${row.id}: ${file} does not exist`);
      continue;
    }
    const source = text(file);
    if (![`"${name}"`, `'${name}'`, `\`${name}\``].some((literal) => source.includes(literal)))
      problems.push(`${row.id}: ${file} has no test named "${name}"`);
  }
  const otherPaths = pathsIn(row.shownBy).filter((path) => !path.endsWith(".test.ts"));
  for (const path of [...pathsIn(row.where), ...otherPaths]) {
    if (!exists(path)) problems.push(`${row.id}: ${path} does not exist`);
  }
  return problems;
}

const doc = read("docs/spec-compliance.md");
const rows = rowsOf(doc);
const existsInRepo = (path: string): boolean => existsSync(new URL(path, root));

describe("docs/spec-compliance.md", () => {
  it("has a table row for every section's rules, each id once", () => {
    const sections = doc.split(/\n## /).filter((section) => /^\d\. /.test(section));
    expect(sections).toHaveLength(7);
    for (const section of sections) expect(rowsOf(section).length).toBeGreaterThan(0);
    expect(rows.length).toBeGreaterThan(80);
    expect(new Set(rows.map((row) => row.id)).size).toBe(rows.length);
  });

  it.each(rows.map((row) => [row.id, row] as const))(
    "%s names tests that exist, or whose rule it is, and paths that exist",
    (_id, row) => {
      expect(problemsOf(row, existsInRepo, read)).toEqual([]);
    },
  );

  it("catches a deleted file, a renamed test, a missing path and a row with neither test nor owner", () => {
    const sample = [
      "| X1 | rule | 07-28 | `packages/core/src/challenge.ts` | `packages/core/test/challenge.test.ts` › `omits scope when no scopes are given or the list is empty` |",
      "| X2 | rule | 07-28 | `packages/core/src/no-such-file.ts` | `packages/core/test/gone.test.ts` › `anything` |",
      "| X3 | rule | 07-28 | somewhere | `packages/core/test/challenge.test.ts` › `a name no test has` |",
      "| X4 | rule | 07-28 | somewhere | nobody's |",
      "| X5 | rule | 07-28 | somewhere | **not ours** (the MCP SDK) |",
    ].join("\n");
    const problems = rowsOf(sample).map((row) => problemsOf(row, existsInRepo, read));
    expect(problems).toEqual([
      [],
      ["X2: packages/core/test/gone.test.ts does not exist", "X2: packages/core/src/no-such-file.ts does not exist"],
      ['X3: packages/core/test/challenge.test.ts has no test named "a name no test has"'],
      ['X4: names no test and does not say whose rule it is ("not ours")'],
      [],
    ]);
  });
});

/**
 * The README's environment table and its sentence about mcp-framework's CLI stay true: the
 * names the CLI writes are read from the installed framework, the names our code reads from
 * its sources.
 */
import { readFileSync } from "node:fs";
import { expect, it } from "@jest/globals";

const read = (file: string): string => readFileSync(new URL(`../../${file}`, import.meta.url), "utf8");
const names = (text: string): Set<string> => new Set(text.match(/\bOAUTH_[A-Z_]+[A-Z]\b/g) ?? []);
const readme = read("README.md");

it("names the five OAUTH_* variables mcp-framework's CLI writes", () => {
  // The root's mcp-framework devDependency: the version the bridge is tested against.
  const written = names(read("node_modules/mcp-framework/dist/cli/project/create.js"));
  const sentence = /mcp-framework's CLI writes (\w+) of these names into `\.env\.example`: ([^;]+);/.exec(readme);
  expect(sentence).not.toBeNull();
  expect([...names(sentence![2]!)].sort()).toEqual([...written].sort());
  expect(sentence![1]).toBe(["zero", "one", "two", "three", "four", "five", "six", "seven"][written.size]);
});

it("documents every OAUTH_* variable the packages and examples read", () => {
  const table = readme.slice(
    readme.indexOf("## Configuration by environment"),
    readme.indexOf("\n## ", readme.indexOf("## Configuration by environment") + 1),
  );
  const documented = names(table);
  const sources = [
    "packages/core/src/env.ts",
    "packages/core/src/dpop/options.ts",
    "packages/redis/src/env.ts",
    "packages/mcp-framework/src/env.ts",
    "examples/express-server/src/app.ts",
    "examples/mcp-framework-server/src/server.ts",
  ];
  const read_ = new Set(sources.flatMap((file) => [...names(read(file))]));
  expect([...read_].filter((name) => !documented.has(name))).toEqual([]);
});

/**
 * The README says a passing test run prints jest's summary only: one test file run by jest
 * with the workspace's configuration, as `pnpm test` runs them, prints nothing else (no PASS
 * line, no list of tests, no output of the tests themselves).
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "@jest/globals";

const root = fileURLToPath(new URL("../..", import.meta.url));

it("a passing run prints jest's summary and nothing else", async () => {
  const output = await new Promise<string>((resolve, reject) => {
    execFile(
      process.execPath,
      [
        "--experimental-vm-modules",
        "--no-warnings=ExperimentalWarning",
        "node_modules/jest/bin/jest.js",
        "--runInBand",
        "test/docs/defaults.test.ts",
      ],
      { cwd: root, env: { ...process.env, FORCE_COLOR: "0" } },
      (error, stdout, stderr) => (error ? reject(new Error(`${stdout}${stderr}`)) : resolve(`${stdout}${stderr}`)),
    );
  });
  const lines = output.split("\n").filter((line) => line.trim() !== "");
  expect(lines.filter((line) => !/^(Test Suites|Tests|Snapshots|Time|Ran all test suites)\b/.test(line))).toEqual([]);
  expect(lines.some((line) => /^Tests:\s+\d+ passed/.test(line))).toBe(true);
}, 60_000);

/** @jest-config-loader esbuild-register */
import type { Config } from "jest";

// ESM throughout (the MCP SDKs, mcp-framework and oidc-provider are ESM-only): run with
// `node --experimental-vm-modules`, TypeScript transformed by swc (type checking is the
// separate `tsc` step of `pnpm test`).
const config: Config = {
  // Node's environment, printing a test's console and stdout/stderr output only when it fails.
  testEnvironment: "<rootDir>/test/helpers/quiet-environment.mjs",
  // A passing run prints the summary only, not a PASS line per file (nor, for one file, its
  // list of tests); every failure is printed in full in it (threshold 0: however few files
  // ran). `--reporters=default` on the command line brings the per-file lines back.
  reporters: [["summary", { summaryThreshold: 0 }]],
  extensionsToTreatAsEsm: [".ts"],
  transform: {
    "^.+\\.ts$": [
      "@swc/jest",
      {
        jsc: { parser: { syntax: "typescript" }, target: "es2022" },
        module: { type: "es6" },
      },
    ],
  },
  moduleNameMapper: {
    "^@mcp-oauth/(core|express|fetch|local-authorization-server|mcp-framework|redis)$":
      "<rootDir>/packages/$1/src/index.ts",
    "^@mcp-oauth/core/internal$": "<rootDir>/packages/core/src/internal.ts",
    "^@mcp-oauth/fetch/(hono|next)$": "<rootDir>/packages/fetch/src/$1.ts",
    "^(\\.{1,2}/.*)\\.js$": "$1",
  },
  testMatch: [
    "<rootDir>/packages/*/test/**/*.test.ts",
    "<rootDir>/examples/*/test/**/*.test.ts",
    "<rootDir>/test/**/*.test.ts",
  ],
  // The consumer test and the scaffolded project's next steps (packing, npm installs, apps and type
  // checks: both cores for minutes) run on their own after the rest, one after the other, so they
  // never starve the tests that count requests within time windows: `pnpm test` runs
  // `jest test/consumer packages/create-mcp-oauth/test/e2e --testPathIgnorePatterns=/node_modules/ --runInBand`
  // second (`pnpm test:consumer` alone).
  testPathIgnorePatterns: [
    "/node_modules/",
    // Stryker's sandbox copy of the repository, while a mutation run is under way.
    "<rootDir>/.stryker-tmp/",
    "<rootDir>/test/consumer/",
    "<rootDir>/packages/create-mcp-oauth/test/e2e/",
  ],
  // Nor its packages as modules (their package.json names would collide with the real ones).
  modulePathIgnorePatterns: ["<rootDir>/.stryker-tmp/"],
  // Every test talks to loopback servers it starts itself; give slow CI machines room.
  testTimeout: 30_000,
  // Two cores: one worker per core.
  maxWorkers: 2,
};

export default config;

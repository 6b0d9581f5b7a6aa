// Mutation testing of the security rules (issue 18; docs/security.md "Mutation testing").
// `npx -y pnpm@12.4.2 mutation` (all rule files: hours on 2 cores, the bridge's tests being slow); one file:
// `npx -y pnpm@12.4.2 mutation --mutate packages/core/src/claims.ts`.
// Not part of `pnpm test`. Stryker 9 (Stryker 10 needs Node 22); Jest in ESM mode.
import { fileURLToPath } from "node:url";

// The rule files: every decision a token, a header or a browser request goes through.
const RULE_FILES = [
  "packages/core/src/authorization-header.ts",
  "packages/core/src/challenge.ts",
  "packages/core/src/error-responses.ts",
  "packages/core/src/claims.ts",
  "packages/core/src/scopes.ts",
  "packages/core/src/resource-uri.ts",
  "packages/core/src/recent-keys.ts",
  "packages/core/src/jwt/decode.ts",
  "packages/core/src/jwt/signature.ts",
  "packages/core/src/jwt/key-source.ts",
  "packages/core/src/interning.ts",
  "packages/core/src/introspection.ts",
  "packages/core/src/outbound.ts",
  // Fail closed and judge the body the host runs (issue 24): what a preflight is, how a
  // body is read, the verdict and the gate at the end of mcpOAuth's chain.
  "packages/core/src/cors-preflight.ts",
  "packages/core/src/request-body.ts",
  "packages/express/src/verdict.ts",
  "packages/express/src/mcp-oauth.ts",
  "packages/express/src/read-body.ts",
  "packages/express/src/oauth-cors.ts",
  "packages/express/src/require-bearer.ts",
  "packages/express/src/require-scopes.ts",
  "packages/express/src/protected-resource-metadata.ts",
  // The mcp-framework bridge (issue 24): its gate and body hand-over, who owns a session, the
  // bounds on sessions, and the routing of each message to its own session.
  "packages/mcp-framework/src/bridge.ts",
  "packages/mcp-framework/src/owners.ts",
  "packages/mcp-framework/src/sessions.ts",
  "packages/mcp-framework/src/session-router.ts",
  // DPoP (issue 26): the proof's checks and payload, the key, htu, nonces, replay, and what the request carries.
  "packages/core/src/dpop/request.ts",
  "packages/core/src/dpop/proof.ts",
  "packages/core/src/dpop/payload.ts",
  "packages/core/src/dpop/jwk.ts",
  "packages/core/src/dpop/htu.ts",
  "packages/core/src/dpop/nonce.ts",
  "packages/core/src/dpop/replay.ts",
  "packages/core/src/dpop/verifier.ts",
];

// The test files that exercise those rules directly (the whole suite would take hours).
const TEST_FILES = [
  "packages/core/test/authorization-header.test.ts",
  "packages/core/test/challenge.test.ts",
  "packages/core/test/claims.test.ts",
  "packages/core/test/scopes.test.ts",
  "packages/core/test/resource-uri.test.ts",
  // The options that name a rule's settings (a policy, a resource URI) refused at construction.
  "packages/core/test/options.test.ts",
  "packages/express/test/options.test.ts",
  "packages/core/test/recent-keys.test.ts",
  "packages/core/test/token-cache.test.ts",
  "packages/core/test/interning.test.ts",
  "packages/core/test/decode.test.ts",
  "packages/core/test/signature.test.ts",
  "packages/core/test/verifier.test.ts",
  // jwt/key-source.ts rule by rule: ages and boundaries, single flight, cooldowns, kid, alg.
  "packages/core/test/key-source.test.ts",
  "packages/core/test/introspection.test.ts",
  // outbound.ts: the reason of every failure (its own tests), and the misbehaving servers
  // end to end (timeouts, redirects, huge and endless answers).
  "packages/core/test/outbound.test.ts",
  "test/hardening/faults.test.ts",
  "packages/express/test/oauth-cors.test.ts",
  "packages/express/test/require-bearer.test.ts",
  // requireBearer and requireScopes decide a known token without a promise: pinned here.
  "packages/express/test/sync-path.test.ts",
  "packages/express/test/require-scopes.test.ts",
  "packages/express/test/protected-resource-metadata.test.ts",
  "packages/core/test/cors-preflight.test.ts",
  "packages/core/test/request-body.test.ts",
  "packages/core/test/cors-policy.test.ts",
  "packages/express/test/fail-closed.test.ts",
  "packages/express/test/body-encoding.test.ts",
  "packages/express/test/mcp-oauth.test.ts",
  // The bridge on the real framework transports.
  "packages/mcp-framework/test/fail-closed.test.ts",
  "packages/mcp-framework/test/body-encoding.test.ts",
  "packages/mcp-framework/test/bridge.test.ts",
  "packages/mcp-framework/test/session-isolation.test.ts",
  "packages/mcp-framework/test/session-owners.test.ts",
  "packages/mcp-framework/test/owners.test.ts",
  "packages/mcp-framework/test/session-limits.test.ts",
  "packages/mcp-framework/test/sessions.test.ts",
  "packages/mcp-framework/test/session-router.test.ts",
  "packages/core/test/dpop-options.test.ts",
  "packages/core/test/dpop-request.test.ts",
  "packages/core/test/dpop-proof.test.ts",
  "packages/core/test/dpop-payload.test.ts",
  "packages/core/test/dpop-jwk.test.ts",
  "packages/core/test/dpop-htu.test.ts",
  "packages/core/test/dpop-nonce.test.ts",
  "packages/core/test/dpop-replay.test.ts",
  "packages/core/test/dpop-answer.test.ts",
  "packages/core/test/dpop-fuzz.test.ts",
];

// `MUTATION_TESTS=packages/core/test/claims.test.ts,...` narrows the tests for a quick run over
// one rule file (a mutant only its own tests would catch then counts as survived).
const testFiles = (process.env.MUTATION_TESTS?.split(",").filter(Boolean) ?? TEST_FILES).map(
  (file) => `<rootDir>/${file.trim()}`,
);

/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
export default {
  packageManager: "pnpm",
  // Under pnpm the runner is not found by Stryker's plugin glob: name it by path.
  plugins: [fileURLToPath(import.meta.resolve("@stryker-mutator/jest-runner"))],
  testRunner: "jest",
  testRunnerNodeArgs: ["--experimental-vm-modules", "--no-warnings=ExperimentalWarning"],
  jest: {
    projectType: "custom",
    configFile: "jest.config.ts",
    // Stryker wraps the environment to collect per-test coverage and cannot resolve
    // `<rootDir>` in jest.config.ts's quiet environment: Jest's plain node one instead.
    config: { testMatch: testFiles, testEnvironment: "node" },
    enableFindRelatedTests: false,
  },
  mutate: RULE_FILES,
  // Only the rule files' tests run per mutant, each only against the mutants it covers.
  coverageAnalysis: "perTest",
  ignoreStatic: true,
  // Error messages and descriptions are prose, not rules; the codes and header values that
  // clients read are pinned by the tests anyway (measured this way since the first run).
  mutator: { excludedMutations: ["StringLiteral"] },
  checkers: [],
  concurrency: 2,
  timeoutMS: 30000,
  reporters: ["clear-text", "progress", "html"],
  htmlReporter: { fileName: "reports/mutation/mutation.html" },
  tempDirName: ".stryker-tmp",
  cleanTempDir: true,
};

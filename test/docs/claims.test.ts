/**
 * Claims of the docs that a number or a name in the code decides: each is read from the code
 * (or the test that measures it) and looked for in the sentence that states it, so changing
 * one without the other fails here.
 */
import { createSecretKey } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { expect, it } from "@jest/globals";
import { SUPPORTED_FRAMEWORK_RANGE } from "@mcp-oauth/mcp-framework";
import { ResourceServer } from "@mcp-oauth/core";
import { signJwt } from "../helpers/jwt.js";

const read = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");
/** The text with every run of white space (line breaks of the prose included) as one space. */
const prose = (path: string): string => read(path).replace(/\s+/g, " ");

it("packages/mcp-framework/README.md states the supported mcp-framework range the code checks", () => {
  const readme = read("packages/mcp-framework/README.md");
  expect(readme).toContain(`mcp-framework \`${SUPPORTED_FRAMEWORK_RANGE}\``);
  // No other mcp-framework version is named as a bound.
  const lowest = /^>=(\S+)/.exec(SUPPORTED_FRAMEWORK_RANGE)![1]!;
  const named = [...readme.matchAll(/mcp-framework (\d+\.\d+\.\d+)/g)].map((m) => m[1]);
  expect(named.filter((version) => version !== lowest)).toEqual([]);
});

it("the README's shape of authInfo.extra is the one a verified request carries", async () => {
  expect(prose("README.md")).toContain(
    "`extra` (`sub`, `iss`, `aud`, and `claims`: every claim of the token, frozen at every depth,",
  );
  const secret = "0123456789abcdef0123456789abcdef";
  const resource = "https://mcp.example.com/mcp";
  const issuer = "https://auth.example.com";
  const server = new ResourceServer({ resource, authorizationServers: [issuer], validation: { secret } });
  const now = Math.floor(Date.now() / 1000);
  const token = signJwt(
    { alg: "HS256", typ: "at+jwt" },
    { iss: issuer, aud: resource, sub: "ada", exp: now + 60, iat: now, tenant: "t1" },
    createSecretKey(Buffer.from(secret)),
  );
  const { extra } = await server.verifyToken(token);
  expect(Object.keys(extra!).sort()).toEqual(["aud", "claims", "iss", "sub"]);
  expect(extra).toMatchObject({ sub: "ada", iss: issuer, aud: resource, claims: { tenant: "t1" } });
  expect(Object.isFrozen(extra!["claims"])).toBe(true);
  const nested = signJwt(
    { alg: "HS256", typ: "at+jwt" },
    { iss: issuer, aud: resource, sub: "ada", exp: now + 60, iat: now, org: { roles: ["a"] } },
    createSecretKey(Buffer.from(secret)),
  );
  const claims = (await server.verifyToken(nested)).extra!["claims"] as { org: { roles: string[] } };
  expect(Object.isFrozen(claims.org) && Object.isFrozen(claims.org.roles)).toBe(true);
});

const NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"];

it("docs/releasing.md counts the packages that are published", () => {
  const published = readdirSync(new URL("../../packages", import.meta.url))
    .map((dir) => JSON.parse(read(`packages/${dir}/package.json`)) as { name: string; private?: boolean })
    .filter((pkg) => pkg.private !== true);
  const count = NUMBER_WORDS[published.length]!;
  const releasing = prose("docs/releasing.md");
  expect(releasing).toMatch(
    new RegExp(`^# Releasing ${count[0]!.toUpperCase()}${count.slice(1)} packages are published`),
  );
  for (const { name } of published) expect(releasing.slice(0, releasing.indexOf("##", 2))).toContain(`\`${name}\``);
  expect(releasing).toContain(`shows 0.1.0 ${count} times`);
  expect(releasing).toContain(`bumps the ${count} versions`);
});

it("docs/security.md quotes the number of requests the concurrency test holds in flight", () => {
  const inFlight = /const IN_FLIGHT = (\d+);/.exec(read("packages/mcp-framework/test/concurrency.test.ts"))![1]!;
  const security = prose("docs/security.md");
  expect(security).toContain(`${inFlight} requests in flight`);
  expect([...security.matchAll(/(\d+) requests in flight/g)].map((m) => m[1])).toEqual([inFlight]);
});

it("the README quotes the duration of the last benchmark run", () => {
  const { wallSeconds, commit } = JSON.parse(read("bench/results.json")) as { wallSeconds: number; commit: string };
  const minutes = Math.round(wallSeconds / 60);
  expect(prose("README.md")).toContain(
    `the last run took ${minutes} minutes (${Math.round(wallSeconds)} s at ${commit}, \`wallSeconds\``,
  );
});

it("the README says how its benchmark ratios are computed (medians of per-round ratios)", () => {
  const readme = prose("README.md");
  const start = readme.indexOf("Latest figures");
  const table = readme.indexOf("| Target |", start);
  expect(readme.slice(start, table)).toContain("median of the per-round ratios");
});

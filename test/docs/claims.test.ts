/**
 * Claims of the docs that a number or a name in the code decides: each is read from the code
 * (or the test that measures it) and looked for in the sentence that states it, so changing
 * one without the other fails here.
 */
import { createSecretKey } from "node:crypto";
import { readFileSync } from "node:fs";
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
    "`extra` (`sub`, `iss`, `aud`, and `claims`: every claim of the token, read-only)",
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
});

/**
 * `mcp-oauth doctor` given the endpoint under another spelling of its host than the resource
 * the server publishes (`localhost` for a `127.0.0.1` resource): the same machine, but another
 * URL and another origin, which browsers and the MCP Origin rule (DNS rebinding protection)
 * keep apart. The Express example with the real local authorization server.
 */
import { afterAll, beforeAll, expect, it } from "@jest/globals";
import { startExampleServer, type RunningExample } from "../../../examples/express-server/src/server.js";
import {
  startTestAuthorizationServer,
  type TestAuthorizationServer,
} from "../../../test/helpers/authorization-server.js";
import { runDoctor } from "../src/doctor/doctor.js";

let as: TestAuthorizationServer;
let mcp: RunningExample;

beforeAll(async () => {
  as = await startTestAuthorizationServer();
  mcp = await startExampleServer({ OAUTH_AUTHORIZATION_SERVER: as.issuer, OAUTH_SCOPES: "mcp:read", PORT: "0" });
}, 60_000);

afterAll(async () => {
  await mcp?.close();
  await as?.close();
});

it("says that localhost and 127.0.0.1 are different origins to browsers and to the Origin rule", async () => {
  const published = new URL(mcp.url); // http://127.0.0.1:PORT/mcp
  const checked = new URL(mcp.url);
  checked.hostname = "localhost";
  const report = await runDoctor({ resource: checked.href });
  const resource = report.checks.filter((c) => c.id === "metadata.resource");
  expect(resource).toHaveLength(1);
  expect(resource[0]).toMatchObject({ status: "fail" });
  expect(resource[0]!.message).toBe(
    `resource "${published.href}" names the host 127.0.0.1, the URL checked localhost: both may reach this server, ` +
      `but they are different URLs and different origins. Clients refuse metadata for another resource, and browsers ` +
      `and the MCP Origin rule (DNS rebinding protection) treat ${checked.origin} and ${published.origin} as two ` +
      `origins: a browser-based client served from one is refused (403) by a server whose resource is the other`,
  );
  expect(resource[0]!.fix).toBe(
    `spell the host one way everywhere: give clients ${published.href}, or set OAUTH_RESOURCE=${checked.href} if they use that one`,
  );
});

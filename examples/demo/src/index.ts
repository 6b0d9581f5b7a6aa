/**
 * `pnpm demo`: the whole MCP OAuth flow on this machine, no account anywhere.
 * `pnpm demo --serve`: keep a local authorization server and the protected MCP server
 * running, and print how to connect a client to them.
 */
import { runDemo, runDpopDemo, runFrameworkDemo, startDemoStack, type DemoRun } from "./demo.js";

const args = new Set(process.argv.slice(2));
const log = (line: string): void => console.log(line);

if (args.has("--help") || args.has("-h")) {
  log(
    "usage: pnpm demo [--serve] [--v2] [--dpop | --no-dpop]\n  --serve    keep the servers running for your own client (Ctrl-C stops them)\n  --v2       drive the flow with @modelcontextprotocol/client (SDK v2) instead of v1\n  --dpop     only the DPoP runs (RFC 9449: Express and mcp-framework examples with OAUTH_DPOP=allowed)\n  --no-dpop  skip the DPoP runs",
  );
  process.exit(0);
}

if (args.has("--serve")) {
  const validation = args.has("--introspection") ? "introspection" : "jwt";
  // The MCP Inspector's browser page calls the server directly: allow its origin.
  const stack = await startDemoStack(
    validation,
    { as: 9000, mcp: 3000 },
    { OAUTH_ALLOWED_ORIGINS: "http://localhost:6274,http://127.0.0.1:6274" },
  );
  log(
    `authorization server: ${stack.authorizationServer.issuer} (sign in with any name; open registration and Client ID Metadata Documents, both open to a browser page)`,
  );
  log(`MCP server:           ${stack.mcp.url} (Streamable HTTP; legacy SSE at /sse)`);
  log(`protected resource metadata: ${stack.mcp.example.oauth.resourceServer.options.resourceMetadataUrl}`);
  log("\nConnect a client:");
  log(
    `  MCP Inspector:  npx @modelcontextprotocol/inspector  -> Transport "Streamable HTTP", URL ${stack.mcp.url}, then "Open Auth Settings" / "Quick OAuth Flow"`,
  );
  log(
    `  any MCP client: add the server URL ${stack.mcp.url}; it discovers the authorization server from the 401 challenge`,
  );
  log("\nCtrl-C stops both servers.");
  const stop = (): void => {
    void stack.close().then(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
} else {
  const started = Date.now();
  const generation = args.has("--v2") ? "v2" : "v1";
  const runs: DemoRun[] = [];
  if (!args.has("--dpop")) {
    for (const validation of ["jwt", "introspection"] as const) runs.push(await runDemo(validation, generation, log));
    runs.push(await runFrameworkDemo(generation, log));
  }
  if (!args.has("--no-dpop")) {
    runs.push(await runDpopDemo(generation, log));
    runs.push(await runFrameworkDemo(generation, log, { dpop: true }));
  }
  const checks = runs.flatMap((run) =>
    run.checks.map((check) => ({ ...check, run: `${run.validation}/${run.generation}${run.dpop ? "/dpop" : ""}` })),
  );
  const failed = checks.filter((check) => !check.ok);
  log(
    `\n${checks.length - failed.length} passed, ${failed.length} failed (${((Date.now() - started) / 1000).toFixed(1)} s)`,
  );
  for (const check of failed)
    log(`  FAIL [${check.run}] ${check.step}: ${check.what}${check.detail ? ` (${check.detail})` : ""}`);
  process.exit(failed.length === 0 ? 0 : 1);
}

/**
 * The same handler on whatever runtime runs this file (Bun, Deno): createFetchProtection in
 * front of a handler that reports the verdict and the body it got. Configured only by the
 * environment (OAUTH_*, PORT, HOST); prints `listening` once it accepts requests.
 */
import { createFetchProtection, optionsFromEnv } from "@mcp-oauth/fetch";

type Env = Record<string, string | undefined>;
interface Runtimes {
  Bun?: { env: Env; serve(options: { port: number; hostname: string; fetch(r: Request): Promise<Response> }): unknown };
  Deno?: {
    env: { toObject(): Env };
    serve(
      options: { port: number; hostname: string; onListen?: () => void },
      handler: (r: Request) => Promise<Response>,
    ): unknown;
  };
}
const runtime = globalThis as unknown as Runtimes;
const env: Env = runtime.Bun?.env ?? runtime.Deno?.env.toObject() ?? {};

const protection = createFetchProtection({
  ...optionsFromEnv(env),
  scopePolicy: { tools: { write_note: ["mcp:write"] } },
});

async function handler(request: Request): Promise<Response> {
  const outcome = await protection.handle(request);
  if (outcome instanceof Response) return outcome;
  const extra = outcome.authInfo.extra as { sub?: string };
  const reached = { sub: extra.sub, scopes: outcome.authInfo.scopes, body: await outcome.request.text() };
  return protection.withCors(outcome.request, Response.json(reached));
}

const port = Number(env["PORT"]);
const hostname = env["HOST"] ?? "127.0.0.1";
if (runtime.Bun !== undefined) {
  runtime.Bun.serve({ port, hostname, fetch: handler });
  console.log("listening");
} else if (runtime.Deno !== undefined) {
  runtime.Deno.serve({ port, hostname, onListen: () => console.log("listening") }, handler);
}

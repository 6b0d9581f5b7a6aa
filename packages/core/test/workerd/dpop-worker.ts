/**
 * A Worker that runs the core's DPoP check (dpop/verifier.ts: proof, key import, nonce
 * sealing, replay, all through the crypto seam) on what it is posted: `{ op: "nonce" }` answers
 * `{ nonce }`; `{ op: "verify", ...DpopProofInput }` answers `{ thumbprint }` or `{ code }`.
 * Bundled and run on workerd by crypto-workerd.test.ts. The verifier is built on the first
 * request: workerd refuses random values (the nonce keys' IVs) in global scope.
 */
import { McpOAuthError } from "../../src/errors.js";
import { DpopVerifier, resolveDpopOptions, type DpopProofInput } from "../../src/internal.js";

let verifier: DpopVerifier | undefined;

export default {
  async fetch(request: Request): Promise<Response> {
    verifier ??= new DpopVerifier(resolveDpopOptions({ mode: "allowed", nonce: { secrets: "w".repeat(32) } }), {
      resourceUrl: new URL("https://mcp.example.com/mcp"),
    });
    const input = (await request.json()) as { op: "nonce" } | ({ op: "verify" } & DpopProofInput);
    if (input.op === "nonce") return Response.json({ nonce: verifier.nonce() });
    try {
      const verified = await verifier.verify(input);
      return Response.json({ thumbprint: verified.thumbprint });
    } catch (error) {
      return Response.json({ code: error instanceof McpOAuthError ? error.code : String(error) });
    }
  },
};

/**
 * DPoP nonces through the Fetch adapter (RFC 9449 sections 8 and 9): the nonce the core asks
 * for reaches the client on the 401, and the fresh one it hands out once the client's nonce is
 * past half its life reaches it on the application's own answer (`finish`), as on Express.
 */
import { afterAll, beforeAll, expect, it, jest } from "@jest/globals";
import { createFetchProtection, type FetchVerdict } from "../src/index.js";
import {
  startTestAuthorizationServer,
  type TestAuthorizationServer,
} from "../../../test/helpers/authorization-server.js";
import { dpopKey, dpopProof, type DpopKey } from "../../../test/helpers/dpop.js";

const RESOURCE = "https://mcp.example.com/mcp";

let as: TestAuthorizationServer;
let key: DpopKey;
beforeAll(async () => {
  [as, key] = await Promise.all([startTestAuthorizationServer(), dpopKey("ES256")]);
});
afterAll(() => as?.close());

it("sends the nonce on the 401 use_dpop_nonce, and a renewed one on the application's answer", async () => {
  const t0 = Date.now();
  const clock = jest.spyOn(Date, "now").mockReturnValue(t0);
  try {
    const protection = createFetchProtection({
      resource: RESOURCE,
      authorizationServers: [as.issuer],
      allowInsecureHttp: true,
      dpop: { mode: "allowed", nonce: { secrets: "s".repeat(32) } },
    });
    const token = as.mint(RESOURCE, { cnf: { jkt: key.thumbprint } });
    const request = async (atMs: number, nonce?: string): Promise<Request> =>
      new Request(RESOURCE, {
        method: "GET",
        headers: {
          authorization: `DPoP ${token}`,
          dpop: await dpopProof(
            key,
            { htm: "GET", htu: RESOURCE, accessToken: token, ...(nonce ? { nonce } : {}) },
            Math.floor(atMs / 1000),
          ),
        },
      });

    const refused = await protection.handle(await request(t0));
    expect(refused).toBeInstanceOf(Response);
    expect((refused as Response).status).toBe(401);
    const nonce = (refused as Response).headers.get("dpop-nonce");
    expect(nonce).toMatch(/^[A-Za-z0-9_-]+$/);

    const fresh = (await protection.handle(await request(t0, nonce!))) as FetchVerdict;
    expect(fresh.authInfo).toBeDefined();
    const freshAnswer = protection.finish(fresh.request, new Response("ok"));
    expect(freshAnswer.headers.get("dpop-nonce")).toBeNull();

    clock.mockReturnValue(t0 + 200_000);
    const aging = (await protection.handle(await request(t0 + 200_000, nonce!))) as FetchVerdict;
    expect(aging.authInfo).toBeDefined();
    const renewed = protection.finish(aging.request, new Response("ok")).headers.get("dpop-nonce");
    expect(renewed).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(renewed).not.toBe(nonce);
  } finally {
    clock.mockRestore();
  }
});

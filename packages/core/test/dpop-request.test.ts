/** Reading the `DPoP` header values of a request and the `cnf.jkt` of a token. */
import { describe, expect, it } from "@jest/globals";
import { createServer, request as httpRequest, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { boundThumbprintOf, dpopProofsOf } from "../src/internal.js";
import { codeOf } from "../../../test/helpers/error-code.js";
import { settle } from "../../../test/helpers/dpop.js";

const JKT = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I";

/** What a real node:http server sees for these raw header lines. */
async function received(headers: [string, string][]): Promise<IncomingMessage> {
  let seen: IncomingMessage | undefined;
  const server = createServer((req, res) => {
    seen = req;
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest({ port, host: "127.0.0.1", path: "/mcp", method: "POST" }, (res) => {
        res.resume();
        res.on("end", resolve);
      });
      req.on("error", reject);
      for (const [name, value] of headers) req.appendHeader(name, value);
      req.end();
    });
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
  return seen!;
}

describe("dpopProofsOf", () => {
  it("reads one header, two headers (which Node folds into one value) and none, from a real request", async () => {
    expect(dpopProofsOf(await received([["DPoP", "a.b.c"]]))).toEqual(["a.b.c"]);
    const two = await received([
      ["DPoP", "a.b.c"],
      ["dpop", "d.e.f"],
    ]);
    expect(two.headers["dpop"]).toBe("a.b.c, d.e.f");
    expect(dpopProofsOf(two)).toEqual(["a.b.c", "d.e.f"]);
    expect(dpopProofsOf(await received([["X-Other", "1"]]))).toBeUndefined();
  });

  it("falls back to headers.dpop without rawHeaders", () => {
    expect(dpopProofsOf({ headers: { dpop: "a.b.c" } })).toBe("a.b.c");
    expect(dpopProofsOf({ headers: {} })).toBeUndefined();
  });

  it("reads headers.dpop when rawHeaders hold none: a request shim (mcp-framework's handleRequest) sets headers only", () => {
    expect(dpopProofsOf({ headers: { dpop: "a.b.c" }, rawHeaders: [] })).toBe("a.b.c");
    // Two folded into one value by whoever built the shim: still two, refused by the proof check.
    expect(dpopProofsOf({ headers: { dpop: "a.b.c, d.e.f" }, rawHeaders: ["Host", "x"] })).toBe("a.b.c, d.e.f");
  });

  it("finds DPoP in rawHeaders under any spelling of its name, and no value past the end of the list", () => {
    for (const name of ["DPoP", "dpop", "DPOP", "dPoP"])
      expect(dpopProofsOf({ headers: {}, rawHeaders: ["Host", "h", name, "a.b.c"] })).toEqual(["a.b.c"]);
    expect(dpopProofsOf({ headers: {}, rawHeaders: ["Host", "h", "DPoP"] })).toBeUndefined();
    expect(dpopProofsOf({ headers: {}, rawHeaders: ["DPoPx", "a", "DPo", "b"] })).toBeUndefined();
  });

  it("compares the name letter by letter: a four-character name one letter off is not DPoP", () => {
    // One letter changed at each place, also to a character whose code differs only outside
    // the case bit (`D` 0x44 / `T` 0x54), to a non-letter and to a look-alike (Cyrillic `о`).
    for (const name of ["Host", "EPoP", "TPoP", "DQoP", "D@oP", "DPpP", "DP\u043eP", "DPoQ", "DPo`"])
      expect(dpopProofsOf({ headers: {}, rawHeaders: [name, "a.b.c"] })).toBeUndefined();
  });
});

describe("boundThumbprintOf", () => {
  it("reads cnf.jkt, and nothing from a token without it", () => {
    expect(boundThumbprintOf({ cnf: { jkt: JKT } })).toBe(JKT);
    expect(boundThumbprintOf({ sub: "x" })).toBeUndefined();
    expect(boundThumbprintOf({ cnf: { "x5t#S256": JKT } })).toBeUndefined();
  });

  it.each([
    [null],
    ["jkt"],
    [[JKT]],
    [{ jkt: 5 }],
    [{ jkt: "short" }],
    [{ jkt: `${JKT}=` }],
    [{ jkt: "" }],
    // An array whose string form is a thumbprint: only a string is one.
    [{ jkt: [JKT] }],
  ])("refuses cnf %j as an invalid token, never as unbound", async (cnf) => {
    expect(await codeOf(settle(async () => boundThumbprintOf({ cnf })))).toBe("claim_invalid");
  });
});

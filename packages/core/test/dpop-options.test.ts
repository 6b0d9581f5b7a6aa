/**
 * DPoP options and `OAUTH_DPOP*`: defaults, and every inconsistent setting refused at start-up
 * with an `McpOAuthConfigError` naming the option or variable.
 */
import { describe, expect, it } from "@jest/globals";
import { McpOAuthConfigError } from "../src/errors.js";
import {
  dpopMetadata,
  dpopOptionsFromEnv,
  DpopVerifier,
  MemoryReplayStore,
  resolveDpopOptions,
  type DpopOptions,
} from "../src/internal.js";

const SECRET = "0123456789abcdef0123456789abcdef";

/** The option or variable an `McpOAuthConfigError` names, or "ok". */
function refusal(run: () => unknown): string {
  try {
    run();
    return "ok";
  } catch (error) {
    if (error instanceof McpOAuthConfigError) return error.option;
    throw error;
  }
}

describe("resolveDpopOptions", () => {
  it("is off by default, with no store and no nonces", () => {
    const resolved = resolveDpopOptions(undefined);
    expect(resolved.mode).toBe("off");
    expect(resolved.replayStore).toBeUndefined();
    expect(resolved.nonce).toBeUndefined();
    expect(dpopMetadata(resolved)).toEqual({});
  });

  it("fills in the defaults when on", () => {
    const resolved = resolveDpopOptions({ mode: "allowed" });
    expect(resolved).toMatchObject({
      mode: "allowed",
      algorithms: ["ES256", "PS256", "RS256", "EdDSA"],
      iatWindowSeconds: 300,
      clockToleranceSeconds: 0,
      keyCacheEntries: 1000,
      maxProofLength: 8192,
      maxJtiLength: 256,
      nonce: undefined,
    });
    expect(resolved.replayStore).toBeInstanceOf(MemoryReplayStore);
    expect((resolved.replayStore as MemoryReplayStore).maxEntries).toBe(100_000);
  });

  it("publishes metadata matching what is enforced (RFC 9728 section 2)", () => {
    expect(dpopMetadata(resolveDpopOptions({ mode: "allowed", algorithms: ["ES256"] }))).toEqual({
      dpop_signing_alg_values_supported: ["ES256"],
      dpop_bound_access_tokens_required: false,
    });
    expect(dpopMetadata(resolveDpopOptions({ mode: "required" }))).toEqual({
      dpop_signing_alg_values_supported: ["ES256", "PS256", "RS256", "EdDSA"],
      dpop_bound_access_tokens_required: true,
    });
  });

  it("keeps a store of the application's own and the nonce settings", () => {
    const store = { rememberOnce: () => true };
    const resolved = resolveDpopOptions({
      mode: "required",
      replay: { store },
      nonce: { secrets: [SECRET, `${SECRET}-old`], lifetimeSeconds: 60 },
    });
    expect(resolved.replayStore).toBe(store);
    expect(resolved.nonce).toEqual({ secrets: [SECRET, `${SECRET}-old`], lifetimeSeconds: 60 });
  });

  it.each<[string, DpopOptions, string]>([
    ["an unknown mode", { mode: "on" as never }, "dpop.mode"],
    ["required with no algorithms", { mode: "required", algorithms: [] }, "dpop.algorithms"],
    ["an unknown algorithm", { mode: "allowed", algorithms: ["ES256K"] }, "dpop.algorithms"],
    ["HS256", { mode: "allowed", algorithms: ["ES256", "HS256"] }, "dpop.algorithms"],
    ["none", { mode: "allowed", algorithms: ["none"] }, "dpop.algorithms"],
    ["a secret under 32 bytes", { mode: "allowed", nonce: { secrets: "short" } }, "dpop.nonce.secrets"],
    ["no secret", { mode: "allowed", nonce: { secrets: [] } }, "dpop.nonce.secrets"],
    [
      "a zero nonce lifetime",
      { mode: "allowed", nonce: { secrets: SECRET, lifetimeSeconds: 0 } },
      "dpop.nonce.lifetimeSeconds",
    ],
    ["a zero iat window", { mode: "allowed", iatWindowSeconds: 0 }, "dpop.iatWindowSeconds"],
    ["an iat window over an hour", { mode: "allowed", iatWindowSeconds: 3601 }, "dpop.iatWindowSeconds"],
    ["a negative tolerance", { mode: "allowed", clockToleranceSeconds: -1 }, "dpop.clockToleranceSeconds"],
    ["NaN bounds", { mode: "allowed", replay: { maxEntries: Number.NaN } }, "dpop.replay.maxEntries"],
    ["a zero replay bound", { mode: "allowed", replay: { maxEntries: 0 } }, "dpop.replay.maxEntries"],
    ["a store without rememberOnce", { mode: "allowed", replay: { store: {} as never } }, "dpop.replay.store"],
    [
      "a bound for a store of its own",
      { mode: "allowed", replay: { store: { rememberOnce: () => true }, maxEntries: 5 } },
      "dpop.replay.maxEntries",
    ],
    ["a tiny maxProofLength", { mode: "allowed", maxProofLength: 10 }, "dpop.maxProofLength"],
    ["algorithms while off", { algorithms: ["ES256"] }, "dpop.algorithms"],
    ["a nonce secret while off", { mode: "off", nonce: { secrets: SECRET } }, "dpop.nonce"],
  ])("refuses %s", (_, options, option) => {
    expect(refusal(() => resolveDpopOptions(options))).toBe(option);
  });

  it("says why HS256 is refused", () => {
    expect(() => resolveDpopOptions({ mode: "allowed", algorithms: ["HS256"] })).toThrow(/private key/);
  });
});

describe("dpopOptionsFromEnv", () => {
  it("is undefined when no variable is set", () => {
    expect(dpopOptionsFromEnv({})).toBeUndefined();
    expect(dpopOptionsFromEnv({ OAUTH_DPOP: " " })).toBeUndefined();
  });

  it("reads the mode, the algorithms and the nonce secrets", () => {
    expect(
      dpopOptionsFromEnv({
        OAUTH_DPOP: "Required",
        OAUTH_DPOP_ALGS: "ES256, EdDSA",
        OAUTH_DPOP_NONCE_SECRET: ` ${SECRET}-new , ${SECRET}-old `,
      }),
    ).toEqual({
      mode: "required",
      algorithms: ["ES256", "EdDSA"],
      nonce: { secrets: [`${SECRET}-new`, `${SECRET}-old`] },
    });
    expect(dpopOptionsFromEnv({ OAUTH_DPOP: "off" })).toEqual({ mode: "off" });
    expect(dpopOptionsFromEnv({ OAUTH_DPOP: "allowed" })).toEqual({ mode: "allowed" });
  });

  it("gives options that resolve and build a verifier", () => {
    const options = dpopOptionsFromEnv({ OAUTH_DPOP: "allowed", OAUTH_DPOP_NONCE_SECRET: SECRET });
    const verifier = new DpopVerifier(resolveDpopOptions(options), {
      resourceUrl: new URL("https://mcp.example.com/mcp"),
    });
    expect(verifier.nonce()).toMatch(/^[A-Za-z0-9_-]{50}$/);
  });

  it.each<[string, Record<string, string>, string]>([
    ["an unknown mode", { OAUTH_DPOP: "yes" }, "OAUTH_DPOP"],
    ["an algorithm list of nothing", { OAUTH_DPOP: "required", OAUTH_DPOP_ALGS: "," }, "OAUTH_DPOP_ALGS"],
    ["HS256", { OAUTH_DPOP: "allowed", OAUTH_DPOP_ALGS: "ES256,HS256" }, "OAUTH_DPOP_ALGS"],
    ["none", { OAUTH_DPOP: "allowed", OAUTH_DPOP_ALGS: "none" }, "OAUTH_DPOP_ALGS"],
    ["an unknown algorithm", { OAUTH_DPOP: "allowed", OAUTH_DPOP_ALGS: "ES256K" }, "OAUTH_DPOP_ALGS"],
    ["a short secret", { OAUTH_DPOP: "allowed", OAUTH_DPOP_NONCE_SECRET: "too-short" }, "OAUTH_DPOP_NONCE_SECRET"],
    ["an empty secret list", { OAUTH_DPOP: "allowed", OAUTH_DPOP_NONCE_SECRET: "," }, "OAUTH_DPOP_NONCE_SECRET"],
    ["algorithms with DPoP off", { OAUTH_DPOP_ALGS: "ES256" }, "OAUTH_DPOP_ALGS"],
    ["a secret with DPoP off", { OAUTH_DPOP: "off", OAUTH_DPOP_NONCE_SECRET: SECRET }, "OAUTH_DPOP_NONCE_SECRET"],
  ])("refuses %s, naming the variable", (_, env, variable) => {
    expect(refusal(() => dpopOptionsFromEnv(env))).toBe(variable);
  });

  it("never puts a secret in its message", () => {
    try {
      dpopOptionsFromEnv({ OAUTH_DPOP: "allowed", OAUTH_DPOP_NONCE_SECRET: "short-secret-value" });
    } catch (error) {
      expect(String(error)).not.toContain("short-secret-value");
      return;
    }
    throw new Error("not refused");
  });
});

describe("DpopVerifier", () => {
  it("is not built while DPoP is off", () => {
    expect(() => new DpopVerifier(resolveDpopOptions({}), { resourceUrl: new URL("https://x.example/") })).toThrow();
  });
});

/**
 * CORS for the registration endpoint (Fetch standard, CORS protocol). oidc-provider answers
 * preflights and sets `Access-Control-Allow-Origin` on its metadata, key set and token
 * endpoints, but not on registration, so a client running in a browser page (the MCP
 * Inspector in direct mode) can discover the server and then cannot register: its
 * preflight to `POST /reg` gets 404. Registration here is open to anyone, so it is open to
 * any origin: the origin is echoed, as oidc-provider does on its other endpoints.
 */
import type { KoaContextWithOIDC } from "oidc-provider";

/** How long a browser may reuse a preflight answer, in seconds (oidc-provider's value). */
const PREFLIGHT_MAX_AGE_SECONDS = 3600;

export function registrationCors(path: string) {
  return async (ctx: KoaContextWithOIDC, next: () => Promise<unknown>): Promise<void> => {
    if (ctx.path !== path) {
      await next();
      return;
    }
    ctx.vary("Origin");
    const origin = ctx.get("Origin");
    if (origin === "") {
      await next();
      return;
    }
    ctx.set("Access-Control-Allow-Origin", origin);
    if (ctx.method === "OPTIONS" && ctx.get("Access-Control-Request-Method") !== "") {
      ctx.set("Access-Control-Allow-Methods", "POST");
      const requested = ctx.get("Access-Control-Request-Headers");
      if (requested !== "") ctx.set("Access-Control-Allow-Headers", requested);
      ctx.set("Access-Control-Max-Age", String(PREFLIGHT_MAX_AGE_SECONDS));
      ctx.status = 204;
      return;
    }
    await next();
  };
}

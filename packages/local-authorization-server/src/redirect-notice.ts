/**
 * The sign-in and consent pages say where the answer goes. MCP 2025-11-25 and 2026-07-28,
 * Client ID Metadata Document security: authorization servers "MUST clearly display the
 * redirect URI hostname during authorization" and "SHOULD display additional warnings for
 * localhost-only redirect URIs": anyone can name a known client's document as `client_id`
 * and a loopback port of their own as the redirect URI. oidc-provider's development pages
 * show the redirect URI only in their collapsed debug section.
 */
import type { KoaContextWithOIDC } from "oidc-provider";

const LOOPBACK_HOST = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The paragraph put under each interaction page's heading. */
export function redirectNoticeHtml(redirectUri: string, clientId: string): string {
  let host: string;
  let loopback = false;
  try {
    const url = new URL(redirectUri);
    host = url.host;
    loopback = LOOPBACK_HOST.test(url.hostname);
  } catch {
    host = redirectUri;
  }
  const warning = loopback
    ? " This address is on this machine: any program here can listen on it. Continue only if you started this client yourself."
    : "";
  return `<p class="redirect-notice">The client <strong>${escapeHtml(clientId)}</strong> receives the answer at <strong>${escapeHtml(host)}</strong>.${warning}</p>`;
}

export function redirectNotice(
  interactionDetails: (ctx: KoaContextWithOIDC) => Promise<{ params: Record<string, unknown> }>,
) {
  return async (ctx: KoaContextWithOIDC, next: () => Promise<unknown>): Promise<void> => {
    await next();
    if (ctx.method !== "GET" || !ctx.path.startsWith("/interaction/") || typeof ctx.body !== "string") return;
    if (!ctx.response.is("html") || !ctx.body.includes("</h1>")) return;
    let params: Record<string, unknown>;
    try {
      ({ params } = await interactionDetails(ctx));
    } catch {
      return; // an error page: no interaction to describe
    }
    const notice = redirectNoticeHtml(String(params["redirect_uri"] ?? ""), String(params["client_id"] ?? ""));
    ctx.body = ctx.body.replace("</h1>", `</h1>\n      ${notice}`);
  };
}

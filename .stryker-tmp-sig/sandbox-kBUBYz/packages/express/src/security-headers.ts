/**
 * Security headers on every response this library writes itself (refusals and the
 * metadata document), from helmet: these are JSON answers, so the strictest policy fits
 * (nothing to load, nothing to frame), and `nosniff` keeps browsers from reading them as
 * anything else. The application's own MCP responses are left to the application.
 */
// @ts-nocheck

import helmet from "helmet";
import type { IncomingMessage, ServerResponse } from "node:http";

const jsonApiHeaders = helmet({
  contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
  // Public metadata is read cross-origin by browser-based MCP clients (with CORS).
  crossOriginResourcePolicy: { policy: "cross-origin" },
  // No HSTS here: whether the deployment is HTTPS-only is the application's decision.
  strictTransportSecurity: false,
});

export function setSecurityHeaders(req: IncomingMessage, res: ServerResponse): void {
  // helmet's middleware sets headers synchronously and then calls next.
  jsonApiHeaders(req, res, () => {});
}

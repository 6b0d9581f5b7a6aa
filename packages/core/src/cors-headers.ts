/** The headers browser-based MCP clients need across CORS, for every adapter. */

/** Request headers MCP clients send (2025-06-18 to 2026-07-28). */
export const MCP_ALLOWED_HEADERS = [
  "Authorization",
  "Content-Type",
  "Accept",
  "Mcp-Protocol-Version",
  "Mcp-Session-Id",
  "Last-Event-ID",
  "Mcp-Method",
  "Mcp-Name",
  // RFC 9449 section 4.1: a DPoP client's proof.
  "DPoP",
] as const;

/** Response headers browser clients must be able to read: the challenge, the session, the DPoP nonce (RFC 9449 section 8). */
export const MCP_EXPOSED_HEADERS = [
  "WWW-Authenticate",
  "Mcp-Session-Id",
  "Mcp-Protocol-Version",
  "DPoP-Nonce",
] as const;

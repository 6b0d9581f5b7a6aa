/**
 * A client's Client ID Metadata Document (MCP 2025-11-25 and 2026-07-28 client
 * registration), served on a loopback port as a client in development serves it: its URL
 * is the client's id, and the authorization server fetches it where it would otherwise
 * have taken a registration.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

const PATH = "/oauth/client-metadata.json";

export interface ServedClientMetadataDocument {
  /** The document's URL: the client id. */
  readonly url: string;
  /** How many times the document was fetched. */
  fetches(): number;
  close(): Promise<void>;
}

/** Serves `metadata` (with `client_id` set to the document's own URL) on 127.0.0.1. */
export async function serveClientMetadataDocument(
  metadata: () => Record<string, unknown>,
): Promise<ServedClientMetadataDocument> {
  let fetches = 0;
  let url = "";
  const server = createServer((req, res) => {
    if (req.method !== "GET" || req.url !== PATH) {
      res.writeHead(404).end();
      return;
    }
    fetches++;
    // The authorization server may keep it this long (the draft: respect HTTP caching).
    res.writeHead(200, { "Content-Type": "application/json", "Cache-Control": "max-age=60" });
    res.end(JSON.stringify({ ...metadata(), client_id: url }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${PATH}`;
  return {
    url,
    fetches: () => fetches,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document; MCP
 * 2025-11-25 and 2026-07-28, client registration) served on this machine.
 *
 * oidc-provider resolves `https` client ids itself (its `clientIdMetadataDocument` feature:
 * the fetch, the checks, the cache). It will not fetch an `http` URL, and its SSRF guard
 * refuses every loopback address, yet a client in development or under test serves its
 * document on a loopback port over plain http. Those ids are resolved here, with the same
 * checks, and handed to oidc-provider as the stored metadata of the client (the adapter's
 * `find`), so everything after the lookup (redirect URI matching, PKCE, consent) is
 * oidc-provider's own.
 */

/** The draft's limit on a document (section 4.1): 5 kilobytes. */
const MAX_DOCUMENT_BYTES = 5 * 1024;
/** oidc-provider's deadline for the same fetch. */
const FETCH_TIMEOUT_MS = 2500;
/** Cache-Control max-age is honoured up to a day (oidc-provider's upper bound). */
const MAX_CACHE_SECONDS = 86_400;
/** The draft forbids shared secrets: anyone can read the document. */
const SHARED_SECRET_METHODS = new Set(["client_secret_basic", "client_secret_post", "client_secret_jwt"]);

const LOOPBACK_HOST = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

/**
 * Whether `id` is a document URL this module resolves: `http:` on a loopback host, with a
 * path (MCP: "contain a path component"), written exactly as the URL parser writes it (so
 * no dot segments, no default port, no case variants: the id is compared byte for byte),
 * without userinfo or fragment.
 */
export function isLoopbackClientIdUrl(id: string): boolean {
  let url: URL;
  try {
    url = new URL(id);
  } catch {
    return false;
  }
  return (
    url.protocol === "http:" &&
    LOOPBACK_HOST.test(url.hostname) &&
    url.href === id &&
    url.pathname !== "/" &&
    url.hash === "" &&
    url.username === "" &&
    url.password === ""
  );
}

/** The two oidc-provider errors a bad document is answered with (400 `invalid_client` / `invalid_client_metadata`). */
export interface DocumentErrors {
  InvalidClient: new (description: string) => Error;
  InvalidClientMetadata: new (description: string) => Error;
}

function maxAgeSeconds(response: Response): number {
  const cacheControl = response.headers.get("cache-control") ?? "";
  if (/(?:^|,)\s*no-(?:store|cache)\b/i.test(cacheControl)) return 0;
  const maxAge = /(?:^|,)\s*max-age\s*=\s*(\d+)/i.exec(cacheControl);
  return maxAge ? Math.min(Number(maxAge[1]), MAX_CACHE_SECONDS) : 0;
}

async function readLimited(response: Response): Promise<string> {
  const declared = Number(response.headers.get("content-length") ?? "0");
  if (declared > MAX_DOCUMENT_BYTES) {
    await response.body?.cancel();
    throw new Error("too large");
  }
  const chunks: Uint8Array[] = [];
  let received = 0;
  for await (const chunk of response.body ?? []) {
    received += (chunk as Uint8Array).byteLength;
    if (received > MAX_DOCUMENT_BYTES) throw new Error("too large");
    chunks.push(chunk as Uint8Array);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Fetches and checks documents, caching each as its `Cache-Control: max-age` allows. */
export class LoopbackClientIdMetadataDocuments {
  readonly #errors: DocumentErrors;
  readonly #cache = new Map<string, { metadata: Record<string, unknown>; expiresAt: number }>();

  constructor(errors: DocumentErrors) {
    this.#errors = errors;
  }

  /** The client metadata the document at `id` declares; throws oidc-provider's errors when it cannot be used. */
  async resolve(id: string): Promise<Record<string, unknown>> {
    const cached = this.#cache.get(id);
    if (cached && cached.expiresAt > Date.now()) return { ...cached.metadata };
    this.#cache.delete(id);

    const { InvalidClient, InvalidClientMetadata } = this.#errors;
    let response: Response;
    let text: string;
    try {
      // No redirects: the document is the one at the URL the client named.
      response = await fetch(id, {
        headers: { accept: "application/json" },
        redirect: "manual",
        signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
      });
      if (response.status !== 200) {
        await response.body?.cancel();
        throw new InvalidClient(`client_id metadata document fetch failed: HTTP ${response.status}`);
      }
      text = await readLimited(response);
    } catch (error) {
      if (error instanceof InvalidClient) throw error;
      throw new InvalidClient("client_id metadata document fetch failed");
    }

    let metadata: unknown;
    try {
      metadata = JSON.parse(text);
    } catch {
      throw new InvalidClientMetadata("client_id metadata document is not JSON");
    }
    if (metadata === null || typeof metadata !== "object" || Array.isArray(metadata))
      throw new InvalidClientMetadata("client_id metadata document is not a JSON object");
    const document = metadata as Record<string, unknown>;
    // The document names itself: a copy served elsewhere is not that client (draft section 4.1).
    if (document["client_id"] !== id)
      throw new InvalidClientMetadata("client_id metadata document client_id does not match the expected value");
    if ("client_secret" in document || "client_secret_expires_at" in document)
      throw new InvalidClientMetadata("client_id metadata document must not contain client_secret");
    if (SHARED_SECRET_METHODS.has(String(document["token_endpoint_auth_method"])))
      throw new InvalidClientMetadata(
        "client_id metadata document must not use shared-secret token endpoint authentication methods",
      );
    // MCP: the document MUST include at least client_id, client_name and redirect_uris.
    if (typeof document["client_name"] !== "string" || document["client_name"] === "")
      throw new InvalidClientMetadata("client_id metadata document has no client_name");
    if (!Array.isArray(document["redirect_uris"]) || document["redirect_uris"].length === 0)
      throw new InvalidClientMetadata("redirect_uris must be a non-empty array");

    const maxAge = maxAgeSeconds(response);
    if (maxAge > 0) this.#cache.set(id, { metadata: document, expiresAt: Date.now() + maxAge * 1000 });
    return { ...document };
  }
}

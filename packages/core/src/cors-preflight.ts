/**
 * What a request to the protected resource needs, as far as CORS goes. Every adapter asks
 * here and translates; none decides on its own.
 *
 * A CORS-preflight request (Fetch standard, section 3.2.2) is an `OPTIONS` request with an
 * `Origin` and an `Access-Control-Request-Method` header. Browsers send it without
 * credentials, so it is answered by the library itself (204 with the CORS headers for an
 * allowed origin, 403 otherwise) and never passed on. Any other `OPTIONS` request, one
 * header missing or empty included, is no preflight: it is authenticated like a `GET`
 * (401 without a token), because a handler behind the library would otherwise run for a
 * caller nobody authenticated.
 */
export function isCorsPreflight(method: string | undefined, origin: unknown, requestMethod: unknown): boolean {
  return (
    method === "OPTIONS" &&
    typeof origin === "string" &&
    origin !== "" &&
    typeof requestMethod === "string" &&
    requestMethod !== ""
  );
}

/**
 * The `htu` comparison (RFC 9449 section 4.3, point 9): the proof's URI against the URI of
 * the request, both without query and fragment, after RFC 3986 syntax-based (section 6.2.2:
 * case, percent-encoding, dot segments) and scheme-based (section 6.2.3: default port, empty
 * path) normalization. The request's URI is built from the configured resource URL's origin
 * and the request target's path: never from a `Host` header, which the client chooses.
 */

/**
 * `scheme://host[:port]path[?query][#fragment]` with a registered name or an IP literal as
 * host. The path, if any, starts with `/`: whatever else follows the host (the `@` of a
 * userinfo, as in `https://mcp.example.com@evil.example/`, or a port that is not digits) makes
 * it no match, never part of a path. No percent-encoded host: such a URI never equals ours.
 */
const HTTP_URI =
  /^(https?):\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~!$&'()*+,;=-]+)(?::([0-9]*))?(\/[^?#]*)?(?:[?#][\s\S]*)?$/i;

/** RFC 3986 `path-abempty`: segments of pchar (unreserved, pct-encoded, sub-delims, `:`, `@`). */
const PATH = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*$/;

/** Percent-encoded octets: unreserved ones decoded, the rest with uppercase hex (RFC 3986 section 6.2.2.2). */
function normalizePercentEncoding(path: string): string {
  if (!path.includes("%")) return path;
  return path.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => {
    const char = String.fromCharCode(parseInt(hex, 16));
    return /[A-Za-z0-9\-._~]/.test(char) ? char : `%${hex.toUpperCase()}`;
  });
}

/** RFC 3986 section 5.2.4 on an absolute path. */
function removeDotSegments(path: string): string {
  if (!path.includes(".")) return path;
  const segments = path.split("/");
  const output: string[] = [];
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i]!;
    const last = i === segments.length - 1;
    if (segment === "." || segment === "..") {
      if (segment === "..") output.pop();
      // `/a/b/..` is `/a/`: a dot segment at the end leaves the directory's slash.
      if (last) output.push("");
    } else {
      output.push(segment);
    }
  }
  return `/${output.join("/")}`;
}

/**
 * The comparable form of an http(s) URI without its query and fragment, or undefined when
 * the string is not one (relative, another scheme, userinfo, characters a URI cannot hold).
 */
export function normalizeHtu(value: string): string | undefined {
  const parts = HTTP_URI.exec(value);
  if (parts === null) return undefined;
  const [, scheme, host, port, rawPath = ""] = parts;
  if (!PATH.test(rawPath)) return undefined;
  const lowerScheme = scheme!.toLowerCase();
  let portPart = "";
  if (port !== undefined && port !== "") {
    const number = Number(port);
    if (number > 65535) return undefined;
    if (number !== (lowerScheme === "https" ? 443 : 80)) portPart = `:${number}`;
  }
  const path = rawPath === "" ? "/" : removeDotSegments(normalizePercentEncoding(rawPath));
  return `${lowerScheme}://${host!.toLowerCase()}${portPart}${path}`;
}

/** The path of a request target (RFC 9112 section 3.2): origin-form, or absolute-form's path. */
function targetPath(requestTarget: string): string | undefined {
  let rest: string;
  if (requestTarget.startsWith("/")) {
    rest = requestTarget;
  } else {
    // Absolute-form (a proxy's request): the path only; its authority is the client's word.
    const authorityEnd = /^https?:\/\/[^/?#]*/i.exec(requestTarget);
    if (authorityEnd === null) return undefined; // `*`, authority-form, garbage
    rest = requestTarget.slice(authorityEnd[0].length) || "/";
    if (!rest.startsWith("/")) rest = `/${rest}`;
  }
  const end = rest.search(/[?#]/);
  return end === -1 ? rest : rest.slice(0, end);
}

/** Most request targets whose expected `htu` is kept (an MCP server has one or two). */
const REMEMBERED_TARGETS = 64;

/**
 * Compares a proof's `htu` with the request's URI. The normalized URI of recent request
 * targets is kept, so the usual case (the client wrote exactly that URI) is one string
 * comparison; only a differently spelled `htu` is normalized.
 */
export class HtuMatcher {
  readonly #origin: string;
  readonly #expected = new Map<string, string | undefined>();

  /** `resource`: the configured resource URL, whose scheme, host and port the request's URI takes. */
  constructor(resource: URL) {
    this.#origin = `${resource.protocol}//${resource.host}`;
  }

  /** How many request targets' URIs are remembered (at most 64). */
  get rememberedTargets(): number {
    return this.#expected.size;
  }

  /** The normalized URI of a request to `requestTarget` (`req.url`), or undefined when it has none. */
  expected(requestTarget: string): string | undefined {
    if (this.#expected.has(requestTarget)) return this.#expected.get(requestTarget);
    const path = targetPath(requestTarget);
    const uri = path === undefined ? undefined : normalizeHtu(this.#origin + path);
    if (this.#expected.size >= REMEMBERED_TARGETS) this.#expected.clear();
    this.#expected.set(requestTarget, uri);
    return uri;
  }

  matches(htu: string, requestTarget: string): boolean {
    const expected = this.expected(requestTarget);
    return expected !== undefined && (htu === expected || normalizeHtu(htu) === expected);
  }
}

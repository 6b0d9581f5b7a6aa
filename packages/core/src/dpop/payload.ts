/**
 * A proof's claims read straight from its payload's bytes, for the compact JSON that DPoP
 * clients send (what `JSON.stringify` and jose write: no whitespace, no escapes in these
 * claims). Anything else goes to `JSON.parse` (proof.ts), so that JSON is still read by V8's
 * parser wherever this reader is not sure to read it the same way.
 *
 * Why not `JSON.parse` alone: in a running server the payload is read right after the
 * signature's arithmetic, its caches cold, and `JSON.parse` (a UTF-8 string, then an object
 * built through the maps of its members' names) was the largest part of a DPoP request beyond
 * the signature; reading the bytes in place cost 3 to 4 µs less per request
 * (docs/architecture.md, "Performance history").
 */

/** The claims of RFC 9449 section 4.2 that the check reads; undefined when absent. */
export interface CompactClaims {
  jti: string | undefined;
  htm: string | undefined;
  htu: string | undefined;
  ath: string | undefined;
  nonce: string | undefined;
  iat: number | undefined;
}

const OPEN = 0x7b; // {
const CLOSE = 0x7d; // }
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const ZERO = 0x30;
const NINE = 0x39;

/** Integers of more digits may not be exact as doubles, where JSON.parse rounds: left to it. */
const MAX_INTEGER_DIGITS = 15;

// The member names the check reads, three letters packed into one number; `nonce` apart.
const OTHER = 0;
const JTI = 0x6a7469;
const HTM = 0x68746d;
const HTU = 0x687475;
const ATH = 0x617468;
const IAT = 0x696174;
const NONCE = 1;

/** Which claim the member name in `bytes[from, to)` is (OTHER for one the check does not read). */
function claimNamed(bytes: Uint8Array, from: number, to: number): number {
  if (to - from === 3) {
    const packed = (bytes[from]! << 16) | (bytes[from + 1]! << 8) | bytes[from + 2]!;
    return packed === JTI || packed === HTM || packed === HTU || packed === ATH || packed === IAT ? packed : OTHER;
  }
  if (
    to - from === 5 &&
    bytes[from] === 0x6e &&
    bytes[from + 1] === 0x6f &&
    bytes[from + 2] === 0x6e &&
    bytes[from + 3] === 0x63 &&
    bytes[from + 4] === 0x65
  )
    return NONCE;
  return OTHER;
}

/**
 * Where the string starting at `from` (after its opening quote) ends: the index of its closing
 * quote, or -1 when it holds an escape, a control character or a byte past ASCII (a UTF-8
 * sequence), or does not end.
 */
function plainStringEnd(bytes: Uint8Array, from: number, length: number): number {
  for (let at = from; at < length; at++) {
    const byte = bytes[at]!;
    if (byte === QUOTE) return at;
    if (byte < 0x20 || byte === BACKSLASH || byte > 0x7f) return -1;
  }
  return -1;
}

/**
 * The claims of the JSON object in `bytes[0, length)`, or undefined when it is not in the
 * compact form this reader takes: then `JSON.parse` decides. Taken: an object whose members
 * are separated by single commas with no whitespace, whose names and string values hold ASCII
 * bytes from 0x20 to 0x7f and no escape, whose numbers are integers of 1 to 15 digits without
 * sign or leading zero, with `iat` a number and the other claims strings; other members are
 * skipped when they are such strings or numbers. Where it answers, `JSON.parse` gives the same
 * claims (dpop-payload.test.ts).
 */
export function readCompactClaims(bytes: Buffer, length: number): CompactClaims | undefined {
  if (bytes[0] !== OPEN || bytes[length - 1] !== CLOSE) return undefined;
  let jti: string | undefined;
  let htm: string | undefined;
  let htu: string | undefined;
  let ath: string | undefined;
  let nonce: string | undefined;
  let iat: number | undefined;
  // `{}`: no member (the closing brace is known to be the last byte).
  if (length === 2) return { jti, htm, htu, ath, nonce, iat };
  for (let at = 1; ; at++) {
    // `at` is where a member starts: after the opening brace, then after each comma.
    if (bytes[at] !== QUOTE) return undefined;
    const nameEnd = plainStringEnd(bytes, at + 1, length);
    if (nameEnd === -1 || bytes[nameEnd + 1] !== COLON) return undefined;
    const claim = claimNamed(bytes, at + 1, nameEnd);
    at = nameEnd + 2;
    const first = bytes[at]!;
    if (first === QUOTE) {
      const end = plainStringEnd(bytes, at + 1, length);
      if (end === -1) return undefined;
      if (claim !== OTHER) {
        // A string `iat` is refused by the check: left to JSON.parse, whose value it refuses.
        if (claim === IAT) return undefined;
        // ASCII: each byte is one character; a string of its own, never a slice of another.
        const value = bytes.toString("latin1", at + 1, end);
        // A claim named twice keeps its last value, as JSON.parse does.
        if (claim === JTI) jti = value;
        else if (claim === HTM) htm = value;
        else if (claim === HTU) htu = value;
        else if (claim === ATH) ath = value;
        else nonce = value;
      }
      at = end + 1;
    } else if (first > ZERO && first <= NINE) {
      let value = 0;
      const from = at;
      // The closing brace, the last byte, ends a number at the latest.
      while (bytes[at]! >= ZERO && bytes[at]! <= NINE) value = value * 10 + (bytes[at++]! - ZERO);
      if (at - from > MAX_INTEGER_DIGITS) return undefined;
      if (claim !== OTHER) {
        // A number for a string claim is refused by the check: left to JSON.parse, as above.
        if (claim !== IAT) return undefined;
        iat = value;
      }
    } else {
      return undefined;
    }
    // After a value: a comma and the next member, or the closing brace as the last byte.
    if (bytes[at] !== COMMA) return at === length - 1 ? { jti, htm, htu, ath, nonce, iat } : undefined;
  }
}

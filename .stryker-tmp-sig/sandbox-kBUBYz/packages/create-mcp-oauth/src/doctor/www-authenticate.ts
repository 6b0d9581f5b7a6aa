/**
 * A lenient `WWW-Authenticate` reader (RFC 7235 section 4.1) for diagnosis: unlike a
 * client's parser it keeps going past mistakes and records how each value was written,
 * so the doctor can say "resource_metadata is not quoted" instead of "unreadable".
 */
// @ts-nocheck


export interface AuthParam {
  value: string;
  /** Written as a quoted-string. A widely used client parser cannot read an unquoted URL. */
  quoted: boolean;
}

export interface Challenge {
  scheme: string;
  /** Parameters by lowercase name; the first occurrence wins. */
  params: Map<string, AuthParam>;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/;

/** Every challenge in the header value, in order. Never throws. */
export function parseWwwAuthenticate(header: string): Challenge[] {
  const challenges: Challenge[] = [];
  let rest = header;
  let current: Challenge | undefined;
  const skip = (pattern: RegExp): void => {
    rest = rest.replace(pattern, "");
  };
  while (rest.length > 0) {
    skip(/^[\s,]+/);
    if (rest.length === 0) break;
    const name = TOKEN.exec(rest)?.[0];
    if (name === undefined) {
      // Garbage: drop up to the next comma and carry on.
      const comma = rest.indexOf(",");
      rest = comma === -1 ? "" : rest.slice(comma + 1);
      continue;
    }
    const afterName = rest.slice(name.length);
    const equals = /^[ \t]*=(?!=)[ \t]*/.exec(afterName);
    if (equals === null || current === undefined) {
      // A scheme starts a new challenge (a param name always has `=` after it).
      if (equals !== null && current === undefined) {
        // `name=value` before any scheme: not a challenge at all; skip it.
        rest = afterName.slice(equals[0].length);
        readValue();
        continue;
      }
      current = { scheme: name, params: new Map() };
      challenges.push(current);
      rest = afterName;
      continue;
    }
    rest = afterName.slice(equals[0].length);
    const value = readValue();
    const key = name.toLowerCase();
    if (!current.params.has(key)) current.params.set(key, value);
  }
  return challenges;

  function readValue(): AuthParam {
    if (rest.startsWith('"')) {
      let value = "";
      let i = 1;
      for (; i < rest.length; i++) {
        const c = rest[i]!;
        if (c === "\\") {
          value += rest[++i] ?? "";
          continue;
        }
        if (c === '"') break;
        value += c;
      }
      rest = rest.slice(i + 1);
      return { value, quoted: true };
    }
    // Unquoted: RFC 7235 allows only a token here, but servers write URLs; read to the next
    // comma or space so the doctor can name the value it found.
    const match = /^[^,\s]*/.exec(rest)![0];
    rest = rest.slice(match.length);
    return { value: match, quoted: false };
  }
}

/** The first challenge with this scheme (case-insensitive). */
export function findChallenge(challenges: readonly Challenge[], scheme: string): Challenge | undefined {
  return challenges.find((c) => c.scheme.toLowerCase() === scheme.toLowerCase());
}

/**
 * A strict RFC 7235 section 2.1 parser for one challenge: `scheme 1*SP auth-param *( OWS "," OWS auth-param )`,
 * values as token or quoted-string. Throws on anything else, so tests notice a broken challenge.
 */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/;

export function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const scheme = TOKEN.exec(header)?.[0];
  if (!scheme) throw new Error(`no scheme in ${JSON.stringify(header)}`);
  let rest = header.slice(scheme.length);
  const params: Record<string, string> = {};
  if (rest === "") return { scheme, params };
  if (!rest.startsWith(" ")) throw new Error("scheme not followed by a space");
  rest = rest.replace(/^ +/, "");
  while (rest.length > 0) {
    const name = TOKEN.exec(rest)?.[0];
    if (!name) throw new Error(`bad auth-param name at ${JSON.stringify(rest)}`);
    const equals = /^[ \t]*=[ \t]*/.exec(rest.slice(name.length));
    if (!equals) throw new Error(`auth-param ${name} has no =`);
    rest = rest.slice(name.length + equals[0].length);
    let value: string;
    if (rest.startsWith('"')) {
      let i = 1;
      value = "";
      for (; i < rest.length; i++) {
        const c = rest[i]!;
        if (c === "\\") {
          value += rest[++i] ?? "";
          continue;
        }
        if (c === '"') break;
        if (c.charCodeAt(0) < 0x20 && c !== "\t") throw new Error("control character in quoted-string");
        value += c;
      }
      if (rest[i] !== '"') throw new Error("unterminated quoted-string");
      rest = rest.slice(i + 1);
    } else {
      const token = TOKEN.exec(rest)?.[0];
      if (!token) throw new Error(`bad value for ${name}`);
      value = token;
      rest = rest.slice(token.length);
    }
    if (Object.hasOwn(params, name.toLowerCase())) throw new Error(`duplicate ${name}`);
    params[name.toLowerCase()] = value;
    rest = rest.replace(/^[ \t]*/, "");
    if (rest.length === 0) break;
    if (!rest.startsWith(",")) throw new Error(`expected , at ${JSON.stringify(rest)}`);
    rest = rest.slice(1).replace(/^[ \t]*/, "");
  }
  return { scheme, params };
}

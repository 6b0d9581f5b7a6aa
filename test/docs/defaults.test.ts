/**
 * docs/configuration.md's default columns follow the one defaults table the code reads
 * (`DEFAULTS` in packages/core/src/options.ts): a default changed in one place and not the
 * other fails here.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "@jest/globals";
import { DEFAULTS } from "@mcp-oauth/core/internal";

const doc = readFileSync(new URL("../../docs/configuration.md", import.meta.url), "utf8");

/** `option` → the first backticked literal of its row's default column, per section. */
function documentedDefaults(): Map<string, string> {
  const found = new Map<string, string>();
  let prefix: string | undefined;
  for (const line of doc.split("\n")) {
    const heading = /^## (?:Resource server options|`(validation|introspection|cache|dpop)`)/.exec(line);
    if (heading) prefix = heading[1] === undefined ? "" : `${heading[1]}.`;
    else if (line.startsWith("## ")) prefix = undefined;
    if (prefix === undefined || !line.startsWith("| `")) continue;
    const cells = line.split(/(?<!\\)\|/).map((cell) => cell.trim());
    const option = /^`([\w.]+)`/.exec(cells[1] ?? "")?.[1];
    // Top-level and validation tables: option | type | default | ...; cache: option | default | ...
    const defaultCell = prefix === "cache." ? cells[2] : cells[3];
    const literal = /`([^`]+)`/.exec(defaultCell ?? "")?.[1];
    if (option !== undefined && literal !== undefined) found.set(prefix + option, literal);
  }
  return found;
}

function flatten(value: object, prefix = ""): [string, unknown][] {
  return Object.entries(value).flatMap(([key, v]) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? flatten(v as object, `${prefix}${key}.`)
      : [[`${prefix}${key}`, v] as [string, unknown]],
  );
}

describe("docs/configuration.md and DEFAULTS", () => {
  const documented = documentedDefaults();
  it.each(flatten(DEFAULTS))("%s: the documented default is the code's", (option, value) => {
    const literal = documented.get(option);
    if (literal === undefined)
      throw new Error(`docs/configuration.md has no default for ${option} (DEFAULTS says ${JSON.stringify(value)})`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(literal);
    } catch {
      parsed = literal;
    }
    expect(parsed).toEqual(value);
  });
});

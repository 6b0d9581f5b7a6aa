/**
 * The fenced code blocks of the documentation (README.md, docs/ and the packages' READMEs),
 * with the marker that excuses a block from its check. A marker is an HTML comment (invisible
 * on GitHub and the registry) on the last non-blank line before the fence, with its reason:
 *
 *   <!-- snippet: fragment (why) -->  a ts block that is not a module on its own: not type-checked
 *   <!-- snippet: no-run (why) -->    an sh block a test cannot run on loopback (the npm registry,
 *                                      the internet, a server that never exits, minutes of work):
 *                                      not run, but its commands are still checked (scripts, paths)
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

export const root = fileURLToPath(new URL("../..", import.meta.url));

export type Marker = "fragment" | "no-run";

export interface CodeBlock {
  /** The markdown file, relative to the repository root. */
  source: string;
  /** Line of the opening fence, 1-based. */
  line: number;
  /** The fence's info string (`ts`, `sh`, ...). */
  lang: string;
  /** The block's text, without the fence's indentation. */
  code: string;
  marker: { kind: Marker; reason: string } | undefined;
}

const MARKER = /^<!-- snippet: (fragment|no-run) \((.+)\) -->$/;

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return markdownFiles(path);
    return entry.name.endsWith(".md") ? [path] : [];
  });
}

/** The documentation this checks: the README, everything under docs/, each package's README. */
export function documentationFiles(): string[] {
  const packageReadmes = readdirSync(join(root, "packages"))
    .map((dir) => join(root, "packages", dir, "README.md"))
    .filter((file) => existsSync(file));
  return [join(root, "README.md"), ...markdownFiles(join(root, "docs")), ...packageReadmes];
}

/** The fenced blocks of one markdown text; throws on a marker it cannot read, so none is ignored by a typo. */
export function codeBlocks(text: string, source: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  // A fence may be indented (inside a list item); its closing fence has the same indentation.
  for (const match of text.matchAll(/^( *)```([\w-]*)[ \t]*\n([\s\S]*?)^\1```[ \t]*$/gm)) {
    const [, indent = "", lang = "", body = ""] = match;
    const before = text.slice(0, match.index).split("\n");
    const line = before.length;
    let previous = "";
    for (let i = before.length - 2; i >= 0 && previous === ""; i--) previous = before[i]!.trim();
    let marker: CodeBlock["marker"];
    if (previous.startsWith("<!-- snippet")) {
      const parsed = MARKER.exec(previous);
      if (parsed === null)
        throw new Error(
          `${source}:${line}: unreadable marker ${previous}; write <!-- snippet: fragment (why) --> or <!-- snippet: no-run (why) -->`,
        );
      marker = { kind: parsed[1] as Marker, reason: parsed[2]! };
    }
    const code = body
      .split("\n")
      .map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l))
      .join("\n");
    blocks.push({ source, line, lang, code, marker });
  }
  return blocks;
}

export function allCodeBlocks(): CodeBlock[] {
  return documentationFiles().flatMap((file) => codeBlocks(readFileSync(file, "utf8"), relative(root, file)));
}

// API reports: the public declarations of each package's entry point, written to
// `api/<package>.api.md` and compared by test/api-report.test.ts, so every change to what a
// package exports shows up in review. A light stand-in for api-extractor: the same
// TypeScript program as `tsc -p tsconfig.json`, declarations emitted in memory, and for each
// export of `src/index.ts` the emitted declaration (no bodies, no comments).
//
//   pnpm api:update   rewrites the reports after a deliberate change to a public API
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/**
 * Package directory → published name; each report covers `packages/<dir>/src/index.ts`. A
 * subpath export (`<dir>/<name>`, such as `fetch/hono`) covers `packages/<dir>/src/<name>.ts`,
 * in `api/<dir>-<name>.api.md`.
 */
export const API_PACKAGES: Readonly<Record<string, string>> = {
  core: "@mcp-oauth/core",
  express: "@mcp-oauth/express",
  fetch: "@mcp-oauth/fetch",
  "fetch/hono": "@mcp-oauth/fetch/hono",
  "fetch/next": "@mcp-oauth/fetch/next",
  "mcp-framework": "@mcp-oauth/mcp-framework",
  redis: "@mcp-oauth/redis",
  "local-authorization-server": "@mcp-oauth/local-authorization-server",
  "create-mcp-oauth": "create-mcp-oauth",
};

export function reportPath(dir: string): string {
  return path.join(ROOT, "api", `${dir.replace("/", "-")}.api.md`);
}

/** The entry point a report covers: `src/index.ts`, or `src/<name>.ts` for a subpath. */
function entryOf(key: string): { dir: string; file: string } {
  const [dir, subpath] = key.split("/") as [string, string | undefined];
  return { dir, file: path.join(ROOT, "packages", dir, "src", `${subpath ?? "index"}.ts`) };
}

function compilerOptions(): ts.CompilerOptions {
  const configPath = path.join(ROOT, "tsconfig.json");
  const config = ts.readConfigFile(configPath, ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT, undefined, configPath);
  return {
    ...parsed.options,
    noEmit: false,
    declaration: true,
    emitDeclarationOnly: true,
    declarationMap: false,
    sourceMap: false,
    outDir: path.join(ROOT, ".api-report-out"),
  };
}

function declaredNames(statement: ts.Statement): string[] {
  if (ts.isVariableStatement(statement)) {
    return statement.declarationList.declarations.flatMap((d) => (ts.isIdentifier(d.name) ? [d.name.text] : []));
  }
  const name = (statement as { name?: ts.Node }).name;
  return name && ts.isIdentifier(name) ? [name.text] : [];
}

function packageOf(fileName: string): string {
  const relative = path.relative(ROOT, fileName).split(path.sep);
  if (relative[0] === "packages" && relative[1] !== undefined) {
    const name = API_PACKAGES[relative[1]] ?? relative[1];
    return relative[3] === "internal.ts" ? `${name}/internal` : name;
  }
  const modules = relative.lastIndexOf("node_modules");
  const scoped = relative[modules + 1]?.startsWith("@");
  return relative.slice(modules + 1, modules + (scoped ? 3 : 2)).join("/");
}

/** Every package's report, from one program over the workspace. */
export function apiReports(): Map<string, string> {
  const entries = Object.keys(API_PACKAGES).map((key) => entryOf(key).file);
  const program = ts.createProgram(entries, compilerOptions());
  const emitted = new Map<string, ts.SourceFile>();
  program.emit(undefined, (fileName, text, _bom, _onError, sources) => {
    const source = sources?.[0];
    if (source && fileName.endsWith(".d.ts"))
      emitted.set(source.fileName, ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true));
  });
  const checker = program.getTypeChecker();
  const reports = new Map<string, string>();
  for (const [key, name] of Object.entries(API_PACKAGES)) {
    const { dir, file } = entryOf(key);
    const entry = program.getSourceFile(file);
    const moduleSymbol = entry && checker.getSymbolAtLocation(entry);
    if (!moduleSymbol) throw new Error(`api-report: no entry point for ${name}`);
    const ownDir = path.join(ROOT, "packages", dir, "src") + path.sep;
    const blocks: string[] = [];
    const exports = checker.getExportsOfModule(moduleSymbol).sort((a, b) => a.name.localeCompare(b.name));
    for (const exported of exports) {
      const target = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const typeOnly =
        exported.declarations?.some((d) => ts.isExportSpecifier(d) && (d.isTypeOnly || d.parent.parent.isTypeOnly)) ??
        false;
      const renamed = target.name !== exported.name ? ` as ${exported.name}` : "";
      const declarations = target.declarations ?? [];
      const source = declarations[0]?.getSourceFile();
      if (!source) continue;
      if (!source.fileName.startsWith(ownDir)) {
        blocks.push(
          `export ${typeOnly ? "type " : ""}{ ${target.name}${renamed} } from "${packageOf(source.fileName)}";`,
        );
        continue;
      }
      const dts = emitted.get(source.fileName);
      const statements = dts?.statements.filter((s) => declaredNames(s).includes(target.name)) ?? [];
      if (statements.length === 0)
        throw new Error(`api-report: no declaration of ${target.name} in ${source.fileName}`);
      // Only a class or a constant exported as a type needs saying so; an interface is a type anyway.
      const typeOnlyValue = typeOnly && (target.flags & ts.SymbolFlags.Value) !== 0;
      const header =
        typeOnlyValue || renamed ? `// export ${typeOnlyValue ? "type " : ""}{ ${target.name}${renamed} }\n` : "";
      blocks.push(header + statements.map((s) => s.getText()).join("\n"));
    }
    reports.set(
      key,
      [
        `# API report: ${name}`,
        "",
        `The public declarations of \`${path.relative(ROOT, file)}\`, generated by \`pnpm api:update\``,
        "(scripts/api-report.ts); test/api-report.test.ts fails when they differ. Do not edit by hand.",
        "",
        "```ts",
        blocks.join("\n\n"),
        "```",
        "",
      ].join("\n"),
    );
  }
  return reports;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  mkdirSync(path.join(ROOT, "api"), { recursive: true });
  for (const [dir, text] of apiReports()) {
    const file = reportPath(dir);
    let before = "";
    try {
      before = readFileSync(file, "utf8");
    } catch {
      // first run
    }
    if (before !== text) {
      writeFileSync(file, text);
      console.log(`updated ${path.relative(ROOT, file)}`);
    }
  }
}

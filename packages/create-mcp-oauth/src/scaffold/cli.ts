/** `create-mcp-oauth [directory] [options]`: flags for scripts, prompts in a terminal. */
import { createInterface, type Interface } from "node:readline/promises";
import { relative } from "node:path";
import { parseArgs } from "node:util";
import type { CliIo } from "../io.js";
import { formatSteps, nextSteps } from "./next-steps.js";
import { PROVIDERS, providerInfo, type ProviderId } from "./providers.js";
import { choosePackageSource } from "./package-source.js";
import {
  assertWritable,
  isEmptyDirectory,
  PACKAGE_SOURCES,
  scaffold,
  ScaffoldError,
  validateChoices,
  type PackageSource,
} from "./scaffold.js";
import { mcpOAuthPackages, TEMPLATES, VALIDATIONS, type Template, type Validation } from "./templates.js";
import { findWorkspace } from "./workspace.js";

export const CREATE_USAGE = `Usage: create-mcp-oauth [directory] [options]

Creates an MCP server that is an OAuth 2.1 resource server (mcp-oauth), with a whoami tool,
.env.example for your authorization server, a README with the next steps, and a test.
In a terminal, asks for what the options do not say.

Options:
  --template <name>     express (MCP SDK + Express) | mcp-framework      default: express
  --provider <name>     auth0 | okta | cognito | entra | keycloak | local default: local
  --validation <type>   jwt | introspection                             default: jwt
  --packages <source>   where the mcp-oauth packages come from: registry | workspace
                        (packed from this mcp-oauth clone into vendor/); default: the
                        registry, or the workspace when run from a clone and they are
                        not published yet. Also CREATE_MCP_OAUTH_PACKAGES.
  --force               write into a non-empty directory
  -y, --yes             no questions: defaults for whatever is not given
  -h, --help            this text
`;

interface Answers {
  directory?: string;
  template?: string;
  provider?: string;
  validation?: string;
}

async function choose<T extends string>(
  rl: Interface,
  io: CliIo,
  question: string,
  choices: readonly T[],
  describe: (c: T) => string,
  fallback: T,
  allowed: (c: T) => boolean = () => true,
): Promise<T> {
  const offered = choices.filter(allowed);
  const lines = offered.map((c, i) => `  ${i + 1}) ${describe(c)}${c === fallback ? " (default)" : ""}`);
  for (;;) {
    const answer = (await rl.question(`${question}\n${lines.join("\n")}\n> `)).trim();
    if (answer === "") return fallback;
    const byNumber = offered[Number(answer) - 1];
    if (/^\d+$/.test(answer) && byNumber !== undefined) return byNumber;
    const byName = offered.find((c) => c === answer.toLowerCase());
    if (byName !== undefined) return byName;
    io.stdout.write(`Please answer with a number from 1 to ${offered.length} or a name.\n`);
  }
}

export async function createMain(argv: readonly string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        template: { type: "string" },
        provider: { type: "string" },
        validation: { type: "string" },
        packages: { type: "string" },
        force: { type: "boolean", default: false },
        yes: { type: "boolean", short: "y", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    io.stderr.write(`create-mcp-oauth: ${(error as Error).message}\n\n${CREATE_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(CREATE_USAGE);
    return 0;
  }
  if (positionals.length > 1) {
    io.stderr.write(`create-mcp-oauth: one directory, please (got ${positionals.join(" ")})\n\n${CREATE_USAGE}`);
    return 2;
  }
  const given: Answers = {
    ...(positionals[0] !== undefined ? { directory: positionals[0] } : {}),
    ...(values.template !== undefined ? { template: values.template } : {}),
    ...(values.provider !== undefined ? { provider: values.provider } : {}),
    ...(values.validation !== undefined ? { validation: values.validation } : {}),
  };
  const packagesGiven = values.packages ?? (process.env["CREATE_MCP_OAUTH_PACKAGES"] || undefined);
  if (packagesGiven !== undefined && !(PACKAGE_SOURCES as readonly string[]).includes(packagesGiven)) {
    io.stderr.write(
      `create-mcp-oauth: unknown package source "${packagesGiven}" (one of ${PACKAGE_SOURCES.join(", ")})\n`,
    );
    return 2;
  }
  if (packagesGiven === "workspace" && findWorkspace() === undefined) {
    io.stderr.write(
      "create-mcp-oauth: --packages workspace packs the mcp-oauth packages from the repository, and this create-mcp-oauth does not run from one\n",
    );
    return 2;
  }
  const interactive = io.stdin.isTTY === true && !values.yes;
  let force = values.force;

  let directory: string;
  let template: Template;
  let provider: ProviderId;
  let validation: Validation;
  try {
    // Flags are checked before any question, so a typo does not cost a round of prompts.
    validateChoices({
      template: (given.template ?? "express") as Template,
      provider: (given.provider ?? "local") as ProviderId,
      validation: (given.validation ?? "jwt") as Validation,
    });
  } catch (error) {
    if (!(error instanceof ScaffoldError)) throw error;
    io.stderr.write(`create-mcp-oauth: ${error.message}\n`);
    return 2;
  }
  try {
    if (interactive) {
      const rl = createInterface({ input: io.stdin, output: io.stdout as NodeJS.WritableStream, terminal: false });
      try {
        directory =
          given.directory ??
          ((await rl.question("Directory for the new server (mcp-server): ")).trim() || "mcp-server");
        template =
          (given.template as Template | undefined) ??
          (await choose(
            rl,
            io,
            "Template:",
            TEMPLATES,
            (t) =>
              t === "express"
                ? "express        Express + MCP SDK (Streamable HTTP)"
                : "mcp-framework  mcp-framework (HTTP Stream)",
            "express",
          ));
        provider =
          (given.provider as ProviderId | undefined) ??
          (await choose(
            rl,
            io,
            "Authorization server:",
            PROVIDERS,
            (p) => `${p.padEnd(9)} ${providerInfo(p).title}`,
            "local",
          ));
        validation =
          (given.validation as Validation | undefined) ??
          (await choose(
            rl,
            io,
            "Token validation:",
            VALIDATIONS,
            (v) =>
              v === "jwt"
                ? "jwt            JWT access tokens, checked locally"
                : "introspection  ask the authorization server (RFC 7662)",
            "jwt",
            (v) => v === "jwt" || !("unsupported" in providerInfo(provider).introspection),
          ));
        if (!force && !(await isEmptyDirectory(directory))) {
          const answer = (
            await rl.question(
              `${directory} is not empty. Write into it anyway (generated files are overwritten)? (y/N) `,
            )
          )
            .trim()
            .toLowerCase();
          if (answer !== "y" && answer !== "yes") {
            io.stderr.write("create-mcp-oauth: nothing written\n");
            return 1;
          }
          force = true;
        }
      } finally {
        rl.close();
      }
    } else {
      if (given.directory === undefined) {
        io.stderr.write(
          `create-mcp-oauth: give the directory to create (create-mcp-oauth my-server)\n\n${CREATE_USAGE}`,
        );
        return 2;
      }
      directory = given.directory;
      template = (given.template ?? "express") as Template;
      provider = (given.provider ?? "local") as ProviderId;
      validation = (given.validation ?? "jwt") as Validation;
    }

    // Before the registry is asked and anything packed.
    await assertWritable(directory, force);
    let packages = packagesGiven as PackageSource | undefined;
    if (packages === undefined) {
      const chosen = await choosePackageSource(mcpOAuthPackages({ template, provider }), {
        inWorkspace: findWorkspace() !== undefined,
      });
      if (chosen.message !== undefined) io.stdout.write(`${chosen.message}\n`);
      packages = chosen.source;
    }
    if (packages === "workspace")
      io.stdout.write(
        "Packing the mcp-oauth packages from this clone into vendor/ (pnpm pack, builds included; about a minute)...\n",
      );
    const result = await scaffold({ directory, template, provider, validation, force, packages });
    const shown = relative(process.cwd(), result.directory) || ".";
    const title = providerInfo(provider).title;
    const steps = nextSteps(provider);
    io.stdout.write(
      [
        `Created ${result.name} in ${result.directory} (${template}, ${title}, ${validation}):`,
        ...result.files.map((f) => `  ${f}`),
        "",
        "Next steps:",
        `  cd ${shown.includes(" ") ? JSON.stringify(shown) : shown}`,
        ...formatSteps(steps.now, "  "),
        "",
        ...(steps.afterSetUp.length > 0
          ? [
              `Once ${title} is set up (README.md, section "${title}"):`,
              ...formatSteps(steps.afterSetUp, "  "),
              "",
              `No ${title} at hand? With --provider local the project runs on this machine as it is.`,
              "",
            ]
          : []),
      ].join("\n"),
    );
    return 0;
  } catch (error) {
    if (error instanceof ScaffoldError) {
      io.stderr.write(`create-mcp-oauth: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

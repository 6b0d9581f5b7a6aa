/**
 * The generated README's values work with the project's own scripts: `npm run doctor` checks the
 * URL the server is configured with (.env and the environment, as src/index.ts reads them), and
 * the README sets no OAUTH_RESOURCE for local development (a public URL there would make the
 * doctor check a server that is not running); its next steps are those the command prints.
 */
import { describe, expect, it } from "@jest/globals";
import { formatSteps, nextSteps } from "../src/scaffold/next-steps.js";
import { generateFiles, TEMPLATES, type Template } from "../src/scaffold/templates.js";
import { PROVIDERS } from "../src/scaffold/providers.js";

const cases = TEMPLATES.flatMap((template: Template) => PROVIDERS.map((provider) => ({ template, provider })));

describe("generated README", () => {
  it.each(cases)(
    "$template / $provider: npm run doctor checks the configured server; no OAUTH_RESOURCE set for development",
    ({ template, provider }) => {
      const files = generateFiles({ name: "my-server", template, provider, validation: "jwt" });
      const scripts = (JSON.parse(files["package.json"]!) as { scripts: Record<string, string> }).scripts;
      expect(scripts["doctor"]).toBe("mcp-oauth doctor --dotenv .env");
      const readme = files["README.md"]!;
      expect({ provider, set: [...readme.matchAll(/^OAUTH_RESOURCE=(\S+)/gm)].map((m) => m[1]) }).toEqual({
        provider,
        set: [],
      });
      // The reader is still told where the public URL goes.
      expect(readme).toMatch(/^# OAUTH_RESOURCE=https:\/\/mcp\.example\.com\/mcp/m);
      const steps = nextSteps(provider);
      for (const line of [...formatSteps(steps.now), ...formatSteps(steps.afterSetUp)]) expect(readme).toContain(line);
      for (const step of [...steps.now, ...steps.afterSetUp]) {
        const script = /^npm run (?:-s )?([\w-]+)/.exec(step.command)?.[1];
        if (script !== undefined)
          expect({ provider, script, defined: script in scripts }).toEqual({ provider, script, defined: true });
      }
    },
  );
});

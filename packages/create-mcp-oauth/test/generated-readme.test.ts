/**
 * The generated README's values work with the project's own scripts: whatever it tells the
 * reader to put in `.env` as OAUTH_RESOURCE is the URL `npm run doctor` checks (a different
 * resource makes the doctor fail on the metadata's `resource`).
 */
import { describe, expect, it } from "@jest/globals";
import { generateFiles, TEMPLATES, type Template } from "../src/scaffold/templates.js";
import { PROVIDERS } from "../src/scaffold/providers.js";

const cases = TEMPLATES.flatMap((template: Template) => PROVIDERS.map((provider) => ({ template, provider })));

describe("generated README", () => {
  it.each(cases)(
    "$template / $provider: an OAUTH_RESOURCE it sets is the URL npm run doctor checks",
    ({ template, provider }) => {
      const files = generateFiles({ name: "my-server", template, provider, validation: "jwt" });
      const doctor = (JSON.parse(files["package.json"]!) as { scripts: Record<string, string> }).scripts["doctor"]!;
      const checked = /--resource (\S+)/.exec(doctor)?.[1];
      const set = [...files["README.md"]!.matchAll(/^OAUTH_RESOURCE=(\S+)/gm)].map((m) => m[1]);
      expect({ provider, set: set.filter((value) => value !== checked) }).toEqual({ provider, set: [] });
      // The reader is still told where the public URL goes.
      expect(files["README.md"]).toMatch(/OAUTH_RESOURCE=https:\/\/mcp\.example\.com\/mcp/);
    },
  );
});

/**
 * What the conformance suite's server scenarios ask a server to return, word for word from
 * their descriptions (`@modelcontextprotocol/conformance`, src/scenarios/server/*.ts), shared
 * by the Express and the mcp-framework test servers so both answer the same.
 */

/** A 1x1 red PNG ("use a minimal test image", tools-call-image). */
export const RED_PIXEL_PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";

/** A WAV file of 8 silent 8-bit mono samples at 8 kHz ("use a minimal test audio file", tools-call-audio). */
export const SILENT_WAV = ((): string => {
  const samples = Buffer.alloc(8, 0x80);
  const header = Buffer.alloc(44);
  header.write("RIFF", 0, "ascii");
  header.writeUInt32LE(36 + samples.length, 4);
  header.write("WAVE", 8, "ascii");
  header.write("fmt ", 12, "ascii");
  header.writeUInt32LE(16, 16); // fmt chunk size
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(8000, 24); // sample rate
  header.writeUInt32LE(8000, 28); // byte rate
  header.writeUInt16LE(1, 32); // block align
  header.writeUInt16LE(8, 34); // bits per sample
  header.write("data", 36, "ascii");
  header.writeUInt32LE(samples.length, 40);
  return Buffer.concat([header, samples]).toString("base64");
})();

export const TEXTS = {
  simpleText: "This is a simple text response for testing.",
  errorTool: "This tool intentionally returns an error for testing",
  embeddedResource: "This is an embedded resource content.",
  mixedIntro: "Multiple content types test:",
  mixedResource: JSON.stringify({ test: "data", value: 123 }),
  staticText: "This is the content of the static text resource.",
  simplePrompt: "This is a simple prompt for testing.",
  promptResource: "Embedded resource content for testing.",
  promptResourceAfter: "Please process the embedded resource above.",
  promptImageAfter: "Please analyze the image above.",
  logLines: ["Tool execution started", "Tool processing data", "Tool execution completed"],
} as const;

export const URIS = {
  embedded: "test://embedded-resource",
  mixed: "test://mixed-content-resource",
  staticText: "test://static-text",
  staticBinary: "test://static-binary",
  template: "test://template/{id}/data",
  watched: "test://watched-resource",
} as const;

/** resources-templates-read: `test://template/123/data` gives this text for id 123. */
export const templateText = (id: string): string =>
  JSON.stringify({ id, templateTest: true, data: `Data for ID: ${id}` });

/** prompts-get-with-args: the text for `{ arg1, arg2 }`. */
export const promptWithArgumentsText = (arg1: string, arg2: string): string =>
  `Prompt with arguments: arg1='${arg1}', arg2='${arg2}'`;

/** completion-complete asks for `arg1` starting with "par"; any ranked list is conformant. */
export const COMPLETIONS = ["paris", "park", "party"] as const;
export const completionsFor = (value: string): string[] => COMPLETIONS.filter((word) => word.startsWith(value));

/** tools-call-elicitation: the form the tool asks the client to fill in. */
export const ELICITATION_SCHEMA = {
  type: "object",
  properties: {
    username: { type: "string", description: "User's response" },
    email: { type: "string", description: "User's email address" },
  },
  required: ["username", "email"],
} as const;

/** elicitation-sep1034-defaults: a default value for every primitive type. */
export const DEFAULTS_SCHEMA = {
  type: "object",
  properties: {
    name: { type: "string", default: "John Doe" },
    age: { type: "integer", default: 30 },
    score: { type: "number", default: 95.5 },
    status: { type: "string", enum: ["active", "inactive", "pending"], default: "active" },
    verified: { type: "boolean", default: true },
  },
} as const;

/** elicitation-sep1330-enums: the five enum shapes of SEP-1330. */
export const ENUMS_SCHEMA = {
  type: "object",
  properties: {
    untitledSingle: { type: "string", enum: ["option1", "option2", "option3"] },
    titledSingle: {
      type: "string",
      oneOf: [
        { const: "value1", title: "First Option" },
        { const: "value2", title: "Second Option" },
        { const: "value3", title: "Third Option" },
      ],
    },
    legacyEnum: {
      type: "string",
      enum: ["opt1", "opt2", "opt3"],
      enumNames: ["Option One", "Option Two", "Option Three"],
    },
    untitledMulti: { type: "array", items: { type: "string", enum: ["option1", "option2", "option3"] } },
    titledMulti: {
      type: "array",
      items: {
        anyOf: [
          { const: "value1", title: "First Choice" },
          { const: "value2", title: "Second Choice" },
          { const: "value3", title: "Third Choice" },
        ],
      },
    },
  },
} as const;

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The protected servers' per-tool scopes (on top of `OAUTH_SCOPES`): the tools that call back
 * into the client need `mcp:write`, so the suite's calls cross the body-reading scope check too.
 */
export const TOOL_SCOPES: Record<string, string[]> = Object.fromEntries(
  ["test_sampling", "test_elicitation", "test_elicitation_sep1034_defaults", "test_elicitation_sep1330_enums"].map(
    (tool) => [tool, ["mcp:write"]],
  ),
);

/** A test server listening on loopback. */
export interface RunningConformanceServer {
  /** Its MCP endpoint. */
  url: string;
  close(): Promise<void>;
}

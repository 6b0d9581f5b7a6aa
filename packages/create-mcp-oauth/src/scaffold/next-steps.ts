/**
 * What to do after scaffolding, printed by the command and written into the project's README
 * from this one list. Every step under "now" works as written on this machine
 * (test/next-steps.e2e.test.ts runs them); a hosted provider's remaining steps wait for its setup.
 */
import { providerInfo, type ProviderId } from "./providers.js";

export interface Step {
  /** A shell command, run in the project directory. */
  command: string;
  /** Said after the command as a shell comment. */
  note?: string;
  /** Keeps running (a server): it gets a terminal of its own. */
  ownTerminal?: boolean;
}

export interface NextSteps {
  /** Steps that work right away. */
  now: Step[];
  /** Steps that need the authorization server set up first (hosted providers). */
  afterSetUp: Step[];
}

export function nextSteps(provider: ProviderId): NextSteps {
  const install: Step[] = [
    { command: "npm install" },
    { command: "npm test", note: "the server's own test: metadata, 401 challenge, refusal" },
  ];
  if (provider === "local") {
    return {
      now: [
        ...install,
        { command: "cp .env.example .env", note: "ready as it is for the local authorization server" },
        {
          command: "npm run auth-server",
          note: "the local authorization server, http://127.0.0.1:9000",
          ownTerminal: true,
        },
        { command: "npm run dev", note: "the MCP server, http://127.0.0.1:3000/mcp", ownTerminal: true },
        {
          command: "npm run -s token | npm run doctor -- --token -",
          note: "checks it all as an MCP client would, with a real token",
        },
      ],
      afterSetUp: [],
    };
  }
  return {
    now: install,
    afterSetUp: [
      { command: "cp .env.example .env", note: `then fill in the values for ${providerInfo(provider).title}` },
      { command: "npm run dev", note: "the MCP server, http://127.0.0.1:3000/mcp" },
      { command: "npm run doctor", note: "checks the running setup as an MCP client would" },
    ],
  };
}

const ORDINALS = ["second", "third", "fourth"];

/** The steps as shell lines, comments aligned; servers say which terminal they go in. */
export function formatSteps(steps: readonly Step[], indent = ""): string[] {
  let terminal = 0;
  const notes = steps.map((s) => {
    if (!s.ownTerminal) return s.note;
    const where = `in a ${ORDINALS[terminal++] ?? "new"} terminal, in this directory`;
    return s.note === undefined ? where : `${where}: ${s.note}`;
  });
  const width = Math.max(...steps.filter((_, i) => notes[i] !== undefined).map((s) => s.command.length), 0);
  return steps.map((s, i) => {
    const note = notes[i];
    return note === undefined ? `${indent}${s.command}` : `${indent}${s.command.padEnd(width)}  # ${note}`;
  });
}

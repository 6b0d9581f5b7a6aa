#!/usr/bin/env node
import { processIo } from "../io.js";
import { createMain } from "../scaffold/cli.js";

// pnpm and npm run a script in its package's directory (`pnpm scaffold` at the workspace root)
// and say in INIT_CWD where it was typed: a relative directory, and the `cd` of the next
// steps, are relative to that.
const typedIn = process.env["INIT_CWD"];
if (typedIn !== undefined && typedIn !== "") {
  try {
    process.chdir(typedIn);
  } catch {
    // Gone or not a directory: stay where the script runs.
  }
}

process.exitCode = await createMain(process.argv.slice(2), processIo);

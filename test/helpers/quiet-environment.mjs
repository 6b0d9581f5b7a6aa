/**
 * Jest's node environment, quiet when tests pass: what a test file prints (console, and
 * `process.stdout` / `process.stderr` writes such as mcp-framework's logger, which writes to
 * stderr with no way to turn it off) is kept per test and printed only for a test or hook that
 * failed, under its name. Passing runs show jest's summary, not pages of framework logs.
 *
 * Plain JavaScript (.mjs): jest loads environments with Node's own loader, before any transform.
 */
import { Buffer } from "node:buffer";
import { format } from "node:util";
import { TestEnvironment } from "jest-environment-node";

/** Per buffer; a runaway test keeps its last output. */
const LIMIT_CHARS = 1 << 20;
const CONSOLE_METHODS = [
  "log",
  "info",
  "warn",
  "error",
  "debug",
  "trace",
  "dir",
  "dirxml",
  "table",
  "group",
  "groupCollapsed",
];

function testName(test) {
  const names = [];
  for (let block = test; block && block.name !== "ROOT_DESCRIBE_BLOCK"; block = block.parent) names.unshift(block.name);
  return names.join(" › ");
}

export default class QuietEnvironment extends TestEnvironment {
  /** Output outside any test: module loading, beforeAll/afterAll. */
  fileOutput = [];
  /** Output of the running test (from its beforeEach hooks to its afterEach hooks). */
  testOutput = undefined;

  constructor(config, context) {
    super(config, context);
    this.testPath = context.testPath;
    const record = (text) => {
      const target = this.testOutput ?? this.fileOutput;
      target.push(text);
      target.chars = (target.chars ?? 0) + text.length;
      while (target.chars > LIMIT_CHARS && target.length > 1) target.chars -= target.shift().length;
    };
    // The console jest hands this environment becomes the test file's global console.
    for (const method of CONSOLE_METHODS) {
      if (typeof context.console[method] !== "function") continue;
      context.console[method] = (...args) => record(`console.${method}: ${format(...args)}\n`);
    }
    // The test file's `process` is a copy of the worker's: give it streams whose writes are
    // recorded. Jest's own reporting uses the worker's real streams and is not affected.
    for (const name of ["stdout", "stderr"]) {
      const real = process[name];
      const quiet = Object.create(real);
      quiet.write = (chunk, encoding, callback) => {
        record(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
        const done = typeof encoding === "function" ? encoding : callback;
        if (typeof done === "function") process.nextTick(done);
        return true;
      };
      Object.defineProperty(this.global.process, name, { configurable: true, enumerable: true, get: () => quiet });
    }
  }

  /** Prints what was recorded for a failure, once. */
  flush(what, parts) {
    const text = parts.join("");
    this.fileOutput = [];
    if (text.trim() === "") return;
    process.stderr.write(
      `\n── output of ${what} (${this.testPath}) ──\n${text}${text.endsWith("\n") ? "" : "\n"}── end of output ──\n`,
    );
  }

  handleTestEvent(event) {
    switch (event.name) {
      case "test_start":
        this.testOutput = [];
        break;
      case "test_done":
        if (event.test.errors.length > 0)
          this.flush(`failed test "${testName(event.test)}"`, [...this.fileOutput, ...this.testOutput]);
        this.testOutput = undefined;
        break;
      case "hook_failure":
        // A beforeEach/afterEach failure is the test's (its test_done follows); beforeAll/afterAll are the file's.
        if (event.hook.type === "beforeAll" || event.hook.type === "afterAll")
          this.flush(`failed ${event.hook.type} hook`, this.fileOutput);
        break;
      default:
        break;
    }
  }
}

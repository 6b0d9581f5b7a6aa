/** Starts the mcp-framework example from the environment (see server.ts). */
// @ts-nocheck

import { McpOAuthConfigError } from "@mcp-oauth/core";
import { createFrameworkExample } from "./server.js";

try {
  const example = createFrameworkExample(process.env);
  console.error(`MCP server (mcp-framework, ${example.transport}) at ${example.url}`);
  await example.server.start();
} catch (error) {
  if (error instanceof McpOAuthConfigError) {
    console.error(error.message);
    process.exit(2);
  }
  throw error;
}

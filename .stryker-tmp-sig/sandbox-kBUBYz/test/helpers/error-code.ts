// @ts-nocheck
import { McpOAuthError, type McpOAuthErrorCode } from "@mcp-oauth/core";

/** The `McpOAuthError` code a promise rejects with, or "ok"; any other error fails the test. */
export async function codeOf(promise: Promise<unknown>): Promise<McpOAuthErrorCode | "ok"> {
  try {
    await promise;
    return "ok";
  } catch (error) {
    if (error instanceof McpOAuthError) return error.code;
    throw error;
  }
}

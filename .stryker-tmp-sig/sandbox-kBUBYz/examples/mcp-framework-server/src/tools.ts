/** The example's tools: they read the caller from mcp-framework's request context. */
// @ts-nocheck

import { getRequestContext, MCPTool } from "mcp-framework";
import { z } from "zod";
import type { OAuthRequestContext } from "@mcp-oauth/mcp-framework";

const caller = (): Partial<OAuthRequestContext> => (getRequestContext() ?? {}) as Partial<OAuthRequestContext>;

export class WhoamiTool extends MCPTool {
  name = "whoami";
  description = "Who is calling: subject, client id and scopes.";
  schema = z.object({});

  async execute(): Promise<{ sub: string | undefined; clientId: string | undefined; scopes: string[] }> {
    const { sub, clientId, scopes } = caller();
    return { sub, clientId, scopes: scopes ?? [] };
  }
}

const notes = new Map<string, string[]>();

export class WriteNoteTool extends MCPTool {
  name = "write_note";
  description = "Saves a note for the caller. Needs the mcp:write scope.";
  schema = z.object({ text: z.string().describe("The note") });

  async execute(input: { text: string }): Promise<string> {
    const { sub = "" } = caller();
    const list = notes.get(sub) ?? [];
    list.push(input.text);
    notes.set(sub, list);
    return `saved note ${list.length} for ${sub}`;
  }
}

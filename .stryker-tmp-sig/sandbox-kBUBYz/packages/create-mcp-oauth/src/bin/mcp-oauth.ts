#!/usr/bin/env node
// @ts-nocheck
import { mcpOAuthMain } from "../doctor/cli.js";
import { processIo } from "../io.js";

process.exitCode = await mcpOAuthMain(process.argv.slice(2), processIo);

#!/usr/bin/env node
// @ts-nocheck
import { processIo } from "../io.js";
import { createMain } from "../scaffold/cli.js";

process.exitCode = await createMain(process.argv.slice(2), processIo);

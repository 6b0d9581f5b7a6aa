/**
 * Small helpers for the Express package's tests: a raw `node:http` client (for what
 * supertest cannot send, such as a repeated `Authorization` header), a listening helper
 * that always closes its connections, and challenge/list parsing.
 */
import { expect } from "@jest/globals";
import { request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { parseChallenge } from "../../../test/helpers/challenge-parser.js";

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * One request over a fresh connection (no keep-alive, so no socket outlives the test). A
 * header given as an array is sent as that many header lines.
 */
export function rawRequest(url: string, options: { method?: string; headers?: Record<string, string | string[]>; body?: string } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    // Node's type narrows `authorization` to one string; on the wire an array is several lines.
    const headers = (options.headers ?? {}) as OutgoingHttpHeaders;
    const req = httpRequest(url, { method: options.method ?? "GET", headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(options.body);
  });
}

export interface Listening {
  url: string;
  close(): Promise<void>;
}

/** Starts `server` on an ephemeral loopback port. */
export async function listen(server: Server): Promise<Listening> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

/** The `WWW-Authenticate` header, parsed strictly; fails the test when absent or not a Bearer challenge. */
export function bearerChallenge(header: string | string[] | undefined): Record<string, string> {
  expect(typeof header).toBe("string");
  const { scheme, params } = parseChallenge(header as string);
  expect(scheme).toBe("Bearer");
  return params;
}

/** A comma-separated header value as a lowercase list. */
export function headerList(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value.join(",") : value).split(",").map((v) => v.trim().toLowerCase()).filter((v) => v !== "");
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/**
 * A loopback reverse proxy that adds `Authorization: Bearer <token>` to every request and
 * passes everything else through unchanged, both ways: the conformance suite sends no token,
 * so this is how it reaches a protected server. `Host` and `Origin` pass as the client sent
 * them (the suite's DNS rebinding scenario sets both), bodies and answers are streamed (SSE
 * answers arrive event by event, as they would without the proxy), and a client that goes
 * away ends its upstream request.
 */
import { Agent, createServer, request, type IncomingHttpHeaders, type OutgoingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

/** RFC 9110 section 7.6.1: connection-specific fields are not forwarded. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

function endToEnd(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name)));
}

export interface TokenProxy {
  /** The proxy's origin, `http://127.0.0.1:PORT`: clients use it in place of the server's. */
  origin: string;
  /** From now on, forwards to `upstreamOrigin` with `token`; until then every request gets 503. */
  forwardTo(upstreamOrigin: string, token: string): void;
  close(): Promise<void>;
}

export async function startTokenProxy(): Promise<TokenProxy> {
  let upstream: { origin: URL; authorization: string } | undefined;
  const agent = new Agent({ keepAlive: true });
  const server = createServer((req, res) => {
    if (upstream === undefined) {
      res.writeHead(503).end();
      return;
    }
    const outgoing = request(
      {
        agent,
        host: upstream.origin.hostname,
        port: upstream.origin.port,
        method: req.method,
        path: req.url,
        headers: { ...endToEnd(req.headers), authorization: upstream.authorization },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.statusMessage, endToEnd(answer.headers));
        // Send the head at once: an SSE answer may hold its first event back.
        res.flushHeaders();
        answer.pipe(res);
      },
    );
    outgoing.on("error", () => {
      if (res.headersSent) res.destroy();
      else res.writeHead(502).end();
    });
    // A client that goes away (the suite closes SSE streams it is done with) ends the upstream request too.
    res.on("close", () => {
      if (!res.writableFinished) outgoing.destroy();
    });
    req.pipe(outgoing);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    forwardTo: (upstreamOrigin, token) => {
      upstream = { origin: new URL(upstreamOrigin), authorization: `Bearer ${token}` };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}

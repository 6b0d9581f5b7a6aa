import type { Server } from "node:http";
import { createServer as createNetServer, type AddressInfo } from "node:net";

export interface Listening {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Starts `server` on a loopback port (ephemeral by default); `close()` also ends kept-alive connections. */
export async function listen(server: Server, requestedPort = 0): Promise<Listening> {
  await new Promise<void>((resolve) => server.listen(requestedPort, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A port nobody listens on right now (listen on 0, read the number, close): for servers that need their port before they start. */
export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A real `redis-server` (the Debian package; `.ci/run` installs it) on a free loopback
 * port, without persistence, for the tests of the shared cache. `kill()` ends it the hard
 * way (SIGKILL) and `start()` brings it back on the same port, empty.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { connect } from "node:net";
import { freePort } from "./listen.js";

export interface TestRedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:PORT`. */
  readonly url: string;
  /** The running redis-server's process id (undefined while stopped). */
  readonly pid: number | undefined;
  /** Starts it again (after `kill`), on the same port. */
  start(): Promise<void>;
  /** SIGKILL: no goodbye to its clients, as a crash. */
  kill(): Promise<void>;
  /** Stops it for good. */
  stop(): Promise<void>;
}

/** Sends one inline command and reads the first reply line (`+PONG`), or rejects. */
function ask(port: number, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let reply = "";
    socket.setTimeout(1000, () => socket.destroy(new Error("no reply")));
    socket.once("connect", () => socket.write(`${command}\r\n`));
    socket.on("data", (chunk) => {
      reply += chunk.toString();
      if (reply.includes("\r\n")) {
        socket.end();
        resolve(reply.split("\r\n")[0]!);
      }
    });
    socket.once("error", reject);
  });
}

export async function startTestRedisServer(): Promise<TestRedisServer> {
  if (spawnSync("redis-server", ["--version"]).error !== undefined) {
    throw new Error("redis-server not found: install it (Debian: apt-get install -y redis-server); .ci/run does");
  }
  const port = await freePort();
  let child: ChildProcess | undefined;
  let log = "";

  const start = async (): Promise<void> => {
    log = "";
    const started = spawn(
      "redis-server",
      [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
        "--loglevel",
        "warning",
        "--dir",
        "/tmp",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    child = started;
    started.stdout!.on("data", (chunk: Buffer) => {
      log += chunk.toString();
    });
    started.stderr!.on("data", (chunk: Buffer) => {
      log += chunk.toString();
    });
    for (let attempt = 0; attempt < 200; attempt++) {
      if (started.exitCode !== null) throw new Error(`redis-server exited (${started.exitCode}): ${log}`);
      if (
        await ask(port, "PING").then(
          (r) => r === "+PONG",
          () => false,
        )
      )
        return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    started.kill("SIGKILL");
    throw new Error(`redis-server did not answer on port ${port}: ${log}`);
  };

  const end = async (signal: NodeJS.Signals): Promise<void> => {
    const running = child;
    child = undefined;
    if (running === undefined || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once("exit", () => resolve()));
    running.kill(signal);
    await exited;
  };

  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return child?.pid;
    },
    start,
    kill: () => end("SIGKILL"),
    stop: () => end("SIGTERM"),
  };
}

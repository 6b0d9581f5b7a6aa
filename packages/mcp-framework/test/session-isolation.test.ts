/**
 * Sessions of mcp-framework's HTTP Stream transport stay apart behind the bridge. The
 * framework connects every session to one MCP SDK server and offers each outgoing message to
 * every session; a session with a pending request of the same JSON-RPC id took the answer.
 * Here two honest users (alice, bob) use the same ids in their own sessions, on the real
 * transport in both response modes, with raw HTTP (exact ids) and the real SDK v1 client:
 * answers, progress, sampling requests and their answers, cancellations and tasks never
 * cross from one session to the other.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { request as httpRequest, type ClientRequest } from "node:http";
import { getRequestContext, MCPServer, MCPTool } from "mcp-framework";
import { z } from "zod";
import {
  CallToolResultSchema,
  CreateTaskResultSchema,
  GetTaskResultSchema,
  ListTasksResultSchema,
} from "@modelcontextprotocol/sdk/types.js";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import {
  startTestAuthorizationServer,
  type TestAuthorizationServer,
} from "../../../test/helpers/authorization-server.js";
import { OAuthAuthProvider, type OAuthRequestContext } from "../src/index.js";
import {
  connectSse,
  connectStreamableHttp,
  freePort,
  postJson,
  startFramework,
  type RawResponse,
  type Started,
} from "./support.js";

const caller = (): string => String((getRequestContext() as Partial<OAuthRequestContext> | undefined)?.sub);

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
}
function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Per subject: the test learns when that subject's call entered the tool, and decides when it returns. */
class Gates {
  readonly #gates = new Map<string, { entered: Deferred; released: Deferred }>();
  private gate(sub: string): { entered: Deferred; released: Deferred } {
    let gate = this.#gates.get(sub);
    if (gate === undefined) this.#gates.set(sub, (gate = { entered: deferred(), released: deferred() }));
    return gate;
  }
  hold(sub: string): void {
    this.gate(sub);
  }
  entered(sub: string): Promise<void> {
    return this.gate(sub).entered.promise;
  }
  release(sub: string): void {
    this.gate(sub).released.resolve();
    this.#gates.delete(sub);
  }
  /** In the tool: waits while the test holds this subject. */
  async pass(sub: string): Promise<void> {
    const gate = this.#gates.get(sub);
    if (gate === undefined) return;
    gate.entered.resolve();
    await gate.released.promise;
  }
}
const gates = new Gates();

class HeldWhoamiTool extends MCPTool {
  name = "held_whoami";
  description = "Returns the caller's subject, once the test lets it.";
  schema = z.object({});
  async execute(): Promise<{ sub: string }> {
    const sub = caller();
    await gates.pass(sub);
    return { sub };
  }
}

class ProgressTool extends MCPTool {
  name = "report";
  description = "Reports one progress step naming the caller.";
  schema = z.object({});
  async execute(): Promise<{ sub: string }> {
    const sub = caller();
    await gates.pass(sub);
    await this.reportProgress(1, 1, `progress of ${sub}`);
    // The SDK client drops progress that arrives together with its response: a test can hold the call here.
    await gates.pass(`${sub}:after`);
    return { sub };
  }
}

class AskTool extends MCPTool {
  name = "ask";
  description = "Asks the caller's client a sampling question and returns its answer.";
  schema = z.object({});
  async execute(): Promise<{ sub: string; answer: string }> {
    const sub = caller();
    const result = await this.samplingRequest({
      messages: [{ role: "user", content: { type: "text", text: `question of ${sub}` } }],
      maxTokens: 5,
    });
    return { sub, answer: (result.content as { text?: string }).text ?? "" };
  }
}

class TaskTool extends MCPTool {
  name = "task_whoami";
  description = "Returns the caller's subject, as a task when asked.";
  schema = z.object({});
  override execution = { taskSupport: "optional" as const };
  async execute(): Promise<{ sub: string }> {
    return { sub: caller() };
  }
}

type Message = Record<string, unknown> & { id?: unknown; method?: string; result?: unknown; error?: unknown };

/** The JSON-RPC messages of an answer: a JSON body (batch) or the `data:` lines of an event stream. */
function messagesOf(res: RawResponse): Message[] {
  if (res.body === "") return [];
  if (/^text\/event-stream/.test(String(res.headers["content-type"]))) return eventMessages(res.body);
  const parsed = JSON.parse(res.body) as Message | Message[];
  return Array.isArray(parsed) ? parsed : [parsed];
}

function eventMessages(text: string): Message[] {
  return text
    .split(/\r?\n/)
    .filter((line) => line.startsWith("data: ") && line.length > "data: ".length)
    .map((line) => JSON.parse(line.slice("data: ".length)) as Message);
}

/** The `text` of a tools/call answer's first content item, parsed. */
function toolOutput(message: Message | undefined): Record<string, unknown> {
  const result = message?.result as { content?: Array<{ text?: string }> } | undefined;
  const text = result?.content?.[0]?.text;
  if (text === undefined || !text.startsWith("{")) throw new Error(`not a tool result: ${JSON.stringify(message)}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/** A session's standalone event stream (GET), read as it arrives. */
class EventStream {
  #text = "";
  #waiters: Array<() => void> = [];
  private constructor(readonly request: ClientRequest) {}

  static open(url: string, headers: Record<string, string>): Promise<EventStream> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(url, { headers: { ...headers, accept: "text/event-stream" }, agent: false });
      const stream = new EventStream(req);
      req.on("response", (res) => {
        if (res.statusCode !== 200) {
          reject(new Error(`GET answered ${res.statusCode}`));
          res.resume();
          return;
        }
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          stream.#text += chunk;
          for (const wake of stream.#waiters.splice(0)) wake();
        });
        res.on("error", () => {});
        resolve(stream);
      });
      req.on("error", () => {});
      req.end();
    });
  }

  get messages(): Message[] {
    return eventMessages(this.#text.slice(0, this.#text.lastIndexOf("\n\n") + 2));
  }

  async waitFor(predicate: (message: Message) => boolean): Promise<Message> {
    for (;;) {
      const found = this.messages.find(predicate);
      if (found !== undefined) return found;
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  close(): void {
    this.request.destroy();
  }
}

const PROTOCOL_VERSION = "2025-06-18";

/** One user's session, driven by raw HTTP so the test chooses every id. */
class RawSession {
  private constructor(
    readonly url: string,
    readonly token: string,
    readonly id: string,
  ) {}

  static async open(url: string, token: string, capabilities: Record<string, unknown> = {}): Promise<RawSession> {
    const init = await postJson(
      url,
      {
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: { protocolVersion: PROTOCOL_VERSION, capabilities, clientInfo: { name: "raw", version: "0" } },
      },
      { authorization: `Bearer ${token}` },
    );
    expect(init.status).toBe(200);
    const session = new RawSession(url, token, init.headers["mcp-session-id"] as string);
    expect((await session.post({ jsonrpc: "2.0", method: "notifications/initialized" })).status).toBe(202);
    return session;
  }

  get headers(): Record<string, string> {
    return {
      authorization: `Bearer ${this.token}`,
      "mcp-session-id": this.id,
      "mcp-protocol-version": PROTOCOL_VERSION,
    };
  }

  post(body: unknown): Promise<RawResponse> {
    return postJson(this.url, body, this.headers);
  }

  call(id: unknown, name: string, extra: Record<string, unknown> = {}): Promise<RawResponse> {
    return this.post({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: {}, ...extra } });
  }

  stream(): Promise<EventStream> {
    return EventStream.open(this.url, this.headers);
  }
}

let as: TestAuthorizationServer;
beforeAll(async () => {
  as = await startTestAuthorizationServer();
});
afterAll(() => as.close());

describe.each(["batch", "stream"] as const)("HTTP Stream sessions stay apart, responseMode %s", (mode) => {
  let started: Started;
  let server: MCPServer;
  let url: string;
  const streams: EventStream[] = [];
  const clients: Client[] = [];
  const tokenOf = (sub: string): string => as.mint(url, { sub, scope: "mcp:read" });

  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}/mcp`;
    const provider = new OAuthAuthProvider({ resource: url, authorizationServers: [as.issuer], scopes: ["mcp:read"] });
    server = new MCPServer({
      name: "isolation",
      version: "0.0.0",
      tasks: { enabled: true },
      logging: true,
      transport: { type: "http-stream", options: { port, host: "127.0.0.1", responseMode: mode, auth: { provider } } },
    });
    for (const tool of [HeldWhoamiTool, ProgressTool, AskTool, TaskTool]) server.addTool(tool);
    started = await startFramework(server, port);
  });
  afterAll(async () => {
    for (const stream of streams) stream.close();
    await Promise.all(clients.map((c) => c.close()));
    await started.stop();
  });

  // The framework's SDK server (private in its types), as the host's own code reaches it.
  const sdkServer = (): { sendLoggingMessage(params: unknown): Promise<void>; listRoots(): Promise<unknown> } =>
    (server as unknown as { server: ReturnType<typeof sdkServer> }).server;

  const openStream = async (session: RawSession): Promise<EventStream> => {
    const stream = await session.stream();
    streams.push(stream);
    return stream;
  };

  it("two users' calls with the same id each get their own answer", async () => {
    const [alice, bob] = await Promise.all([
      RawSession.open(url, tokenOf("alice")),
      RawSession.open(url, tokenOf("bob")),
    ]);
    gates.hold("alice");
    gates.hold("bob");
    const aliceCall = alice.call(7, "held_whoami");
    const bobCall = bob.call(7, "held_whoami");
    await Promise.all([gates.entered("alice"), gates.entered("bob")]);
    gates.release("alice");
    const aliceAnswer = messagesOf(await aliceCall);
    gates.release("bob");
    const bobAnswer = messagesOf(await bobCall);
    expect(aliceAnswer.map((m) => [m.id, toolOutput(m)])).toEqual([[7, { sub: "alice" }]]);
    expect(bobAnswer.map((m) => [m.id, toolOutput(m)])).toEqual([[7, { sub: "bob" }]]);
  });

  it("the same holds for string ids, for ids that are equal as numbers, and inside batches", async () => {
    const [alice, bob] = await Promise.all([
      RawSession.open(url, tokenOf("alice")),
      RawSession.open(url, tokenOf("bob")),
    ]);
    gates.hold("alice");
    gates.hold("bob");
    const call = (id: unknown): Record<string, unknown> => ({
      jsonrpc: "2.0",
      id,
      method: "tools/call",
      params: { name: "held_whoami", arguments: {} },
    });
    const aliceCall = alice.post([call("x"), call(3)]);
    const bobCall = bob.post([call(3), call("x")]);
    await Promise.all([gates.entered("alice"), gates.entered("bob")]);
    gates.release("alice");
    const aliceAnswer = messagesOf(await aliceCall);
    gates.release("bob");
    const bobAnswer = messagesOf(await bobCall);
    const byId = (messages: Message[]): unknown[] =>
      messages.map((m) => [m.id, toolOutput(m)]).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    expect(byId(aliceAnswer)).toEqual([
      [3, { sub: "alice" }],
      ["x", { sub: "alice" }],
    ]);
    expect(byId(bobAnswer)).toEqual([
      [3, { sub: "bob" }],
      ["x", { sub: "bob" }],
    ]);
  });

  it("with the real SDK v1 client (which numbers its requests alike), each user gets their own answer", async () => {
    const [alice, bob] = await Promise.all([
      connectStreamableHttp(url, tokenOf("alice")),
      connectStreamableHttp(url, tokenOf("bob")),
    ]);
    clients.push(alice, bob);
    gates.hold("alice");
    gates.hold("bob");
    const ask = (client: Client): Promise<unknown> =>
      client.callTool({ name: "held_whoami", arguments: {} }, CallToolResultSchema);
    const aliceCall = ask(alice);
    const bobCall = ask(bob);
    await Promise.all([gates.entered("alice"), gates.entered("bob")]);
    gates.release("alice");
    const aliceResult = await aliceCall;
    gates.release("bob");
    const bobResult = await bobCall;
    const subOf = (result: unknown): unknown =>
      JSON.parse((result as { content: Array<{ text: string }> }).content[0]!.text).sub;
    expect([subOf(aliceResult), subOf(bobResult)]).toEqual(["alice", "bob"]);
  });

  it("one user's cancellation does not cancel another user's request with the same id", async () => {
    const [alice, bob] = await Promise.all([
      RawSession.open(url, tokenOf("alice")),
      RawSession.open(url, tokenOf("bob")),
    ]);
    gates.hold("alice");
    const aliceCall = alice.call(11, "held_whoami");
    await gates.entered("alice");
    const cancel = await bob.post({
      jsonrpc: "2.0",
      method: "notifications/cancelled",
      params: { requestId: 11, reason: "bob cancels his own 11" },
    });
    expect(cancel.status).toBe(202);
    // Bob's notification has reached the server before alice's call is let go.
    const bobCall = bob.call(12, "held_whoami");
    expect(messagesOf(await bobCall).map(toolOutput)).toEqual([{ sub: "bob" }]);
    gates.release("alice");
    expect(messagesOf(await aliceCall).map((m) => [m.id, toolOutput(m)])).toEqual([[11, { sub: "alice" }]]);
  });

  it("progress notifications reach only the caller's session", async () => {
    const [alice, bob] = await Promise.all([
      RawSession.open(url, tokenOf("alice")),
      RawSession.open(url, tokenOf("bob")),
    ]);
    const [aliceStream, bobStream] = await Promise.all([openStream(alice), openStream(bob)]);
    const aliceCall = await alice.call(5, "report", { _meta: { progressToken: "p" } });
    expect(messagesOf(aliceCall).map(toolOutput)).toEqual([{ sub: "alice" }]);
    const progressOf = (sub: string) => (m: Message) =>
      m.method === "notifications/progress" && (m["params"] as { message?: string }).message === `progress of ${sub}`;
    // The framework sends progress on the session's own event stream.
    await aliceStream.waitFor(progressOf("alice"));
    // Bob's own progress, sent after alice's, marks how far his stream has been read.
    await bob.call(5, "report", { _meta: { progressToken: "p" } });
    await bobStream.waitFor(progressOf("bob"));
    expect(bobStream.messages.filter(progressOf("alice"))).toEqual([]);
    expect(aliceStream.messages.filter(progressOf("bob"))).toEqual([]);
  });

  it("concurrent calls of one tool (the framework keeps the progress token on the shared tool): no progress crosses", async () => {
    const [alice, bob] = await Promise.all([
      RawSession.open(url, tokenOf("alice")),
      RawSession.open(url, tokenOf("bob")),
    ]);
    const [aliceStream, bobStream] = await Promise.all([openStream(alice), openStream(bob)]);
    gates.hold("alice");
    gates.hold("bob");
    const aliceCall = alice.call(5, "report", { _meta: { progressToken: "a" } });
    await gates.entered("alice");
    // Bob's call sets the tool's token after alice's: alice's step now carries bob's token.
    const bobCall = bob.call(5, "report", { _meta: { progressToken: "b" } });
    await gates.entered("bob");
    gates.release("alice");
    expect(messagesOf(await aliceCall).map(toolOutput)).toEqual([{ sub: "alice" }]);
    gates.release("bob");
    expect(messagesOf(await bobCall).map(toolOutput)).toEqual([{ sub: "bob" }]);
    // A marker on each stream: the progress of a call made after both.
    const marker = (m: Message): boolean =>
      (m["params"] as { progressToken?: unknown } | undefined)?.progressToken === "m";
    await alice.call(6, "report", { _meta: { progressToken: "m" } });
    await bob.call(6, "report", { _meta: { progressToken: "m" } });
    await Promise.all([aliceStream.waitFor(marker), bobStream.waitFor(marker)]);
    const steps = (stream: EventStream): unknown[] =>
      stream.messages
        .filter((m) => m.method === "notifications/progress" && !marker(m))
        .map((m) => (m["params"] as { message?: string }).message);
    expect(steps(bobStream).filter((text) => text !== "progress of bob")).toEqual([]);
    expect(steps(aliceStream).filter((text) => text !== "progress of alice")).toEqual([]);
  });

  it("a sampling request goes to the caller's session only, and only that session can answer it", async () => {
    const sampling = { sampling: {} };
    const [alice, bob] = await Promise.all([
      RawSession.open(url, tokenOf("alice"), sampling),
      RawSession.open(url, tokenOf("bob"), sampling),
    ]);
    const [aliceStream, bobStream] = await Promise.all([openStream(alice), openStream(bob)]);
    const aliceCall = alice.call(9, "ask");
    const question = await aliceStream.waitFor((m) => m.method === "sampling/createMessage");
    const answer = (text: string): Record<string, unknown> => ({
      jsonrpc: "2.0",
      id: question.id,
      result: { role: "assistant", content: { type: "text", text }, model: "test" },
    });
    // Bob answers alice's question by its id before she does: not his to answer.
    expect((await bob.post(answer("from bob"))).status).toBe(202);
    expect((await alice.post(answer("from alice"))).status).toBe(202);
    expect(messagesOf(await aliceCall).map(toolOutput)).toEqual([{ sub: "alice", answer: "from alice" }]);
    // Bob's progress marks how far his stream has been read: alice's question never reached it.
    await bob.call(10, "report", { _meta: { progressToken: 1 } });
    await bobStream.waitFor((m) => m.method === "notifications/progress");
    expect(bobStream.messages.filter((m) => m.method === "sampling/createMessage")).toEqual([]);
  });

  it("the host's own notification, sent outside any session's message, reaches every session", async () => {
    const [alice, bob] = await Promise.all([
      RawSession.open(url, tokenOf("alice")),
      RawSession.open(url, tokenOf("bob")),
    ]);
    const [aliceStream, bobStream] = await Promise.all([openStream(alice), openStream(bob)]);
    await sdkServer().sendLoggingMessage({ level: "info", data: "to everyone" });
    const isIt = (m: Message): boolean => (m["params"] as { data?: unknown } | undefined)?.data === "to everyone";
    await Promise.all([aliceStream.waitFor(isIt), bobStream.waitFor(isIt)]);
  });

  it("the host's own request, sent outside any session's message, is refused rather than sent to every session", async () => {
    await RawSession.open(url, tokenOf("alice"), { roots: {} });
    await expect(sdkServer().listRoots()).rejects.toThrow(/no MCP session/);
  });

  it("tasks: another user neither lists nor reads nor cancels a user's task", async () => {
    const [alice, bob] = await Promise.all([
      RawSession.open(url, tokenOf("alice")),
      RawSession.open(url, tokenOf("bob")),
    ]);
    const created = messagesOf(await alice.call(20, "task_whoami", { task: { ttl: 60_000 } }));
    const taskId = (created[0]?.result as { task?: { taskId?: string } } | undefined)?.task?.taskId;
    expect(typeof taskId).toBe("string");
    const ask = async (session: RawSession, method: string, params: Record<string, unknown>): Promise<Message> => {
      const [answer] = messagesOf(await session.post({ jsonrpc: "2.0", id: 21, method, params }));
      return answer!;
    };
    const listed = (m: Message): unknown[] =>
      ((m.result as { tasks?: Array<{ taskId: string }> }).tasks ?? []).map((t) => t.taskId);
    expect(listed(await ask(alice, "tasks/list", {}))).toContain(taskId);
    expect(listed(await ask(bob, "tasks/list", {}))).not.toContain(taskId);
    for (const method of ["tasks/get", "tasks/result", "tasks/cancel"]) {
      const answer = await ask(bob, method, { taskId });
      expect([method, answer.result]).toEqual([method, undefined]);
      expect(JSON.stringify(answer.error)).not.toContain("alice");
    }
    // Alice still reads her task (bob's cancel did not reach it).
    const result = await ask(alice, "tasks/result", { taskId });
    expect(toolOutput(result)).toEqual({ sub: "alice" });
  });
});

describe("SSE: per-session servers, but one tool object and one task store for every session", () => {
  let started: Started;
  let url: string;
  const clients: Client[] = [];
  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}/sse`;
    const provider = new OAuthAuthProvider({ resource: url, authorizationServers: [as.issuer], scopes: ["mcp:read"] });
    const server = new MCPServer({
      name: "isolation-sse",
      version: "0.0.0",
      tasks: { enabled: true },
      transport: { type: "sse", options: { port, host: "127.0.0.1", auth: { provider } } },
    });
    for (const tool of [TaskTool, ProgressTool]) server.addTool(tool);
    started = await startFramework(server, port);
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await started.stop();
  });

  const connect = async (sub: string): Promise<Client> => {
    const token = as.mint(url, { sub, scope: "mcp:read" });
    const client = await connectSse(url, token, token);
    clients.push(client);
    return client;
  };

  it("concurrent calls of one tool: each session gets its own call's progress only", async () => {
    const [alice, bob] = await Promise.all([connect("alice"), connect("bob")]);
    const seen = { alice: [] as unknown[], bob: [] as unknown[] };
    const arrived = new Map<unknown, () => void>();
    const arrival = (message: string): Promise<void> => new Promise((resolve) => arrived.set(message, resolve));
    const call = (client: Client, sub: "alice" | "bob"): Promise<unknown> =>
      client.callTool({ name: "report", arguments: {} }, CallToolResultSchema, {
        onprogress: (progress) => {
          seen[sub].push(progress.message);
          arrived.get(progress.message)?.();
        },
      });
    for (const gate of ["alice", "bob", "alice:after", "bob:after"]) gates.hold(gate);
    const aliceCall = call(alice, "alice");
    await gates.entered("alice");
    // Bob's call reaches the tool object after alice's: the framework sets his session's server on it.
    const bobCall = call(bob, "bob");
    await gates.entered("bob");
    // Each step is reported while both calls run; wait until some session got it.
    const aliceStep = arrival("progress of alice");
    gates.release("alice");
    await aliceStep;
    const bobStep = arrival("progress of bob");
    gates.release("bob");
    await bobStep;
    gates.release("alice:after");
    gates.release("bob:after");
    await Promise.all([aliceCall, bobCall]);
    expect(seen).toEqual({ alice: ["progress of alice"], bob: ["progress of bob"] });
  });

  it("bob neither lists nor reads alice's task; alice does", async () => {
    const [alice, bob] = await Promise.all([connect("alice"), connect("bob")]);
    const { task } = await alice.request(
      { method: "tools/call", params: { name: "task_whoami", arguments: {}, task: { ttl: 60_000 } } },
      CreateTaskResultSchema,
    );
    const list = async (client: Client): Promise<string[]> =>
      (await client.request({ method: "tasks/list", params: {} }, ListTasksResultSchema)).tasks.map((t) => t.taskId);
    expect(await list(alice)).toContain(task.taskId);
    expect(await list(bob)).not.toContain(task.taskId);
    await expect(
      bob.request({ method: "tasks/get", params: { taskId: task.taskId } }, GetTaskResultSchema),
    ).rejects.toThrow(/Task not found/);
    await expect(
      alice.request({ method: "tasks/get", params: { taskId: task.taskId } }, GetTaskResultSchema),
    ).resolves.toMatchObject({ taskId: task.taskId });
  });
});

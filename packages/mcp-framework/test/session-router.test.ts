/**
 * session-router.ts alone: `SessionIsolation` between plain sessions (a `send` that records,
 * an `onmessage` that stands for the framework's one SDK server) and that server's `send`.
 * Each rule of the file's header comment, as behaviour: ids unique on the way in and
 * restored on the way out, progress tokens and cancellations translated or dropped, the
 * server's own requests to exactly one session and answered only from it, server-wide
 * notifications to every session, closed sessions forgotten. The same rules on the real
 * framework transports, with real clients, are in session-isolation.test.ts.
 *
 * Mutation run of session-router.ts with this file alone: the survivors change nothing any
 * input can observe: `clientKey`'s prefixes swapped (still one key per typed id), `isObject`
 * taking `null` (every read of it is `?.`), `opened` calling `closed` for an unknown id (a
 * no-op), and the `typeof ... === "number"` / `!== undefined` guards before lookups and
 * deletions in maps whose keys are only numbers.
 */
import { describe, expect, it } from "@jest/globals";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { FrameworkSession, JsonRpcMessage } from "../src/framework-internals.js";
import { callerScope, type CallerScope } from "../src/owners.js";
import { SessionIsolation, type RoutedSession } from "../src/session-router.js";

/** What the framework's SDK server got: the message, the transport's `extra`, and the async context it runs in. */
interface Received {
  message: JsonRpcMessage;
  extra: unknown;
  scope: CallerScope | undefined;
}

/** The framework's one SDK server, behind every session. */
class Server {
  readonly received: Received[] = [];
  readonly onmessage = (message: JsonRpcMessage, extra?: unknown): void => {
    this.received.push({ message, extra, scope: callerScope.getStore() });
  };

  /** The last message the server got. */
  last(): Received {
    const last = this.received.at(-1);
    if (last === undefined) throw new Error("the server got nothing");
    return last;
  }

  /** The id the server knows the last request by. */
  lastId(): number {
    return this.last().message["id"] as number;
  }
}

/** One session of the framework: what its client was sent, and `deliver` for what its client sends. */
class Session implements FrameworkSession {
  readonly sent: JsonRpcMessage[] = [];
  onmessage?: ((message: JsonRpcMessage, extra?: unknown) => void) | undefined;

  constructor(server?: Server) {
    this.onmessage = server?.onmessage;
  }

  async send(message: JsonRpcMessage): Promise<void> {
    this.sent.push(message);
  }

  /** The client sends `message` (the transport hands it to `onmessage`, the router's once opened). */
  deliver(message: JsonRpcMessage, extra?: unknown): void {
    this.onmessage!(message, extra);
  }
}

function setup(...ids: string[]): { router: SessionIsolation; server: Server; sessions: Session[] } {
  const router = new SessionIsolation();
  const server = new Server();
  const sessions = ids.map((id) => {
    const session = new Session(server);
    router.opened(id, session);
    return session;
  });
  return { router, server, sessions };
}

const call = (id: string | number, params: Record<string, unknown> = { name: "whoami", arguments: {} }) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params,
});
const result = (id: number, value: unknown) => ({ jsonrpc: "2.0", id, result: { value } });
const progress = (progressToken: unknown, value = 1) => ({
  jsonrpc: "2.0",
  method: "notifications/progress",
  params: { progressToken, progress: value, total: 10 },
});
const cancelled = (requestId: unknown) => ({
  jsonrpc: "2.0",
  method: "notifications/cancelled",
  params: { requestId, reason: "user gave up" },
});
const sampling = (id: number) => ({
  jsonrpc: "2.0",
  id,
  method: "sampling/createMessage",
  params: { messages: [], maxTokens: 10 },
});
const listChanged = { jsonrpc: "2.0", method: "notifications/tools/list_changed" };

/** `fn` as the server runs it while handling `received` (in that message's async context). */
const handling = <T>(received: Received, fn: () => T): T => callerScope.run(received.scope!, fn);

/** The session the router put in the context of the message the server got. */
const routed = (received: Received): RoutedSession => received.scope!.session!;

describe("requests and their responses", () => {
  it("never hands one session the response to another's request of the same id, and restores each client's id", async () => {
    const { router, server, sessions } = setup("alice", "bob");
    const [alice, bob] = sessions as [Session, Session];
    alice.deliver(call(7, { name: "whoami", arguments: { who: "alice" } }));
    const aliceId = server.lastId();
    bob.deliver(call(7, { name: "whoami", arguments: { who: "bob" } }));
    const bobId = server.lastId();
    expect(aliceId).not.toBe(bobId);
    // The server gets each request as sent, but for its id.
    expect(server.received.map((r) => r.message)).toEqual([
      { ...call(7, { name: "whoami", arguments: { who: "alice" } }), id: aliceId },
      { ...call(7, { name: "whoami", arguments: { who: "bob" } }), id: bobId },
    ]);

    await router.send(result(bobId, "bob"));
    expect(bob.sent).toEqual([result(7, "bob")]);
    expect(alice.sent).toEqual([]);
    await router.send({ jsonrpc: "2.0", id: aliceId, error: { code: -32603, message: "alice's failure" } });
    expect(alice.sent).toEqual([{ jsonrpc: "2.0", id: 7, error: { code: -32603, message: "alice's failure" } }]);
    expect(bob.sent).toEqual([result(7, "bob")]);
  });

  it("gives every request an id unique in the process, and every progress token one too", () => {
    const { server, sessions } = setup("alice", "bob");
    const [alice, bob] = sessions as [Session, Session];
    for (const session of [alice, bob, alice, bob]) {
      session.deliver(call(1, { name: "slow", _meta: { progressToken: 1 } }));
      session.deliver(call(2));
      session.deliver(call("1"));
    }
    const ids = server.received.map((r) => r.message["id"]);
    const tokens = server.received
      .map(
        (r) =>
          ((r.message["params"] as Record<string, unknown>)["_meta"] as { progressToken?: unknown } | undefined)
            ?.progressToken,
      )
      .filter((token) => token !== undefined);
    expect(new Set(ids).size).toBe(12);
    expect(new Set(tokens).size).toBe(4);
    for (const value of [...ids, ...tokens]) expect(typeof value).toBe("number");
  });

  it('restores number and string ids as the client sent them, 1 and "1" being two requests', async () => {
    const { router, server, sessions } = setup("alice");
    const [alice] = sessions as [Session];
    alice.deliver(call(1));
    const numberId = server.lastId();
    alice.deliver(call("1"));
    const stringId = server.lastId();
    expect(numberId).not.toBe(stringId);

    // A cancellation names one of them by its typed id.
    alice.deliver(cancelled("1"));
    expect(server.last().message).toEqual({ ...cancelled(stringId) });
    alice.deliver(cancelled(1));
    expect(server.last().message).toEqual({ ...cancelled(numberId) });

    await router.send(result(stringId, "string"));
    await router.send(result(numberId, "number"));
    expect(alice.sent).toEqual([result("1" as unknown as number, "string"), result(1, "number")]);
    expect(alice.sent.map((m) => typeof m["id"])).toEqual(["string", "number"]);
  });

  it("drops a response to no pending request (unknown, not a number, already answered) and forgets an answered one", async () => {
    const { router, server, sessions } = setup("alice");
    const [alice] = sessions as [Session];
    alice.deliver(call(3, { name: "slow", _meta: { progressToken: "p" } }));
    const id = server.lastId();
    const session = routed(server.last());
    await router.send(result(id + 100, "unknown"));
    await router.send({ jsonrpc: "2.0", id: String(id), result: {} });
    await router.send({ jsonrpc: "2.0", id: null, error: { code: -32700, message: "Parse error" } });
    expect(alice.sent).toEqual([]);

    await router.send(result(id, "first"));
    // The same response again: nobody is waiting for it any more.
    await expect(router.send(result(id, "again"))).resolves.toBeUndefined();
    expect(alice.sent).toEqual([result(3, "first")]);
    expect([session.pending.size, session.byClientId.size, session.tokens.size]).toEqual([0, 0, 0]);
  });

  it("keeps a reused client id's newer request when the older one is answered", async () => {
    const { router, server, sessions } = setup("alice");
    const [alice] = sessions as [Session];
    alice.deliver(call(5));
    const older = server.lastId();
    alice.deliver(call(5));
    const newer = server.lastId();
    await router.send(result(older, "older"));
    // Id 5 now names the newer request: a cancellation of 5 reaches it.
    alice.deliver(cancelled(5));
    expect(server.last().message).toEqual(cancelled(newer));
    await router.send(result(newer, "newer"));
    expect(alice.sent).toEqual([result(5, "older"), result(5, "newer")]);
    expect(routed(server.last()).byClientId.size).toBe(0);
  });
});

describe("what reaches the server", () => {
  it("runs the server's handling in the session's context, with its owner, and passes the transport's extra on", () => {
    const router = new SessionIsolation();
    const server = new Server();
    const alice = new Session(server);
    callerScope.run({ owner: "alice's owner" }, () => router.opened("alice", alice));
    const extra = { authInfo: { token: "t" } };
    alice.deliver(call(1), extra);
    const received = server.last();
    expect(received.extra).toBe(extra);
    expect(received.scope?.owner).toBe("alice's owner");
    expect(received.scope?.session?.id).toBe("alice");
    expect(received.scope?.session?.transport).toBe(alice);
    expect(received.scope?.session?.open).toBe(true);

    // Opened outside any caller (not behind the bridge): no owner.
    const bob = new Session(server);
    router.opened("bob", bob);
    bob.deliver(call(1));
    expect(server.last().scope?.owner).toBeUndefined();
    expect(server.last().scope?.session?.id).toBe("bob");
    expect(router.size).toBe(2);
  });

  it("passes other notifications unchanged, and needs no onmessage to drop or pass a message", () => {
    const { server, sessions } = setup("alice");
    const [alice] = sessions as [Session];
    const initialized = { jsonrpc: "2.0", method: "notifications/initialized" };
    alice.deliver(initialized);
    expect(server.last().message).toBe(initialized);
    const noParams = { jsonrpc: "2.0", id: 9, method: "tools/list" };
    alice.deliver(noParams);
    expect(server.last().message).toEqual({ ...noParams, id: server.lastId() });
    expect(server.last().message).not.toHaveProperty("params");

    const router = new SessionIsolation();
    const bare = new Session();
    router.opened("bare", bare);
    expect(() => bare.deliver(call(1))).not.toThrow();
    expect(() => bare.deliver(initialized)).not.toThrow();
  });

  it("translates a cancellation to the id its session's request got, and drops any other", () => {
    const { server, sessions } = setup("alice", "bob");
    const [alice, bob] = sessions as [Session, Session];
    alice.deliver(call(4));
    const id = server.lastId();
    const count = server.received.length;
    // Bob has no request 4; nobody has a request 5; a cancellation must name a request.
    bob.deliver(cancelled(4));
    alice.deliver(cancelled(5));
    alice.deliver(cancelled("4"));
    alice.deliver(cancelled(undefined));
    alice.deliver({ jsonrpc: "2.0", method: "notifications/cancelled" });
    expect(server.received.length).toBe(count);
    alice.deliver(cancelled(4));
    expect(server.last().message).toEqual(cancelled(id));
  });

  it('reads a cancellation with no requestId as naming no request, even one whose id is the string "undefined"', () => {
    const { server, sessions } = setup("alice");
    const [alice] = sessions as [Session];
    alice.deliver(call("undefined"));
    alice.deliver(call("[object Object]"));
    const count = server.received.length;
    alice.deliver(cancelled(undefined));
    alice.deliver(cancelled({}));
    expect(server.received.length).toBe(count);
  });

  it("translates a request's progress token (number or string) and keeps the rest of its _meta and params", () => {
    const { server, sessions } = setup("alice");
    const [alice] = sessions as [Session];
    for (const token of ["p", 0]) {
      alice.deliver(call(1, { name: "slow", arguments: { n: 1 }, _meta: { progressToken: token, trace: "x" } }));
      const message = server.last().message;
      const ours = (message["params"] as { _meta: { progressToken: unknown } })._meta.progressToken;
      expect(typeof ours).toBe("number");
      expect(ours).not.toBe(token);
      expect(message).toEqual({
        ...call(1, { name: "slow", arguments: { n: 1 }, _meta: { progressToken: ours, trace: "x" } }),
        id: server.lastId(),
      });
    }
    // No token (or one that is not an id): nothing added.
    for (const meta of [{ trace: "x" }, { progressToken: { not: "an id" } }, "not an object"]) {
      alice.deliver(call(2, { name: "slow", _meta: meta }));
      expect(server.last().message).toEqual({ ...call(2, { name: "slow", _meta: meta }), id: server.lastId() });
    }
  });
});

describe("progress", () => {
  it("reaches only the session whose request has the token, with the client's own token back", async () => {
    const { router, server, sessions } = setup("alice", "bob");
    const [alice, bob] = sessions as [Session, Session];
    alice.deliver(call(1, { name: "slow", _meta: { progressToken: "tok" } }));
    const fromAlice = server.last();
    bob.deliver(call(1, { name: "slow", _meta: { progressToken: "tok" } }));
    const fromBob = server.last();
    const token = (received: Received) =>
      ((received.message["params"] as Record<string, unknown>)["_meta"] as { progressToken: number }).progressToken;

    await handling(fromAlice, () => router.send(progress(token(fromAlice), 1)));
    await handling(fromBob, () => router.send(progress(token(fromBob), 2)));
    expect(alice.sent).toEqual([progress("tok", 1)]);
    expect(bob.sent).toEqual([progress("tok", 2)]);

    // Alice's token while handling Bob's message (a tool's shared token overwritten): dropped.
    await handling(fromBob, () => router.send(progress(token(fromAlice), 3)));
    // Outside any message, the token alone decides.
    await router.send(progress(token(fromAlice), 4));
    expect(alice.sent).toEqual([progress("tok", 1), progress("tok", 4)]);
    expect(bob.sent).toEqual([progress("tok", 2)]);
  });

  it("is dropped for a finished request, an unknown token, a client's own token and a token that is not a number", async () => {
    const { router, server, sessions } = setup("alice");
    const [alice] = sessions as [Session];
    alice.deliver(call(1, { name: "slow", _meta: { progressToken: "tok" } }));
    const received = server.last();
    const ours = ((received.message["params"] as Record<string, unknown>)["_meta"] as { progressToken: number })
      .progressToken;
    await handling(received, async () => {
      await router.send(progress("tok"));
      await router.send(progress(ours + 100));
      await router.send(progress(String(ours)));
      await router.send({ jsonrpc: "2.0", method: "notifications/progress" });
    });
    expect(alice.sent).toEqual([]);

    await router.send(result(server.lastId(), "done"));
    await handling(received, () => router.send(progress(ours)));
    await router.send(progress(ours));
    expect(alice.sent).toEqual([result(1, "done")]);
  });
});

describe("the server's own requests (sampling, elicitation)", () => {
  it("go to the one session whose message is being handled, and only its answer reaches the server", async () => {
    const { router, server, sessions } = setup("alice", "bob");
    const [alice, bob] = sessions as [Session, Session];
    alice.deliver(call(1));
    const fromAlice = server.last();
    await handling(fromAlice, () => router.send(sampling(0)));
    expect(alice.sent).toEqual([sampling(0)]);
    expect(bob.sent).toEqual([]);
    expect([...routed(fromAlice).serverRequests]).toEqual([0]);

    const count = server.received.length;
    // Bob answers a request he was never sent: dropped, and alice can still answer.
    bob.deliver({ jsonrpc: "2.0", id: 0, result: { content: "bob's" } });
    expect(server.received.length).toBe(count);
    const answer = { jsonrpc: "2.0", id: 0, result: { content: "alice's" } };
    alice.deliver(answer);
    expect(server.last().message).toBe(answer);
    expect(server.last().scope?.session?.id).toBe("alice");
    // Answered: a second answer is dropped.
    alice.deliver({ ...answer });
    expect(server.received.length).toBe(count + 1);
    expect(routed(fromAlice).serverRequests.size).toBe(0);
  });

  it("accept an answer or an error, its id read as the MCP SDK reads it (Number(id))", async () => {
    const { router, server, sessions } = setup("alice");
    const [alice] = sessions as [Session];
    alice.deliver(call(1));
    const fromAlice = server.last();
    await handling(fromAlice, async () => {
      await router.send(sampling(10));
      await router.send(sampling(11));
    });
    const error = { jsonrpc: "2.0", id: "10", error: { code: -1, message: "declined" } };
    alice.deliver(error);
    expect(server.last().message).toBe(error);
    const answer = { jsonrpc: "2.0", id: 11, result: {} };
    alice.deliver(answer);
    expect(server.last().message).toBe(answer);
  });

  it("pass the answering client's progress only from the session the request went to, until answered", async () => {
    const { router, server, sessions } = setup("alice", "bob");
    const [alice, bob] = sessions as [Session, Session];
    alice.deliver(call(1));
    await handling(server.last(), () => router.send(sampling(3)));
    const count = server.received.length;
    bob.deliver(progress(3));
    alice.deliver(progress(4));
    alice.deliver({ jsonrpc: "2.0", method: "notifications/progress" });
    expect(server.received.length).toBe(count);
    alice.deliver(progress(3));
    expect(server.last().message).toEqual(progress(3));
    // As the SDK reads it: "3" is 3.
    alice.deliver(progress("3"));
    expect(server.last().message).toEqual(progress("3"));
    alice.deliver({ jsonrpc: "2.0", id: 3, result: {} });
    const answered = server.received.length;
    alice.deliver(progress(3));
    expect(server.received.length).toBe(answered);
  });

  it("go to the session of relatedRequestId, the request they belong to, whatever the context", async () => {
    const { router, server, sessions } = setup("alice", "bob");
    const [alice, bob] = sessions as [Session, Session];
    alice.deliver(call(1));
    const aliceId = server.lastId();
    bob.deliver(call(1));
    const fromBob = server.last();
    await handling(fromBob, () => router.send(sampling(20), { relatedRequestId: aliceId }));
    await router.send(sampling(21), { relatedRequestId: aliceId });
    expect(alice.sent).toEqual([sampling(20), sampling(21)]);
    expect(bob.sent).toEqual([]);
    // A relatedRequestId that is no pending request (or not a number) leaves the context to decide.
    await handling(fromBob, async () => {
      await router.send(sampling(22), { relatedRequestId: aliceId + 100 });
      await router.send(sampling(23), { relatedRequestId: String(aliceId) });
      await router.send(sampling(24), {});
    });
    expect(bob.sent).toEqual([sampling(22), sampling(23), sampling(24)]);
    expect(alice.sent).toEqual([sampling(20), sampling(21)]);
  });

  it("throw when there is no session to send them to (outside any message, or its session closed)", async () => {
    const { router, server, sessions } = setup("alice");
    const [alice] = sessions as [Session];
    await expect(router.send(sampling(1))).rejects.toThrow(
      "sampling/createMessage: no MCP session to send this request to",
    );
    await expect(router.send(sampling(2), { relatedRequestId: 12345 })).rejects.toThrow("no MCP session");
    alice.deliver(call(1));
    const received = server.last();
    router.closed("alice");
    await expect(handling(received, () => router.send(sampling(3)))).rejects.toThrow("no MCP session");
    expect(alice.sent).toEqual([]);
  });

  it("are cancelled (notifications/cancelled from the server) only to the session they went to, once", async () => {
    const { router, server, sessions } = setup("alice", "bob");
    const [alice, bob] = sessions as [Session, Session];
    alice.deliver(call(1));
    const fromAlice = server.last();
    bob.deliver(call(1));
    const fromBob = server.last();
    await handling(fromAlice, () => router.send(sampling(30)));
    // Sent from Bob's context, or from none: still only to Alice.
    await handling(fromBob, () => router.send(cancelled(30)));
    expect(alice.sent).toEqual([sampling(30), cancelled(30)]);
    expect(bob.sent).toEqual([]);
    expect(routed(fromAlice).serverRequests.size).toBe(0);
    // Forgotten: a late answer is dropped, and a second cancellation goes nowhere.
    const count = server.received.length;
    alice.deliver({ jsonrpc: "2.0", id: 30, result: {} });
    expect(server.received.length).toBe(count);
    await router.send(cancelled(30));
    await router.send(cancelled(31));
    await router.send(cancelled("30"));
    expect(alice.sent).toEqual([sampling(30), cancelled(30)]);
    expect(bob.sent).toEqual([]);

    // As the SDK reads ids: "32" cancels request 32.
    await handling(fromAlice, () => router.send(sampling(32)));
    await router.send(cancelled("32"));
    expect(alice.sent.at(-1)).toEqual(cancelled("32"));
  });

  it("are settled only by an answer (a result or an error), not by any message with their id", async () => {
    const { router, server, sessions } = setup("alice");
    const [alice] = sessions as [Session];
    alice.deliver(call(1));
    await handling(server.last(), () => router.send(sampling(60)));
    // Neither request, notification nor response (the SDK's schema would refuse it): passed on as it is.
    const neither = { jsonrpc: "2.0", id: 60 };
    alice.deliver(neither);
    expect(server.last().message).toBe(neither);
    const answer = { jsonrpc: "2.0", id: 60, result: {} };
    alice.deliver(answer);
    expect(server.last().message).toBe(answer);
  });

  it("treat a cancellation that names no request as any other notification", async () => {
    const { router, server, sessions } = setup("alice", "bob");
    const [alice, bob] = sessions as [Session, Session];
    const unnamed = { jsonrpc: "2.0", method: "notifications/cancelled", params: { reason: "none named" } };
    await router.send(unnamed);
    expect(alice.sent).toEqual([unnamed]);
    expect(bob.sent).toEqual([unnamed]);
    // No params at all: the same.
    const bare = { jsonrpc: "2.0", method: "notifications/cancelled" };
    await router.send(bare);
    expect(alice.sent).toEqual([unnamed, bare]);
    expect(bob.sent).toEqual([unnamed, bare]);
    alice.deliver(call(1));
    await handling(server.last(), async () => {
      await router.send(unnamed);
      await router.send(bare);
    });
    expect(alice.sent).toEqual([unnamed, bare, unnamed, bare]);
    expect(bob.sent).toEqual([unnamed, bare]);
  });
});

describe("notifications", () => {
  it("sent while handling a session's message go to that session only", async () => {
    const { router, server, sessions } = setup("alice", "bob");
    const [alice, bob] = sessions as [Session, Session];
    alice.deliver(call(1));
    const log = { jsonrpc: "2.0", method: "notifications/message", params: { level: "info", data: "alice's" } };
    await handling(server.last(), () => router.send(log));
    expect(alice.sent).toEqual([log]);
    expect(bob.sent).toEqual([]);
  });

  it("are routed by the session whatever their params or members hold: a requestId or a result is no answer", async () => {
    const { router, server, sessions } = setup("alice", "bob");
    const [alice, bob] = sessions as [Session, Session];
    alice.deliver(call(1));
    const received = server.last();
    await handling(received, () => router.send(sampling(70)));
    // Only notifications/cancelled names one of the server's requests by its requestId.
    const log = { jsonrpc: "2.0", method: "notifications/message", params: { level: "info", requestId: 70 } };
    // A member `result` does not make a notification a response (the SDK spreads what the host passes).
    const odd = { jsonrpc: "2.0", method: "notifications/message", params: { level: "info" }, result: {} };
    await handling(received, async () => {
      await router.send(log);
      await router.send(odd);
    });
    expect(alice.sent).toEqual([sampling(70), log, odd]);
    expect(bob.sent).toEqual([]);
    // The server's request is still pending: Alice can answer it.
    const answer = { jsonrpc: "2.0", id: 70, result: {} };
    alice.deliver(answer);
    expect(server.last().message).toBe(answer);
  });

  it("sent outside any session's message go to every open session, one failing session stopping none", async () => {
    const { router, sessions } = setup("alice", "bob", "carol");
    const [alice, bob, carol] = sessions as [Session, Session, Session];
    alice.send = async () => {
      throw new Error("No connection established");
    };
    router.closed("carol");
    await expect(router.send(listChanged)).resolves.toBeUndefined();
    expect(bob.sent).toEqual([listChanged]);
    expect(carol.sent).toEqual([]);
  });

  it("sent while handling a closed session's message go nowhere (not to every session)", async () => {
    const { router, server, sessions } = setup("alice", "bob");
    const [alice, bob] = sessions as [Session, Session];
    alice.deliver(call(1));
    const received = server.last();
    router.closed("alice");
    await handling(received, () => router.send(listChanged));
    expect(alice.sent).toEqual([]);
    expect(bob.sent).toEqual([]);
  });
});

describe("closed sessions", () => {
  it("receive nothing more, their messages are dropped, and their state is forgotten", async () => {
    const { router, server, sessions } = setup("alice", "bob");
    const [alice, bob] = sessions as [Session, Session];
    alice.deliver(call(1, { name: "slow", _meta: { progressToken: "tok" } }));
    const received = server.last();
    const id = server.lastId();
    const token = ((received.message["params"] as Record<string, unknown>)["_meta"] as { progressToken: number })
      .progressToken;
    await handling(received, () => router.send(sampling(40)));
    const session = routed(received);
    expect([session.pending.size, session.byClientId.size, session.tokens.size, session.serverRequests.size]).toEqual([
      1, 1, 1, 1,
    ]);

    router.closed("alice");
    expect(router.size).toBe(1);
    expect(session.open).toBe(false);
    expect([session.pending.size, session.byClientId.size, session.tokens.size, session.serverRequests.size]).toEqual([
      0, 0, 0, 0,
    ]);
    await expect(router.send(result(id, "late"))).resolves.toBeUndefined();
    await router.send(progress(token));
    await router.send(cancelled(40));
    await router.send(listChanged);
    expect(alice.sent).toEqual([sampling(40)]);
    expect(bob.sent).toEqual([listChanged]);

    // What its client still sends (a transport not yet torn down) reaches nobody.
    const count = server.received.length;
    alice.deliver(call(2));
    alice.deliver(cancelled(1));
    alice.deliver({ jsonrpc: "2.0", id: 40, result: {} });
    alice.deliver({ jsonrpc: "2.0", method: "notifications/initialized" });
    expect(server.received.length).toBe(count);

    // Closing it again, or an id never opened, changes nothing.
    router.closed("alice");
    router.closed("nobody");
    expect(router.size).toBe(1);
  });

  it("are released: the router keeps no reference to a closed session", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const router = new SessionIsolation();
    const weak = await (async () => {
      const server = new Server();
      const alice = new Session(server);
      router.opened("alice", alice);
      alice.deliver(call(1, { name: "slow", _meta: { progressToken: "tok" } }));
      await handling(server.last(), () => router.send(sampling(50)));
      const ref = new WeakRef(routed(server.last()));
      router.closed("alice");
      return ref;
    })();
    // WeakRef targets are kept until the end of the job that saw them.
    await new Promise<void>((resolve) => setImmediate(resolve));
    gc();
    expect(weak.deref()).toBeUndefined();
  });

  it("re-opened under the same id: the old transport is closed, the new one starts afresh", async () => {
    const { router, server, sessions } = setup("alice");
    const [old] = sessions as [Session];
    old.deliver(call(1));
    const oldId = server.lastId();
    const oldSession = routed(server.last());

    const renewed = new Session(server);
    router.opened("alice", renewed);
    expect(router.size).toBe(1);
    expect(oldSession.open).toBe(false);
    await router.send(result(oldId, "old"));
    expect(old.sent).toEqual([]);
    expect(renewed.sent).toEqual([]);
    const count = server.received.length;
    old.deliver(call(2));
    expect(server.received.length).toBe(count);

    renewed.deliver(call(1));
    expect(routed(server.last())).not.toBe(oldSession);
    await router.send(result(server.lastId(), "new"));
    expect(renewed.sent).toEqual([result(1, "new")]);
    expect(old.sent).toEqual([]);
  });
});

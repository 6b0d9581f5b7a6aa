/**
 * sessions.ts alone, on a fake clock: the bounds on one transport's sessions. An owner holds
 * at most `maxPerOwner` (one more closes their least recently used, never someone else's,
 * and only once it owes no answer); a session with nothing in flight for `idleTimeoutMs` is
 * closed; a session the framework forgot is forgotten here too. The same rules end to end,
 * on the framework's transports, are in session-limits.test.ts; these pin each one.
 */
import { afterEach, beforeEach, describe, expect, it, jest } from "@jest/globals";
import { McpOAuthConfigError } from "@mcp-oauth/core";
import type { FrameworkTransport, SessionRouter } from "../src/framework-internals.js";
import { callerScope } from "../src/owners.js";
import { DEFAULT_SESSION_LIMITS, SessionRegistry, sessionLimits, trackSessions } from "../src/sessions.js";

const POST = { awaitsAnswer: true };
const GET = { awaitsAnswer: false };
const IDLE_MS = 1_000;

describe("sessionLimits", () => {
  it("takes the defaults, 20 sessions per owner and 30 minutes idle, for what is not given", () => {
    expect(DEFAULT_SESSION_LIMITS).toEqual({ maxPerOwner: 20, idleTimeoutMs: 1_800_000 });
    expect(Object.isFrozen(DEFAULT_SESSION_LIMITS)).toBe(true);
    expect(sessionLimits()).toEqual({ maxPerOwner: 20, idleTimeoutMs: 1_800_000 });
    expect(sessionLimits({ maxPerOwner: 3 })).toEqual({ maxPerOwner: 3, idleTimeoutMs: 1_800_000 });
    expect(sessionLimits({ idleTimeoutMs: 5 })).toEqual({ maxPerOwner: 20, idleTimeoutMs: 5 });
  });

  it.each([1, 7, Infinity])("accepts maxPerOwner %p", (maxPerOwner) => {
    expect(sessionLimits({ maxPerOwner }).maxPerOwner).toBe(maxPerOwner);
  });

  it.each([0, -1, 1.5, NaN, -Infinity])("refuses maxPerOwner %p, naming the option", (maxPerOwner) => {
    const thrown = (() => {
      try {
        sessionLimits({ maxPerOwner });
      } catch (error) {
        return error;
      }
    })();
    expect(thrown).toBeInstanceOf(McpOAuthConfigError);
    expect((thrown as McpOAuthConfigError).option).toBe("sessions.maxPerOwner");
  });

  it.each([1, 60_000, 2 ** 31 - 1, Infinity])("accepts idleTimeoutMs %p", (idleTimeoutMs) => {
    expect(sessionLimits({ idleTimeoutMs }).idleTimeoutMs).toBe(idleTimeoutMs);
  });

  it.each([0, -5, 2.5, 2 ** 31, NaN, -Infinity])("refuses idleTimeoutMs %p, naming the option", (idleTimeoutMs) => {
    const thrown = (() => {
      try {
        sessionLimits({ idleTimeoutMs });
      } catch (error) {
        return error;
      }
    })();
    expect(thrown).toBeInstanceOf(McpOAuthConfigError);
    expect((thrown as McpOAuthConfigError).option).toBe("sessions.idleTimeoutMs");
  });
});

describe("SessionRegistry", () => {
  let closed: string[];
  const registry = (maxPerOwner = 2, idleTimeoutMs = IDLE_MS): SessionRegistry =>
    new SessionRegistry({ maxPerOwner, idleTimeoutMs }, async (sessionId) => {
      closed.push(sessionId);
    });

  beforeEach(() => {
    closed = [];
    jest.useFakeTimers();
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  it("binds a session to the owner of the request that opened it, once", () => {
    const sessions = registry();
    sessions.bind("s1", "alice", POST)();
    expect(sessions.ownerOf("s1")).toBe("alice");
    expect(sessions.size).toBe(1);
    // Bound again (by anyone): nothing changes, and its end does nothing.
    sessions.bind("s1", "mallory", POST)();
    expect(sessions.ownerOf("s1")).toBe("alice");
    expect(sessions.size).toBe(1);
    expect(sessions.ownerOf("nobody's")).toBeUndefined();
  });

  it("past maxPerOwner, closes the owner's least recently used session, never another owner's", () => {
    const sessions = registry(2);
    sessions.bind("a1", "alice", POST)();
    sessions.bind("b1", "bob", POST)();
    sessions.bind("a2", "alice", POST)();
    expect(closed).toEqual([]);
    sessions.bind("a3", "alice", POST)();
    expect(closed).toEqual(["a1"]);
    expect(sessions.ownerOf("a1")).toBeUndefined();
    expect([sessions.ownerOf("a2"), sessions.ownerOf("a3"), sessions.ownerOf("b1")]).toEqual(["alice", "alice", "bob"]);
    expect(sessions.size).toBe(3);
  });

  it("keeps the owner's sessions in use order: a used session is the last to go", () => {
    const sessions = registry(2);
    sessions.bind("a1", "alice", POST)();
    sessions.bind("a2", "alice", POST)();
    sessions.begin("a1", POST)();
    sessions.bind("a3", "alice", POST)();
    expect(closed).toEqual(["a2"]);
    expect(sessions.ownerOf("a1")).toBe("alice");
  });

  it("with maxPerOwner 1, the opener's new session replaces their last one", () => {
    const sessions = registry(1);
    sessions.bind("a1", "alice", POST)();
    sessions.bind("a2", "alice", POST)();
    sessions.bind("a3", "alice", POST)();
    expect(closed).toEqual(["a1", "a2"]);
    expect(sessions.ownerOf("a3")).toBe("alice");
    expect(sessions.size).toBe(1);
  });

  it("an evicted session stops being its owner's at once, and closes once no request of it waits for an answer", () => {
    const sessions = registry(1);
    sessions.bind("a1", "alice", POST)();
    const post1 = sessions.begin("a1", POST);
    const post2 = sessions.begin("a1", POST);
    const stream = sessions.begin("a1", GET);
    sessions.bind("a2", "alice", POST)();
    expect(sessions.ownerOf("a1")).toBeUndefined();
    expect(closed).toEqual([]);
    post1();
    expect(closed).toEqual([]);
    // The same end twice counts once.
    post1();
    expect(closed).toEqual([]);
    post2();
    expect(closed).toEqual(["a1"]);
    // An event stream owes no answer and closes with the session; its end closes nothing again.
    stream();
    expect(closed).toEqual(["a1"]);
  });

  it("an evicted session with only an event stream open closes at once, and only once", () => {
    const sessions = registry(1);
    sessions.bind("a1", "alice", POST)();
    const stream = sessions.begin("a1", GET);
    sessions.bind("a2", "alice", POST)();
    expect(closed).toEqual(["a1"]);
    stream();
    expect(closed).toEqual(["a1"]);
  });

  it("the opening request holds its session open while evicted, until it is answered", () => {
    const sessions = registry(1);
    const opening = sessions.bind("a1", "alice", POST);
    sessions.bind("a2", "alice", POST)();
    expect(closed).toEqual([]);
    opening();
    expect(closed).toEqual(["a1"]);
  });

  it("closes a session idle for idleTimeoutMs, not a millisecond before", () => {
    const sessions = registry(5);
    sessions.bind("a1", "alice", POST)();
    jest.advanceTimersByTime(IDLE_MS - 1);
    expect(closed).toEqual([]);
    expect(sessions.ownerOf("a1")).toBe("alice");
    jest.advanceTimersByTime(1);
    expect(closed).toEqual(["a1"]);
    expect(sessions.ownerOf("a1")).toBeUndefined();
    expect(sessions.size).toBe(0);
  });

  it("counts idle time from the end of the last request in flight", () => {
    const sessions = registry(5);
    sessions.bind("a1", "alice", POST)();
    jest.advanceTimersByTime(IDLE_MS - 10);
    const first = sessions.begin("a1", POST);
    const second = sessions.begin("a1", GET);
    jest.advanceTimersByTime(IDLE_MS * 5);
    expect(closed).toEqual([]);
    first();
    // One request still in flight: not idle.
    jest.advanceTimersByTime(IDLE_MS * 5);
    expect(closed).toEqual([]);
    // The same end again does not end the other request.
    first();
    jest.advanceTimersByTime(IDLE_MS * 5);
    expect(closed).toEqual([]);
    second();
    jest.advanceTimersByTime(IDLE_MS - 1);
    expect(closed).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(closed).toEqual(["a1"]);
  });

  it("a request that starts while the session is idle stops its clock", () => {
    const sessions = registry(5);
    sessions.bind("a1", "alice", POST)();
    jest.advanceTimersByTime(IDLE_MS - 1);
    const request = sessions.begin("a1", POST);
    jest.advanceTimersByTime(IDLE_MS * 3);
    expect(closed).toEqual([]);
    request();
    jest.advanceTimersByTime(IDLE_MS - 1);
    expect(closed).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(closed).toEqual(["a1"]);
  });

  it("never closes an idle session when idleTimeoutMs is Infinity", () => {
    const sessions = registry(5, Infinity);
    sessions.bind("a1", "alice", POST)();
    sessions.begin("a1", POST)();
    jest.advanceTimersByTime(2 ** 31);
    expect(jest.getTimerCount()).toBe(0);
    expect(closed).toEqual([]);
    expect(sessions.ownerOf("a1")).toBe("alice");
  });

  it("an idle session's timer keeps no process alive", () => {
    jest.useRealTimers();
    const sessions = registry(5);
    const timers: NodeJS.Timeout[] = [];
    const setTimer = globalThis.setTimeout;
    const spy = jest.spyOn(globalThis, "setTimeout").mockImplementation(((...args: Parameters<typeof setTimeout>) => {
      const timer = setTimer(...args);
      timers.push(timer);
      return timer;
    }) as typeof setTimeout);
    try {
      sessions.bind("a1", "alice", POST)();
    } finally {
      spy.mockRestore();
    }
    expect(timers.map((timer) => timer.hasRef())).toEqual([false]);
    sessions.release("a1");
  });

  it("forgets a session the framework released: no owner, no timer, no room taken", () => {
    const sessions = registry(2);
    sessions.bind("a1", "alice", POST)();
    sessions.bind("a2", "alice", POST)();
    expect(jest.getTimerCount()).toBe(2);
    sessions.release("a1");
    // Its idle clock is stopped with it, not left to fire on nothing.
    expect(jest.getTimerCount()).toBe(1);
    expect(sessions.owners).toBe(1);
    sessions.release("a2");
    expect(jest.getTimerCount()).toBe(0);
    expect(sessions.size).toBe(0);
    // An owner with no session left takes no room either.
    expect(sessions.owners).toBe(0);
    expect(sessions.ownerOf("a1")).toBeUndefined();
    jest.advanceTimersByTime(IDLE_MS * 2);
    // Released, not evicted: the framework already closed it.
    expect(closed).toEqual([]);
    // The owner starts again from none: two new sessions fit.
    sessions.bind("a3", "alice", POST)();
    sessions.bind("a4", "alice", POST)();
    expect(closed).toEqual([]);
    sessions.bind("a5", "alice", POST)();
    expect(closed).toEqual(["a3"]);
    // Unknown ids: nothing happens.
    sessions.release("never bound");
    sessions.begin("never bound", POST)();
    expect(sessions.size).toBe(2);
  });

  it("releasing one of an owner's sessions frees its room, and leaves the others bound", () => {
    const sessions = registry(2);
    sessions.bind("a1", "alice", POST)();
    sessions.bind("a2", "alice", POST)();
    sessions.release("a1");
    sessions.bind("a3", "alice", POST)();
    expect(closed).toEqual([]);
    expect([sessions.ownerOf("a2"), sessions.ownerOf("a3")]).toEqual(["alice", "alice"]);
  });

  it("a request of a released session that ends later starts no clock on the session now bound to its id", () => {
    const sessions = registry(5);
    sessions.bind("s", "alice", POST)();
    const late = sessions.begin("s", POST);
    sessions.release("s");
    sessions.bind("s", "bob", POST)();
    const busy = sessions.begin("s", GET);
    late();
    jest.advanceTimersByTime(IDLE_MS * 3);
    expect(closed).toEqual([]);
    expect(sessions.ownerOf("s")).toBe("bob");
    busy();
  });

  it("a failing close is swallowed: no unhandled rejection", async () => {
    const sessions = new SessionRegistry({ maxPerOwner: 1, idleTimeoutMs: IDLE_MS }, () =>
      Promise.reject(new Error("already gone")),
    );
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      sessions.bind("a1", "alice", POST)();
      sessions.bind("a2", "alice", POST)();
      jest.useRealTimers();
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
    expect(unhandled).toEqual([]);
  });
});

describe("trackSessions", () => {
  const transport = (): { router: () => SessionRouter; transport: FrameworkTransport; closed: string[] } => {
    let router: SessionRouter | undefined;
    const closed: string[] = [];
    return {
      router: () => router!,
      closed,
      transport: {
        closeSession: async (sessionId: string) => void closed.push(sessionId),
        routeSessions: (given: SessionRouter) => {
          router = given;
        },
      } as unknown as FrameworkTransport,
    };
  };

  it("binds an HTTP Stream session to the owner of the request that opened it, until that request's response ends", () => {
    jest.useFakeTimers();
    try {
      const { router, transport: framework, closed } = transport();
      const sessions = trackSessions(framework, { maxPerOwner: 1, idleTimeoutMs: IDLE_MS });
      const scope: { owner: string; onResponseEnd?: () => void } = { owner: "alice" };
      callerScope.run(scope, () => router().opened("s1", { send: async () => {} }));
      expect(sessions.ownerOf("s1")).toBe("alice");
      expect(typeof scope.onResponseEnd).toBe("function");
      // In use until the initialize is answered: no idle clock yet.
      jest.advanceTimersByTime(IDLE_MS * 2);
      expect(closed).toEqual([]);
      scope.onResponseEnd!();
      jest.advanceTimersByTime(IDLE_MS);
      expect(closed).toEqual(["s1"]);
    } finally {
      jest.useRealTimers();
    }
  });

  it("an opening request owes its answer: the session it opened, evicted meanwhile, closes once that is answered", () => {
    const { router, transport: framework, closed } = transport();
    trackSessions(framework, { maxPerOwner: 1, idleTimeoutMs: IDLE_MS });
    const first: { owner: string; onResponseEnd?: () => void } = { owner: "alice" };
    const second: { owner: string; onResponseEnd?: () => void } = { owner: "alice" };
    callerScope.run(first, () => router().opened("s1", { send: async () => {} }));
    // Alice's second session replaces the first while its initialize is still unanswered.
    callerScope.run(second, () => router().opened("s2", { send: async () => {} }));
    expect(closed).toEqual([]);
    first.onResponseEnd!();
    expect(closed).toEqual(["s1"]);
    second.onResponseEnd!();
    expect(closed).toEqual(["s1"]);
  });

  it("leaves a session opened other than through the bridge nobody's, and forgets a closed one", () => {
    const { router, transport: framework } = transport();
    const sessions = trackSessions(framework, DEFAULT_SESSION_LIMITS);
    router().opened("outside", { send: async () => {} });
    callerScope.run({ owner: undefined }, () => router().opened("ownerless", { send: async () => {} }));
    expect(sessions.size).toBe(0);
    callerScope.run({ owner: "alice" }, () => router().opened("s1", { send: async () => {} }));
    expect(sessions.size).toBe(1);
    router().closed("s1");
    expect(sessions.size).toBe(0);
    expect(sessions.ownerOf("s1")).toBeUndefined();
  });

  it("routes the framework's messages through the session isolation", async () => {
    const { router, transport: framework } = transport();
    trackSessions(framework, DEFAULT_SESSION_LIMITS);
    const sent: unknown[] = [];
    const session = { send: async (message: unknown) => void sent.push(message), onmessage: undefined };
    callerScope.run({ owner: "alice" }, () => router().opened("s1", session));
    // A notification sent outside any session's message reaches every session.
    await router().send({ jsonrpc: "2.0", method: "notifications/tools/list_changed" });
    expect(sent).toEqual([{ jsonrpc: "2.0", method: "notifications/tools/list_changed" }]);
    router().closed("s1");
    await router().send({ jsonrpc: "2.0", method: "notifications/tools/list_changed" });
    expect(sent).toHaveLength(1);
  });

  it("binds nothing on a transport whose sessions the bridge binds itself (SSE)", () => {
    const sessions = trackSessions(
      { closeSession: async () => {} } as unknown as FrameworkTransport,
      DEFAULT_SESSION_LIMITS,
    );
    expect(sessions.size).toBe(0);
    sessions.bind("sse-1", "alice", GET);
    expect(sessions.ownerOf("sse-1")).toBe("alice");
  });
});

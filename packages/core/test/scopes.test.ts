/**
 * Scopes: reading them from claims, scope hierarchies and the MCP-aware policy.
 */
import { describe, expect, it } from "@jest/globals";
import { McpOAuthConfigError } from "../src/errors.js";
import {
  compileScopeHierarchy,
  compileScopePolicy,
  isValidScopeToken,
  policyIsEmpty,
  scopesForJsonRpc,
  scopesFromClaims,
  splitScopes,
  type McpScopePolicy,
} from "../src/scopes.js";

const sorted = (values: Iterable<string>): string[] => [...values].sort();

describe("scopesFromClaims", () => {
  it("reads a space-separated scope string, tolerating repeated whitespace", () => {
    expect(scopesFromClaims({ scope: "mcp:read  mcp:write\tfiles:read " })).toEqual([
      "mcp:read",
      "mcp:write",
      "files:read",
    ]);
  });

  it("reads an scp string (Entra ID)", () => {
    expect(scopesFromClaims({ scp: "Files.Read User.Read" })).toEqual(["Files.Read", "User.Read"]);
  });

  it("reads an scp array (Okta), skipping non-strings and empty entries", () => {
    expect(scopesFromClaims({ scp: ["mcp:read", 7, "", null, "mcp:write"] })).toEqual(["mcp:read", "mcp:write"]);
  });

  it("merges scope and scp without duplicates", () => {
    expect(scopesFromClaims({ scope: "a b", scp: ["b", "c"] })).toEqual(["a", "b", "c"]);
    expect(scopesFromClaims({ scope: "a", scp: "a d" })).toEqual(["a", "d"]);
  });

  it("returns nothing without scope claims or with unusable ones", () => {
    expect(scopesFromClaims({})).toEqual([]);
    expect(scopesFromClaims({ scope: "" })).toEqual([]);
    expect(scopesFromClaims({ scope: 42, scp: { a: 1 } })).toEqual([]);
  });

  it("does not read other claims", () => {
    expect(scopesFromClaims({ scopes: "a", roles: ["admin"], permissions: ["b"] })).toEqual([]);
  });
});

describe("splitScopes and isValidScopeToken", () => {
  it("splits on any whitespace and drops empty entries", () => {
    expect(splitScopes("  a \n b  ")).toEqual(["a", "b"]);
    expect(splitScopes("")).toEqual([]);
  });

  it.each(["mcp:read", "a", "!#[]~", "Files.Read.All", "https://graph.microsoft.com/.default"])(
    "accepts %j",
    (scope) => {
      expect(isValidScopeToken(scope)).toBe(true);
    },
  );

  it.each(["", "a b", 'a"b', "a\\b", "é", "a\tb", "a\x7f"])("refuses %j", (scope) => {
    expect(isValidScopeToken(scope)).toBe(false);
  });
});

describe("compileScopeHierarchy", () => {
  it("returns the granted scopes unchanged without a hierarchy", () => {
    expect(sorted(compileScopeHierarchy(undefined)(["b", "a"]))).toEqual(["a", "b"]);
    expect(sorted(compileScopeHierarchy({})(["a"]))).toEqual(["a"]);
  });

  it("expands transitively and keeps the granted scope", () => {
    const expand = compileScopeHierarchy({ "mcp:admin": ["mcp:write"], "mcp:write": ["mcp:read"] });
    expect(sorted(expand(["mcp:admin"]))).toEqual(["mcp:admin", "mcp:read", "mcp:write"]);
    expect(sorted(expand(["mcp:write"]))).toEqual(["mcp:read", "mcp:write"]);
    expect(sorted(expand(["mcp:read"]))).toEqual(["mcp:read"]);
  });

  it("never expands upwards", () => {
    const expand = compileScopeHierarchy({ "mcp:admin": ["mcp:write"] });
    expect(expand(["mcp:write"]).has("mcp:admin")).toBe(false);
  });

  it("handles cycles without looping", () => {
    const expand = compileScopeHierarchy({ a: ["b"], b: ["c"], c: ["a"], self: ["self"] });
    expect(sorted(expand(["b"]))).toEqual(["a", "b", "c"]);
    expect(sorted(expand(["self"]))).toEqual(["self"]);
  });

  it("unions the expansions of several granted scopes and keeps unknown ones", () => {
    const expand = compileScopeHierarchy({ admin: ["write"], files: ["files:read"] });
    expect(sorted(expand(["admin", "files", "other"]))).toEqual(["admin", "files", "files:read", "other", "write"]);
  });

  it("treats scope names that are Object.prototype keys as plain scopes", () => {
    const expand = compileScopeHierarchy({ admin: ["constructor", "toString", "__proto__"] });
    expect(sorted(expand(["admin"]))).toEqual(["__proto__", "admin", "constructor", "toString"]);
    expect(sorted(expand(["valueOf"]))).toEqual(["valueOf"]);
  });

  it("expands a JSON-parsed hierarchy whose own key is __proto__", () => {
    const expand = compileScopeHierarchy(JSON.parse('{"__proto__":["mcp:read"]}') as Record<string, string[]>);
    expect(sorted(expand(["__proto__"]))).toEqual(["__proto__", "mcp:read"]);
    expect(sorted(expand(["mcp:read"]))).toEqual(["mcp:read"]);
  });
});

describe("scopesForJsonRpc", () => {
  const policy: McpScopePolicy = {
    methods: { "tools/call": ["mcp:tools"], "resources/list": ["mcp:resources"], "tools/list": [] },
    tools: { delete_file: ["files:write"], read_file: ["files:read"], dual: ["files:read", "files:write"] },
    prompts: { secret_prompt: ["prompts:secret"] },
    resources: { "file:///etc/secret": ["files:secret"] },
  };
  const call = (name: unknown) => ({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name, arguments: {} } });

  it("maps a method", () => {
    expect(scopesForJsonRpc(policy, { jsonrpc: "2.0", id: 1, method: "resources/list" })).toEqual(["mcp:resources"]);
  });

  it("needs nothing for a method without an entry or with an empty one", () => {
    expect(scopesForJsonRpc(policy, { jsonrpc: "2.0", id: 1, method: "ping" })).toEqual([]);
    expect(scopesForJsonRpc(policy, { jsonrpc: "2.0", id: 1, method: "tools/list" })).toEqual([]);
  });

  it("adds the tool's scopes to the method's for tools/call", () => {
    expect(scopesForJsonRpc(policy, call("delete_file"))).toEqual(["mcp:tools", "files:write"]);
    expect(scopesForJsonRpc(policy, call("unknown_tool"))).toEqual(["mcp:tools"]);
    expect(scopesForJsonRpc(policy, call("dual"))).toEqual(["mcp:tools", "files:read", "files:write"]);
  });

  it("reads tool names only for tools/call", () => {
    expect(scopesForJsonRpc(policy, { method: "tools/list", params: { name: "delete_file" } })).toEqual([]);
    expect(scopesForJsonRpc(policy, { method: "prompts/get", params: { name: "delete_file" } })).toEqual([]);
  });

  it("maps prompts/get by prompt name", () => {
    expect(scopesForJsonRpc(policy, { method: "prompts/get", params: { name: "secret_prompt" } })).toEqual([
      "prompts:secret",
    ]);
    expect(scopesForJsonRpc(policy, { method: "tools/call", params: { name: "secret_prompt" } })).toEqual([
      "mcp:tools",
    ]);
  });

  it.each(["resources/read", "resources/subscribe", "resources/unsubscribe"])("maps %s by resource URI", (method) => {
    expect(scopesForJsonRpc(policy, { method, params: { uri: "file:///etc/secret" } })).toEqual(["files:secret"]);
    expect(scopesForJsonRpc(policy, { method, params: { uri: "file:///etc/other" } })).toEqual([]);
  });

  describe("completion/complete: the completer is the referenced prompt's or resource's code", () => {
    const complete = (ref: unknown) => ({
      jsonrpc: "2.0",
      id: 1,
      method: "completion/complete",
      params: { ref, argument: { name: "a", value: "" } },
    });

    it("needs a prompt's scopes for ref/prompt, by the exact name", () => {
      expect(scopesForJsonRpc(policy, complete({ type: "ref/prompt", name: "secret_prompt" }))).toEqual([
        "prompts:secret",
      ]);
      expect(scopesForJsonRpc(policy, complete({ type: "ref/prompt", name: "other" }))).toEqual([]);
      expect(scopesForJsonRpc(policy, complete({ type: "ref/prompt", name: "delete_file" }))).toEqual([]);
    });

    it("needs a resource's scopes for ref/resource, by the URI as routed, and every resource scope for one that does not parse", () => {
      expect(scopesForJsonRpc(policy, complete({ type: "ref/resource", uri: "file:///etc/secret" }))).toEqual([
        "files:secret",
      ]);
      expect(scopesForJsonRpc(policy, complete({ type: "ref/resource", uri: "FILE:///etc/x/../secret" }))).toEqual([
        "files:secret",
      ]);
      expect(scopesForJsonRpc(policy, complete({ type: "ref/resource", uri: "file:///etc/{name}" }))).toEqual([]);
      expect(scopesForJsonRpc(policy, complete({ type: "ref/resource", uri: "secret" }))).toEqual(["files:secret"]);
      expect(scopesForJsonRpc(policy, complete({ type: "ref/resource" }))).toEqual(["files:secret"]);
    });

    it("needs nothing for another ref type, a missing ref or non-object params, and reads ref only for completion/complete", () => {
      expect(scopesForJsonRpc(policy, complete({ type: "ref/tool", name: "secret_prompt" }))).toEqual([]);
      expect(scopesForJsonRpc(policy, complete(undefined))).toEqual([]);
      expect(scopesForJsonRpc(policy, complete("ref/prompt"))).toEqual([]);
      expect(scopesForJsonRpc(policy, { method: "completion/complete" })).toEqual([]);
      expect(scopesForJsonRpc(policy, { method: "completion/complete", params: 7 })).toEqual([]);
      expect(scopesForJsonRpc(policy, { method: "completion/complete", params: null })).toEqual([]);
      expect(
        scopesForJsonRpc(policy, {
          method: "prompts/list",
          params: { ref: { type: "ref/prompt", name: "secret_prompt" } },
        }),
      ).toEqual([]);
    });
  });

  describe("subscriptions/listen (MCP 2026-07-28): its resourceSubscriptions are resources/subscribe's URIs", () => {
    const listen = (notifications: unknown) => ({
      jsonrpc: "2.0",
      id: 1,
      method: "subscriptions/listen",
      params: { notifications },
    });

    it("needs the scopes of every URI it subscribes to, compared as routed", () => {
      expect(scopesForJsonRpc(policy, listen({ resourceSubscriptions: ["file:///etc/secret"] }))).toEqual([
        "files:secret",
      ]);
      expect(
        scopesForJsonRpc(policy, listen({ resourceSubscriptions: ["file:///etc/other", "FILE:///etc/secret"] })),
      ).toEqual(["files:secret"]);
      expect(scopesForJsonRpc(policy, listen({ resourceSubscriptions: ["file:///etc/other"] }))).toEqual([]);
    });

    it("needs every resource scope for a URI the parser refuses or that is no string", () => {
      expect(scopesForJsonRpc(policy, listen({ resourceSubscriptions: ["secret"] }))).toEqual(["files:secret"]);
      expect(scopesForJsonRpc(policy, listen({ resourceSubscriptions: [7] }))).toEqual(["files:secret"]);
      // A list whose string form is a URL of another resource is still no string.
      expect(scopesForJsonRpc(policy, listen({ resourceSubscriptions: [["file:///etc/other"]] }))).toEqual([
        "files:secret",
      ]);
    });

    it("needs nothing for list-changed filters only, no filter, or no params", () => {
      expect(scopesForJsonRpc(policy, listen({ toolsListChanged: true, resourcesListChanged: true }))).toEqual([]);
      expect(scopesForJsonRpc(policy, listen({ resourceSubscriptions: [] }))).toEqual([]);
      expect(scopesForJsonRpc(policy, listen(undefined))).toEqual([]);
      expect(scopesForJsonRpc(policy, { method: "subscriptions/listen" })).toEqual([]);
      expect(scopesForJsonRpc(policy, listen(null))).toEqual([]);
      expect(scopesForJsonRpc(policy, { method: "subscriptions/listen", params: null })).toEqual([]);
    });

    it("reads resourceSubscriptions only for subscriptions/listen", () => {
      const notifications = { resourceSubscriptions: ["file:///etc/secret"] };
      expect(scopesForJsonRpc(policy, { method: "resources/list", params: { notifications } })).toEqual(
        scopesForJsonRpc(policy, { method: "resources/list" }),
      );
    });
  });

  it("needs the union of a batch's messages, without duplicates", () => {
    const batch = [
      call("read_file"),
      call("delete_file"),
      { jsonrpc: "2.0", id: 3, method: "resources/read", params: { uri: "file:///etc/secret" } },
      call("read_file"),
    ];
    expect(sorted(scopesForJsonRpc(policy, batch))).toEqual(["files:read", "files:secret", "files:write", "mcp:tools"]);
  });

  it.each<[string, unknown]>([
    ["null", null],
    ["undefined", undefined],
    ["a number", 42],
    ["a string", "tools/call"],
    ["an empty batch", []],
    ["a batch of non-objects", [null, 1, "tools/call", true]],
    ["a nested batch", [[call("delete_file")]]],
    ["a non-string method", { method: 7, params: { name: "delete_file" } }],
    ["a response", { jsonrpc: "2.0", id: 1, result: { method: "tools/call" } }],
  ])("ignores %s", (_label, body) => {
    expect(scopesForJsonRpc(policy, body)).toEqual([]);
  });

  it("needs the method's scopes for a tools/call without params", () => {
    expect(scopesForJsonRpc(policy, { jsonrpc: "2.0", id: 1, method: "tools/call" })).toEqual(["mcp:tools"]);
    expect(scopesForJsonRpc(policy, { method: "prompts/get" })).toEqual([]);
  });

  it("reads resource URIs only for the resources methods", () => {
    expect(scopesForJsonRpc(policy, { method: "tools/list", params: { uri: "file:///etc/secret" } })).toEqual([]);
    expect(scopesForJsonRpc(policy, { method: "prompts/get", params: { uri: "file:///etc/secret" } })).toEqual([]);
  });

  it('never reads a missing or non-string name as the entry named "undefined"', () => {
    const named: McpScopePolicy = { tools: { undefined: ["files:write"] } };
    expect(scopesForJsonRpc(named, call(7))).toEqual([]);
    expect(scopesForJsonRpc(named, { method: "tools/call", params: {} })).toEqual([]);
    expect(scopesForJsonRpc(named, call("undefined"))).toEqual(["files:write"]);
  });

  it("ignores non-object params and non-string names", () => {
    expect(scopesForJsonRpc(policy, { method: "tools/call", params: "delete_file" })).toEqual(["mcp:tools"]);
    expect(scopesForJsonRpc(policy, { method: "tools/call", params: null })).toEqual(["mcp:tools"]);
    expect(scopesForJsonRpc(policy, call(["delete_file"]))).toEqual(["mcp:tools"]);
    expect(scopesForJsonRpc(policy, call({ toString: () => "delete_file" }))).toEqual(["mcp:tools"]);
  });

  it.each(["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf", "__defineGetter__"])(
    "treats the prototype key %j as an unknown name everywhere",
    (key) => {
      expect(scopesForJsonRpc(policy, call(key))).toEqual(["mcp:tools"]);
      expect(scopesForJsonRpc(policy, { method: "prompts/get", params: { name: key } })).toEqual([]);
      expect(scopesForJsonRpc(policy, { method: key, params: {} })).toEqual([]);
      expect(scopesForJsonRpc({}, call(key))).toEqual([]);
    },
  );

  it("works with a JSON-parsed body that has an own __proto__ key", () => {
    const body: unknown = JSON.parse(
      '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"__proto__":{"name":"delete_file"}}}',
    );
    expect(scopesForJsonRpc(policy, body)).toEqual(["mcp:tools"]);
  });

  it("adds what a custom function returns, per message", () => {
    const custom: McpScopePolicy = {
      custom: (m) => (m.method === "sampling/createMessage" ? ["mcp:sampling"] : undefined),
    };
    expect(scopesForJsonRpc(custom, { method: "sampling/createMessage" })).toEqual(["mcp:sampling"]);
    expect(scopesForJsonRpc(custom, [{ method: "ping" }, { method: "sampling/createMessage" }])).toEqual([
      "mcp:sampling",
    ]);
    expect(scopesForJsonRpc(custom, { method: "ping" })).toEqual([]);
  });

  it("asks the custom function only about messages with a string method", () => {
    const always: McpScopePolicy = { methods: { "7": ["mcp:seven"] }, custom: () => ["mcp:custom"] };
    expect(scopesForJsonRpc(always, { method: 7 })).toEqual([]);
    expect(scopesForJsonRpc(always, { id: 1, result: {} })).toEqual([]);
    expect(scopesForJsonRpc(always, { method: "7" })).toEqual(["mcp:seven", "mcp:custom"]);
  });
});

describe("scopesForJsonRpc: resource URIs as the MCP SDK routes them", () => {
  // The MCP SDK (v1 McpServer and v2 @modelcontextprotocol/server) finds the resource of a
  // resources/read by `new URL(uri).toString()`: every spelling that parses to a protected
  // resource's URL needs that resource's scopes.
  const policy: McpScopePolicy = {
    resources: {
      "config://secret": ["mcp:admin"],
      "file:///etc/secret.txt": ["mcp:admin"],
      "file:///etc/shadow": ["files:root"],
    },
  };
  const read = (uri: unknown) => ({ jsonrpc: "2.0", id: 1, method: "resources/read", params: { uri } });

  it.each([
    "config://secret",
    "CONFIG://secret",
    " config://secret",
    "config://secret\n",
    "conf\tig://secret",
    "con\nfig://secret",
    "FILE:///etc/secret.txt",
    "file:///etc/x/../secret.txt",
    "file:///etc/x/%2e%2E/secret.txt",
    "file:///etc/./secret.txt",
    "file://localhost/etc/secret.txt",
    "file://LOCALHOST/etc/secret.txt",
    "file:/etc/secret.txt",
    "file:etc/secret.txt",
    "file:\\\\\\etc\\secret.txt",
  ])("needs the protected resource's scopes for %j", (uri) => {
    expect(scopesForJsonRpc(policy, read(uri))).toEqual(["mcp:admin"]);
    expect(scopesForJsonRpc(policy, { method: "resources/subscribe", params: { uri } })).toEqual(["mcp:admin"]);
    expect(scopesForJsonRpc(policy, { method: "resources/unsubscribe", params: { uri } })).toEqual(["mcp:admin"]);
  });

  it.each([
    // Other resources by the SDK's reading too: a fragment, a query, another opaque host or path.
    "config://secret#x",
    "config://secret?",
    "config://secret/",
    "config://SECRET",
    "config://other",
    "file:///etc/secret.txt.bak",
    "file://otherhost/etc/secret.txt",
    "https://config/secret",
  ])("needs nothing extra for %j, which the SDK reads as another resource", (uri) => {
    expect(scopesForJsonRpc(policy, read(uri))).toEqual([]);
  });

  it.each<[string, unknown]>([
    ["a string the URL parser refuses", "secret"],
    ["a relative reference", "/etc/secret.txt"],
    ["an empty string", ""],
    ["a prototype key", "__proto__"],
    ["null", null],
    ["a number", 7],
    ["an array", ["config://secret"]],
    ["an object", { href: "config://secret" }],
  ])("needs every resource scope of the policy for %s", (_label, uri) => {
    expect(sorted(scopesForJsonRpc(policy, read(uri)))).toEqual(["files:root", "mcp:admin"]);
  });

  it("needs every resource scope for a resources call without a uri or without params", () => {
    expect(sorted(scopesForJsonRpc(policy, { method: "resources/read", params: {} }))).toEqual([
      "files:root",
      "mcp:admin",
    ]);
    expect(sorted(scopesForJsonRpc(policy, { method: "resources/subscribe" }))).toEqual(["files:root", "mcp:admin"]);
    expect(scopesForJsonRpc({ methods: { ping: ["x"] } }, { method: "resources/read" })).toEqual([]);
  });

  it("normalizes the policy's own keys the same way", () => {
    const spelled: McpScopePolicy = { resources: { "CONFIG://secret": ["mcp:admin"], "file:///a/../b": ["b"] } };
    expect(scopesForJsonRpc(spelled, read("config://secret"))).toEqual(["mcp:admin"]);
    expect(scopesForJsonRpc(spelled, read("file:///b"))).toEqual(["b"]);
    expect(scopesForJsonRpc(spelled, read("file:///a"))).toEqual([]);
  });

  it("keeps a key the URL parser refuses in what a refused URI needs, and matches nothing else with it", () => {
    // mcp-framework finds resources by the exact string: a key such as "notes" is reachable there.
    const notes: McpScopePolicy = { resources: { notes: ["notes:read"] } };
    expect(scopesForJsonRpc(notes, read("notes"))).toEqual(["notes:read"]);
    expect(scopesForJsonRpc(notes, read("NOTES"))).toEqual(["notes:read"]);
    expect(scopesForJsonRpc(notes, read("config://notes"))).toEqual([]);
    // Keys the parser refuses are never compared with each other: no conflict among them.
    const several: McpScopePolicy = { resources: { notes: ["notes:read"], drafts: ["drafts:read"] } };
    expect(() => compileScopePolicy(several)).not.toThrow();
    expect(sorted(scopesForJsonRpc(several, read("notes")))).toEqual(["drafts:read", "notes:read"]);
  });

  it("accepts keys that name one resource with the same scopes, in any order", () => {
    const same: McpScopePolicy = { resources: { "config://secret": ["a", "b"], "CONFIG://secret": ["b", "a", "a"] } };
    expect(() => compileScopePolicy(same)).not.toThrow();
    expect(sorted(scopesForJsonRpc(same, read("config://secret")))).toEqual(["a", "b"]);
  });

  it.each<[string, Record<string, string[]>]>([
    ["case", { "config://secret": ["mcp:admin"], "CONFIG://secret": ["mcp:read"] }],
    ["dot segments", { "file:///etc/secret.txt": ["mcp:admin"], "file:///etc/x/../secret.txt": [] }],
    ["file://localhost", { "file://localhost/etc/secret.txt": ["a"], "file:///etc/secret.txt": ["a", "b"] }],
    ["a trailing dot segment", { "config://x/y/.": ["a", "b"], "config://x/y/": ["a", "c"] }],
  ])("refuses at construction keys that differ only by %s and ask for other scopes", (_label, resources) => {
    const later = Object.keys(resources)[1]!;
    let error: unknown;
    try {
      compileScopePolicy({ resources });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(McpOAuthConfigError);
    expect((error as McpOAuthConfigError).option).toBe(`scopePolicy.resources.${later}`);
    expect((error as McpOAuthConfigError).message).toContain(Object.keys(resources)[0]!);
    expect((error as McpOAuthConfigError).message).toContain(new URL(later).href);
  });

  it("holds for docs/configuration.md's example resource file:///secret", () => {
    const documented: McpScopePolicy = { resources: { "file:///secret": ["files:secret"] } };
    for (const uri of [
      "file:///secret",
      "FILE:///secret",
      " file:///secret",
      "file:///x/../secret",
      "file:///%2e%2e/secret",
      "file://localhost/secret",
      "file:/secret",
      "secret",
    ]) {
      expect(scopesForJsonRpc(documented, read(uri))).toEqual(["files:secret"]);
    }
    expect(scopesForJsonRpc(documented, read("file:///secret#x"))).toEqual([]);
    expect(scopesForJsonRpc(documented, read("file:///secret/"))).toEqual([]);
  });

  it("compiles a policy without resources, or with an empty table, to nothing", () => {
    expect(() => compileScopePolicy({ tools: { write_note: ["mcp:write"] } })).not.toThrow();
    expect(() => compileScopePolicy({ resources: {} })).not.toThrow();
    expect(scopesForJsonRpc({ resources: {} }, read("anything"))).toEqual([]);
  });

  it("reads the resource table once: a later change to it changes nothing", () => {
    const resources: Record<string, string[]> = { "config://secret": ["mcp:admin"] };
    const live: McpScopePolicy = { resources };
    expect(scopesForJsonRpc(live, read("config://secret"))).toEqual(["mcp:admin"]);
    resources["config://secret"] = [];
    resources["config://other"] = ["x"];
    expect(scopesForJsonRpc(live, read("config://secret"))).toEqual(["mcp:admin"]);
    expect(scopesForJsonRpc(live, read("config://other"))).toEqual([]);
  });
});

describe("scopesForJsonRpc: tool and prompt names are compared exactly, as the MCP SDK and mcp-framework do", () => {
  // Both SDK generations look tools and prompts up by the exact `params.name`
  // (`_registeredTools[name]`), mcp-framework by `Map.get(name)`: another spelling reaches no tool.
  const policy: McpScopePolicy = { tools: { write_note: ["mcp:write"] }, prompts: { secret: ["mcp:admin"] } };
  it.each(["WRITE_NOTE", " write_note", "write_note ", "write_note\u0000", "write\u200Bnote", "write%5Fnote"])(
    "needs nothing for %j, a name no tool has",
    (name) => {
      expect(scopesForJsonRpc(policy, { method: "tools/call", params: { name } })).toEqual([]);
      expect(
        scopesForJsonRpc(policy, { method: "prompts/get", params: { name: name.replace("write_note", "secret") } }),
      ).toEqual([]);
    },
  );
});

describe("policyIsEmpty", () => {
  it("is true only when nothing can be required", () => {
    expect(policyIsEmpty(undefined)).toBe(true);
    expect(policyIsEmpty({})).toBe(true);
    expect(policyIsEmpty({ methods: {}, tools: {} })).toBe(true);
    expect(policyIsEmpty({ tools: { x: ["a"] } })).toBe(false);
    expect(policyIsEmpty({ custom: () => [] })).toBe(false);
  });
});

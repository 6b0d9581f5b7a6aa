/**
 * Scopes: reading them from claims, scope hierarchies and the MCP-aware policy.
 */
import { describe, expect, it } from "@jest/globals";
import {
  compileScopeHierarchy,
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
    expect(scopesForJsonRpc(policy, { method: "resources/read" })).toEqual([]);
  });

  it("reads resource URIs only for the resources methods", () => {
    expect(scopesForJsonRpc(policy, { method: "tools/list", params: { uri: "file:///etc/secret" } })).toEqual([]);
    expect(scopesForJsonRpc(policy, { method: "prompts/get", params: { uri: "file:///etc/secret" } })).toEqual([]);
  });

  it('never reads a missing or non-string name as the entry named "undefined"', () => {
    const named: McpScopePolicy = { tools: { undefined: ["files:write"] }, resources: { undefined: ["files:secret"] } };
    expect(scopesForJsonRpc(named, call(7))).toEqual([]);
    expect(scopesForJsonRpc(named, { method: "tools/call", params: {} })).toEqual([]);
    expect(scopesForJsonRpc(named, { method: "resources/read", params: { uri: null } })).toEqual([]);
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
      expect(scopesForJsonRpc(policy, { method: "resources/read", params: { uri: key } })).toEqual([]);
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

describe("policyIsEmpty", () => {
  it("is true only when nothing can be required", () => {
    expect(policyIsEmpty(undefined)).toBe(true);
    expect(policyIsEmpty({})).toBe(true);
    expect(policyIsEmpty({ methods: {}, tools: {} })).toBe(true);
    expect(policyIsEmpty({ tools: { x: ["a"] } })).toBe(false);
    expect(policyIsEmpty({ custom: () => [] })).toBe(false);
  });
});

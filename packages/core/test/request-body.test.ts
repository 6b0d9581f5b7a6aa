/** request-body.ts: which bodies are judged as JSON, which are refused before anything is decided. */
import { describe, expect, it } from "@jest/globals";
import { McpOAuthError } from "@mcp-oauth/core";
import { assertPlainUtf8, isJsonMediaType, parseJsonBody, parseJsonText } from "@mcp-oauth/core/internal";

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (error) {
    return error instanceof McpOAuthError ? error.code : `not an McpOAuthError: ${String(error)}`;
  }
};

describe("isJsonMediaType", () => {
  it.each([
    "application/json",
    "Application/JSON",
    "application/json; charset=utf-8",
    "application/json ; charset=utf-8",
    "application/vnd.api+json",
  ])("%s is JSON", (type) => expect(isJsonMediaType(type)).toBe(true));

  it.each([undefined, "", "  ", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"])(
    "%j is no JSON message",
    (type) => expect(isJsonMediaType(type)).toBe(false),
  );

  it.each(["text/plain; x=application/json", "text/json", "application/jsonx", "application/json-patch"])(
    "%s only mentions JSON: unsupported_media_type",
    (type) => expect(codeOf(() => isJsonMediaType(type))).toBe("unsupported_media_type"),
  );
});

describe("assertPlainUtf8", () => {
  it.each([
    [undefined, undefined],
    ["application/json", undefined],
    ["application/json; charset=utf-8", "identity"],
    ['application/json; charset="UTF-8"', ""],
    ["application/json;charset=utf8", "IDENTITY"],
    ["application/json; boundary=x", undefined],
    // Spaces around "=" and a quoted value, as the hosts' content-type parser reads them.
    ['application/json; charset = "utf-8"', undefined],
  ])("%j with Content-Encoding %j is plain UTF-8", (type, encoding) => {
    expect(codeOf(() => assertPlainUtf8(type, encoding))).toBeUndefined();
  });

  it.each([
    ["application/json; charset=utf-7", undefined],
    ["application/json; charset=UTF-16LE", undefined],
    ["application/json; charset=latin1", undefined],
    ["application/json; charset=utf-8; charset=utf-7", undefined],
    ["application/json; charset = utf-7", undefined],
    ['application/json; charset="utf\\-8"', undefined],
    ["application/json; charset=", undefined],
    ['application/json; charset=""', undefined],
    ['application/json; charset="', undefined],
    // No "=": a parameter named charset with no value.
    ["application/json; charset", undefined],
    // A quote on one side only is part of the value.
    ['application/json; charset="utf-8x', undefined],
    ['application/json; charset=xutf-8"', undefined],
    ["application/json", "gzip"],
    ["application/json", "deflate"],
    ["application/json", "br"],
    ["application/json", "identity, gzip"],
  ])("%j with Content-Encoding %j: unsupported_media_type", (type, encoding) => {
    expect(codeOf(() => assertPlainUtf8(type, encoding))).toBe("unsupported_media_type");
  });
});

describe("a header value that is no string (a host's own headers object)", () => {
  it("is no Content-Type, and a Content-Encoding that cannot be read is refused", () => {
    expect(isJsonMediaType(["application/json"])).toBe(false);
    expect(codeOf(() => assertPlainUtf8(["application/json; charset=utf-7"], undefined))).toBeUndefined();
    expect(codeOf(() => assertPlainUtf8("application/json", ["gzip"]))).toBe("unsupported_media_type");
    expect(codeOf(() => assertPlainUtf8("application/json", 0))).toBe("unsupported_media_type");
  });
});

describe("parseJsonBody", () => {
  const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

  it("reads UTF-8 and drops one leading BOM, as the hosts' readers do", () => {
    expect(parseJsonBody(bytes('{"a":"é"}'))).toEqual({ a: "é" });
    expect(parseJsonBody(bytes('\uFEFF{"a":1}'))).toEqual({ a: 1 });
    expect(codeOf(() => parseJsonBody(bytes('\uFEFF\uFEFF{"a":1}')))).toBe("body_invalid");
  });

  it("keeps the last of duplicate keys, as JSON.parse in every host does", () => {
    expect(parseJsonBody(bytes('{"name":"whoami","name":"write_note"}'))).toEqual({ name: "write_note" });
  });

  it("says why in the error's cause: the decoder's or the parser's error", () => {
    const causeOf = (fn: () => unknown): unknown => {
      try {
        fn();
      } catch (error) {
        // By name: the decoder's TypeError comes from another realm than the test's.
        return ((error as Error).cause as Error | undefined)?.name;
      }
      return undefined;
    };
    expect(causeOf(() => parseJsonBody(Uint8Array.from([0x7b, 0xff, 0x7d])))).toBe("TypeError");
    expect(causeOf(() => parseJsonBody(bytes("{nope")))).toBe("SyntaxError");
    expect(causeOf(() => parseJsonText("{nope"))).toBe("SyntaxError");
  });

  it("refuses bytes that are not UTF-8, and text that is not JSON", () => {
    expect(codeOf(() => parseJsonBody(Uint8Array.from([0x7b, 0xff, 0x7d])))).toBe("body_invalid");
    expect(codeOf(() => parseJsonBody(bytes("{nope")))).toBe("body_invalid");
    expect(codeOf(() => parseJsonText("{nope"))).toBe("body_invalid");
  });
});
